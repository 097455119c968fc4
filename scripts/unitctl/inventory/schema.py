"""The shape of the five unit files, as plain Python data (see inventory/README.md).

Each kind of value knows how to check itself and says what is wrong in words a technician
understands, in the environment's language (unitctl.i18n: a kind's `rule`, `noun` and `subject`
are English marked with N_(), translated where a problem is worded). A schema never stops at the
first problem: `check` appends every issue it finds. Rules that need more than one value (a VLAN
used but not defined, duplicates, overlaps) live in validate.py.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

import jdatetime

from unitctl.i18n import N_, _, number
from unitctl.inventory.load import YamlPath

# A value a person still has to fill in (the new-unit skeleton uses it): it passes format checks
# for free text, keys and dates, and `unitctl validate` lists it as still to do.
PLACEHOLDER = "TODO"

Issue = tuple[YamlPath, str]


def describe(value: Any) -> str:
    """How a value looks to someone reading the YAML (the end of "..., but it is ___")."""
    if value is None:
        return _("empty")
    if isinstance(value, bool):
        return _("a yes/no value ({value})").format(value=str(value).lower())
    if isinstance(value, (int, float)):
        return _("a number ({value})").format(value=value)
    if isinstance(value, str):
        return _("text ('{value}')").format(value=value)
    if isinstance(value, list):
        return _("a list")
    if isinstance(value, dict):
        return _("a group of 'key: value' entries")
    return type(value).__name__


def quote_hint(value: Any) -> str:
    """Why YAML read an unquoted value as something else than text, and what to write instead
    (YAML 1.1, which Ansible and PyYAML read: yes/no/on/off are booleans, 52:54:00:25:41:12 is a
    base-60 number, 010 an octal one)."""
    if isinstance(value, bool):
        return _("; YAML reads an unquoted yes, no, on, off, true or false as a yes/no value: "
                 "if you mean the word, put it in quotes")
    if isinstance(value, (int, float)):
        return _("; YAML reads an unquoted value of digits and ':' (such as a MAC address) or with leading "
                 "zeros as a number: put the value in quotes, such as \"52:54:00:25:17:11\"")
    return ""


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """" (did you mean 'x'?)" with the choice closest to `word`, or "" when none is close."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return did_you_mean_hint(close[0]) if close else ""


def did_you_mean_hint(suggestion: str) -> str:
    """" (did you mean 'x'?)", to end a problem with."""
    return _(" (did you mean '{suggestion}'?)").format(suggestion=suggestion)


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PLACEHOLDER)


class Kind:
    """A kind of value; subclasses check one value and append issues."""

    def check(self, value: Any, path: YamlPath, issues: list[Issue]) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Kind):
    pattern: str | None = None
    rule: str = ""  # the pattern in plain words (English, N_())
    allow_number: bool = False  # e.g. an appointment number written without quotes

    def check(self, value, path, issues):
        accepted = (str, int) if self.allow_number else (str,)
        if isinstance(value, bool) or not isinstance(value, accepted):
            issues.append((path, _("should be text, but it is {value}{hint}").format(value=describe(value),
                                                                                     hint=quote_hint(value))))
        elif not str(value).strip():
            issues.append((path, _("is empty; write a value")))
        elif self.pattern and not re.fullmatch(self.pattern, str(value)):
            issues.append((path, _("'{value}' is not valid here: {rule}").format(value=value, rule=_(self.rule))))


@dataclass(frozen=True)
class OneOf(Kind):
    choices: tuple[str, ...]
    noun: str  # completes "'x' is not <noun>", e.g. "a known host function" (English, N_())

    def check(self, value, path, issues):
        if isinstance(value, bool):
            meant = "none" if not value and "none" in self.choices else ""
            issues.append((path, _("YAML read this as a yes/no value ({value}), which is not {noun}; an unquoted "
                                   "yes, no, on or off is a yes/no value in YAML. Choose one of: {choices}").format(
                                       value=str(value).lower(), noun=_(self.noun), choices=", ".join(self.choices))
                           + (did_you_mean_hint(meant) if meant else "")))
        elif value not in self.choices:
            issues.append(
                (path, _("'{value}' is not {noun}; choose one of: {choices}{hint}").format(
                    value=value, noun=_(self.noun), choices=", ".join(self.choices),
                    hint=did_you_mean(value, self.choices)))
            )


@dataclass(frozen=True)
class Integer(Kind):
    minimum: int | None = None
    maximum: int | None = None

    def check(self, value, path, issues):
        # YAML reads `yes`/`true` as booleans, and Python counts booleans as integers.
        if isinstance(value, bool) or not isinstance(value, int):
            issues.append((path, _("should be a whole number, but it is {value}").format(value=describe(value))))
        elif self.minimum is not None and self.maximum is not None and not self.minimum <= value <= self.maximum:
            issues.append((path, _("{value} is out of range: use a number from {minimum} to {maximum}").format(
                value=value, minimum=number(self.minimum), maximum=number(self.maximum))))
        elif self.minimum is not None and value < self.minimum:
            issues.append((path, _("must be at least {minimum}, but it is {value}").format(
                minimum=number(self.minimum), value=value)))


@dataclass(frozen=True)
class Number(Kind):
    positive: bool = False
    # A plausible range (inclusive) and its unit, for values a slip of the keyboard makes absurd
    # (270 for 27.0 °C): (lowest, highest, unit and why, as the message shows it, marked with N_()).
    plausible: tuple[float, float, str] | None = None

    def check(self, value, path, issues):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            issues.append((path, _("should be a number, but it is {value}").format(value=describe(value))))
        elif value != value or value in (float("inf"), float("-inf")):  # .nan, .inf
            issues.append((path, _("should be a number, but it is {value}; write a real number").format(value=value)))
        elif self.positive and value <= 0:
            issues.append((path, _("must be more than 0, but it is {value}").format(value=value)))
        elif self.plausible and not self.plausible[0] <= value <= self.plausible[1]:
            lowest, highest, meaning = self.plausible
            issues.append((path, _("must be between {lowest} and {highest} {meaning}, but it is {value}").format(
                lowest=number(lowest), highest=number(highest), meaning=_(meaning), value=value)))


@dataclass(frozen=True)
class Boolean(Kind):
    def check(self, value, path, issues):
        if not isinstance(value, bool):
            issues.append((path, _("should be true or false, but it is {value}").format(value=describe(value))))


@dataclass(frozen=True)
class Address(Kind):
    def check(self, value, path, issues):
        if not isinstance(value, str):
            issues.append((path, _("should be an IPv4 address such as 10.25.16.10, but it is {value}").format(
                value=describe(value))))
            return
        try:
            ipaddress.IPv4Address(value)
        except ValueError:
            parts = value.split(".")
            if len(parts) == 4 and all(part.isdigit() and int(part) <= 255 for part in parts):
                plain = ".".join(str(int(part)) for part in parts)
                issues.append((path, _("'{value}' has numbers with leading zeros, which some tools read as octal; "
                                       "did you mean '{plain}'?").format(value=value, plain=plain)))
            else:
                issues.append((path, _("'{value}' is not an IPv4 address: write four numbers from 0 to 255 "
                                       "separated by dots, such as 10.25.16.10").format(value=value)))


@dataclass(frozen=True)
class Subnet(Kind):
    def check(self, value, path, issues):
        if not isinstance(value, str) or "/" not in value:
            issues.append((path, _("should be a subnet such as 10.25.16.0/24, but it is {value}").format(
                value=describe(value))))
            return
        address, mask = value.split("/", 1)
        try:
            real = ipaddress.IPv4Network(value, strict=False)
        except ValueError:
            issues.append((path, _("'{value}' is not a subnet: write an address, '/' and a prefix length, "
                                   "such as 10.25.16.0/24").format(value=value)))
            return
        if "." in mask:  # 10.25.65.0/255.255.255.0: ipaddress would take it, the templates would not
            issues.append((path, _("'{value}' writes the mask in dotted form; write the prefix length instead: "
                                   "did you mean '{subnet}'?").format(value=value, subnet=real)))
        elif real.network_address != ipaddress.IPv4Address(address):
            issues.append((path, _("'{value}' is not the start of its subnet; did you mean '{subnet}'?").format(
                value=value, subnet=real)))


SSH_KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


@dataclass(frozen=True)
class SshPublicKey(Kind):
    def check(self, value, path, issues):
        if is_placeholder(value):
            return
        if not isinstance(value, str):
            issues.append((path, _("should be an SSH public key (one line, 'ssh-ed25519 AAAA... comment'), "
                                   "but it is {value}").format(value=describe(value))))
            return
        reason = ssh_key_problem(value)
        if reason:
            issues.append((path, reason))


# The fields after the type name in each key type's data (SSH wire format): RFC 4253 6.6 (RSA:
# e, n), RFC 8709 (Ed25519: the 32-byte key), RFC 5656 3.1 (ECDSA: curve, point), OpenSSH's
# PROTOCOL.u2f (security keys: the same plus the application).
SSH_KEY_FIELDS = {
    "ssh-ed25519": ("key",),
    "ssh-rsa": ("e", "n"),
    "ecdsa-sha2-nistp256": ("curve", "point"),
    "ecdsa-sha2-nistp384": ("curve", "point"),
    "ecdsa-sha2-nistp521": ("curve", "point"),
    "sk-ssh-ed25519@openssh.com": ("key", "application"),
    "sk-ecdsa-sha2-nistp256@openssh.com": ("curve", "point", "application"),
}
# NIST SP 800-131A Rev. 2: RSA keys shorter than 2048 bits are disallowed.
MIN_RSA_BITS = 2048


def _ssh_strings(blob: bytes) -> list[bytes] | None:
    """The length-prefixed strings of an SSH key blob, or None when the blob does not split into
    whole strings (cut short, or something appended)."""
    fields, offset = [], 0
    while offset < len(blob):
        if offset + 4 > len(blob):
            return None
        length = int.from_bytes(blob[offset:offset + 4], "big")
        if offset + 4 + length > len(blob):
            return None
        fields.append(blob[offset + 4:offset + 4 + length])
        offset += 4 + length
    return fields


def ssh_key_problem(line: str) -> str | None:
    """What is wrong with a public key line (one line of a .pub file), or None.

    Checks what copy-paste breaks (the type, base64, a line break inside the data), the key's
    structure for its type, and its strength: DSA keys are refused (OpenSSH disabled them in 7.0
    and removed them in 9.8), RSA keys under 2048 bits too (NIST SP 800-131A)."""
    parts = line.split()
    if parts and parts[0] == "ssh-dss":
        return _("this is a DSA key, which OpenSSH no longer accepts (disabled since 7.0, removed in 9.8); "
                 "make a new key with `ssh-keygen -t ed25519` and paste its .pub line")
    if not parts or parts[0] not in SSH_KEY_TYPES:
        kind = parts[0] if parts else ""
        if "PRIVATE KEY" in line:
            return _("this is a PRIVATE key: never put it in the inventory; paste the .pub file's line instead")
        return _("the key starts with '{start}', which is not an SSH key type; paste the whole line of the .pub "
                 "file, starting with one of: {types}").format(start=kind, types=", ".join(SSH_KEY_TYPES[:3]))
    if len(parts) < 2:
        return _("the key has the type '{type}' but no key data after it; paste the whole line of the .pub "
                 "file").format(type=parts[0])
    # A line break pasted inside the data leaves its second half where the comment goes.
    cut_in_two = len(parts) > 2 and re.fullmatch(r"[A-Za-z0-9+/]{8,}={0,2}", parts[2]) is not None
    cut_message = _("the key data is cut in two (a line break or a space was pasted inside it); paste the .pub "
                    "file's line again, all on one line")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return cut_message if cut_in_two else \
            _("the key data is damaged (not valid base64); paste the .pub file's line again, all on one line")
    fields = _ssh_strings(blob)
    if not fields or fields[0].decode("ascii", "replace") != parts[0]:
        if cut_in_two:
            return cut_message
        return _("the key data does not belong to a '{type}' key (it is cut short or mixed with another key); "
                 "paste the .pub file's line again").format(type=parts[0])
    if len(fields) != 1 + len(SSH_KEY_FIELDS[parts[0]]) or parts[0].endswith("ed25519") and len(fields[1]) != 32:
        return cut_message if cut_in_two else \
            _("the key data is incomplete for a '{type}' key; paste the .pub file's line again").format(type=parts[0])
    if parts[0] == "ssh-rsa":
        bits = int.from_bytes(fields[2], "big").bit_length()
        if bits < MIN_RSA_BITS:
            return _("this RSA key has {bits} bits; keys under {minimum} bits are refused (NIST SP 800-131A): "
                     "make a new key with `ssh-keygen -t ed25519` and paste its .pub line").format(
                         bits=number(bits), minimum=number(MIN_RSA_BITS))
    return None


@dataclass(frozen=True)
class JalaliDate(Kind):
    def check(self, value, path, issues):
        if is_placeholder(value):
            return
        match = re.fullmatch(r"(\d{4})/(\d{2})/(\d{2})", value) if isinstance(value, str) else None
        if not match:
            issues.append((path, _("should be a Jalali date written YYYY/MM/DD, such as 1387/07/01, "
                                   "but it is {value}").format(value=describe(value))))
            return
        year, month, day = (int(part) for part in match.groups())
        if year < 1300:  # the judiciary's computer centres date from the 1380s
            issues.append((path, _("{value} is not a plausible date: write the Jalali year in full, such as "
                                   "1387").format(value=value)))
            return
        if 1900 <= year <= 2100:  # a Gregorian date typed where a Jalali one belongs
            try:
                jalali = jdatetime.date.fromgregorian(year=year, month=month, day=day)
            except ValueError:
                pass
            else:
                issues.append((path, _("{value} looks like a Gregorian date; dates here are in the Jalali "
                                       "calendar: did you mean {jalali}?").format(
                                           value=value, jalali=jalali.strftime("%Y/%m/%d"))))
                return
        try:
            date = jdatetime.date(year, month, day)
        except ValueError:
            issues.append((path, _("{value} is not a real date in the Jalali calendar (months 1-6 have 31 days, "
                                   "7-11 have 30, Esfand has 29, or 30 in a leap year)").format(value=value)))
            return
        if date > jdatetime.date.today():
            issues.append((path, _("{value} is in the future; check the year").format(value=value)))


@dataclass(frozen=True)
class Field:
    kind: Kind
    required: bool = True


def required(kind: Kind) -> Field:
    return Field(kind, True)


def optional(kind: Kind) -> Field:
    return Field(kind, False)


@dataclass(frozen=True)
class ListOf(Kind):
    item: Kind

    def check(self, value, path, issues):
        if not isinstance(value, list):
            issues.append((path, _("should be a list (lines starting with '- '), but it is {value}").format(
                value=describe(value))))
            return
        for index, item in enumerate(value):
            self.item.check(item, path + (index,), issues)


def _check_fields(value: dict, fields: dict[str, Field], path: YamlPath, issues: list[Issue],
                  known_elsewhere: dict[str, str] | None = None) -> None:
    """Required fields present, known fields checked, unknown keys refused with a suggestion."""
    for name, spec in fields.items():
        present = value.get(name) is not None
        if spec.required and not present:
            issues.append((path + (name,), (_("'{key}' is required but missing") if name not in value
                                            else _("'{key}' is required but has no value")).format(key=name)))
        elif present:
            spec.kind.check(value[name], path + (name,), issues)
    for key in value:
        if key in fields:
            continue
        if known_elsewhere and key in known_elsewhere:
            issues.append((path + (key,), known_elsewhere[key]))
        else:
            hint = did_you_mean(key, tuple(fields)) or _("; allowed here: {keys}").format(keys=", ".join(fields))
            issues.append((path + (key,), _("unknown key '{key}'{hint}").format(key=key, hint=hint)))


@dataclass(frozen=True)
class Record(Kind):
    fields: dict[str, Field]

    def check(self, value, path, issues):
        if not isinstance(value, dict):
            issues.append((path, _("should be a group of 'key: value' entries, but it is {value}").format(
                value=describe(value))))
            return
        _check_fields(value, self.fields, path, issues)


@dataclass(frozen=True)
class Variants(Kind):
    """A record whose allowed fields depend on one key (a host's `function`, a port's `mode`)."""

    key: str
    common: dict[str, Field]
    by_value: dict[str, dict[str, Field]]
    # The message for a key of another variant (English, N_()): "'ports' does not apply to a host
    # with function 'printer'" from "'{key}' does not apply to a host with function '{value}'".
    subject: str
    noun: str = ""  # for the key's own enumeration, see OneOf.noun

    def check(self, value, path, issues):
        if not isinstance(value, dict):
            issues.append((path, _("should be a group of 'key: value' entries, but it is {value}").format(
                value=describe(value))))
            return
        selector = value.get(self.key)
        key_field = {self.key: required(OneOf(tuple(self.by_value), self.noun))}
        if not isinstance(selector, str) or selector not in self.by_value:
            # Without a valid selector the other keys cannot be judged: check only the common ones.
            known = {k: v for k, v in value.items() if k in self.common or k == self.key}
            _check_fields(known, {**key_field, **self.common}, path, issues)
            return
        fields = {**key_field, **self.common, **self.by_value[selector]}
        elsewhere = {
            name: _(self.subject).format(key=name, value=selector)
            for other in self.by_value.values() for name in other if name not in fields
        }
        _check_fields(value, fields, path, issues, elsewhere)


@dataclass(frozen=True)
class Document(Kind):
    """A whole unit file: one top-level key holding the section."""

    key: str
    section: Kind

    def check(self, value, path, issues):
        if value is None:
            issues.append((path, _("the file is empty; it must start with '{key}:'").format(key=self.key)))
            return
        Record({self.key: required(self.section)}).check(value, path, issues)


# --- the unit files -------------------------------------------------------------------------

UNIT_KINDS = ("county_court", "prosecutor", "appeals_court", "provincial_centre")
STAFF_ROLES = ("supervisor", "sysadmin", "network_technician", "cms_operator", "registry_clerk",
               "hardware_technician")
# Roles that administer machines: the circular (note 2) wants their appointment on record.
PRIVILEGED_ROLES = ("supervisor", "sysadmin", "network_technician")
HOST_FUNCTIONS = ("unit_server", "cms_client", "network_device", "printer", "centre_server")
WORKSTATION_PROFILES = ("registry_office", "branch_clerk", "scanning_station")
DEVICE_PLATFORMS = ("ios", "routeros")
VLAN_PURPOSES = ("servers", "cms_clients", "printers", "management", "unused_ports")

UNIT_ID = Text(r"[a-z][a-z0-9-]{0,30}[a-z0-9]",
               N_("use 2-32 lowercase letters, digits and '-', starting with a letter, such as 'qom-court'"))
# Accounts a staff member may never be given: root, the automation account, Debian's static system
# users (base-passwd's users.def) and those the roles' packages create (service accounts).
RESERVED_ACCOUNTS = frozenset((
    "root", "unitctl", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy",
    "www-data", "backup", "list", "irc", "gnats", "nobody", "messagebus", "sshd", "nut", "clamav", "dnsmasq",
    "prometheus", "saned", "avahi", "colord", "polkitd", "tss", "uuidd", "statd", "usbmux", "geoclue",
    "pulse", "rtkit", "cups-pk-helper", "debian-exim", "ntp", "chrony", "admin", "administrator",
))


@dataclass(frozen=True)
class AccountName(Text):
    """A staff member's login name: the pattern, and never a system or reserved account."""

    def check(self, value, path, issues):
        before = len(issues)
        super().check(value, path, issues)
        if len(issues) > before or not isinstance(value, str):
            return
        if value in RESERVED_ACCOUNTS or value.startswith(("systemd-", "debian-")):
            issues.append((path, _("'{value}' is a system or reserved account (root, the automation account, "
                                   "Debian's service users): the accounts role would take it over; give the person "
                                   "a name of their own, such as 'a.rezaei'").format(value=value)))


USERNAME = AccountName(r"[a-z][a-z0-9._-]{1,31}",
                       N_("use 2-32 lowercase letters, digits, '.', '_' or '-', starting with a letter, such as "
                          "'a.rezaei'"))
HOSTNAME = Text(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?",
                N_("use lowercase letters, digits and '-' (not first or last), at most 63 characters, such as "
                   "'court-ws1'"))
DOMAIN = Text(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?",
              N_("use a DNS name in lowercase, such as 'court.qom.internal'"))
SHORT_ID = Text(r"[a-z0-9][a-z0-9_-]{0,31}", N_("use lowercase letters, digits, '_' or '-', such as 'b101'"))
PORT_NAME = Text(r"[A-Za-z0-9][A-Za-z0-9._/:-]*",
                 N_("a port name is letters, digits and . _ / : -, such as GigabitEthernet0/1 or ether2"))
MAC = Text(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}",
           N_("write six pairs of hex digits separated by ':', in quotes, such as \"52:54:00:25:17:11\""))
VLAN_ID = Integer(1, 4094)
# One line of text: no control characters (a line break, NUL, a terminal escape) that would break
# a report, a banner or a CSV line.
FREE_TEXT = Text(r"[^\x00-\x1f\x7f]*",
                 N_("write it on one line, without control characters (line breaks, tabs, escapes)"))
# Text that goes into a device's configuration (a port's description, an IOS `description` line or a
# RouterOS `comment="..."`): one line of at most 200 characters (IOS allows 240) and none of the
# characters RouterOS reads inside quotes (", \\, $), so it can never become a command of its own.
DEVICE_TEXT = Text(r'[^\x00-\x1f\x7f"\\$]{0,200}',
                   N_("write one line of at most 200 characters, without quotes, backslashes, '$' or control "
                      "characters: it goes into the device's configuration"))

UNIT_FILE = Document("unit", Record({
    "id": required(UNIT_ID),
    "kind": required(OneOf(UNIT_KINDS, N_("a known unit kind"))),
    "name_fa": required(FREE_TEXT),
    "name_en": required(FREE_TEXT),
    "city_fa": required(FREE_TEXT),
    "city_en": required(FREE_TEXT),
    "supervisor": required(USERNAME),
    "domain": required(DOMAIN),
    "branches": optional(ListOf(Record({
        "id": required(SHORT_ID),
        "name_fa": required(FREE_TEXT),
        "name_en": required(FREE_TEXT),
    }))),
}))

STAFF_FILE = Document("staff", ListOf(Record({
    "username": required(USERNAME),
    "name_fa": required(FREE_TEXT),
    "name_en": required(FREE_TEXT),
    "role": required(OneOf(STAFF_ROLES, N_("a known staff role"))),
    "area": required(FREE_TEXT),
    "ssh_key": required(SshPublicKey()),
    "appointment": optional(Record({
        "number": required(Text(allow_number=True)),
        "date": required(JalaliDate()),
        "issued_by": required(OneOf(("provincial_directorate", "unit_head"), N_("a known issuer"))),
    })),
})))

# ASHRAE's widest allowable class for IT equipment (A4) is 5-45 °C; 0-50 leaves room for a
# policy of its own while refusing a slip such as 270 for 27.0.
ROOM_TEMPERATURE = Number(plausible=(0, 50, N_("°C (a server room's limit)")))
ROOM_HUMIDITY = Number(plausible=(0, 100, N_("% relative humidity")))
ROOM = Record({
    "location": required(FREE_TEXT),
    "emergency_power": required(OneOf(("generator", "ups_only", "none"), N_("a known kind of emergency power"))),
    # Limits a check compares with the UPS's environment sensor (NUT ambient.temperature, ambient.humidity).
    "temperature_c": required(Record({"min": required(ROOM_TEMPERATURE), "max": required(ROOM_TEMPERATURE)})),
    "humidity_pct": optional(Record({"min": required(ROOM_HUMIDITY), "max": required(ROOM_HUMIDITY)})),
    "ups": optional(Record({
        "model": required(FREE_TEXT),
        "capacity_va": required(Number(positive=True)),
        "runtime_min": required(Number(positive=True)),
        "driver": optional(FREE_TEXT),  # the NUT driver that talks to it
    })),
})
ROOMS_FILE = Document("rooms", Record({"server_room": required(ROOM), "support_room": required(ROOM)}))

ROUTED_VLAN = {
    "subnet": required(Subnet()),
    "gateway": optional(Address()),
    "dhcp": optional(Record({"start": required(Address()), "end": required(Address())})),
}
ADDRESSING_FILE = Document("addressing", Record({
    "vlans": required(ListOf(Variants(
        key="purpose",
        common={"id": required(VLAN_ID), "name": required(SHORT_ID)},
        by_value={purpose: ROUTED_VLAN for purpose in VLAN_PURPOSES if purpose != "unused_ports"}
        | {"unused_ports": {}},
        subject=N_("'{key}' does not apply to a VLAN with purpose '{value}'"),
        noun=N_("a known VLAN purpose"),
    ))),
}))

PORT = Variants(
    key="mode",
    common={"port": required(PORT_NAME), "description": optional(DEVICE_TEXT), "connects": optional(HOSTNAME),
            "shutdown": optional(Boolean())},
    by_value={
        "access": {"vlan": required(VLAN_ID)},
        "trunk": {"vlans": required(ListOf(VLAN_ID)), "native_vlan": optional(VLAN_ID)},
    },
    subject=N_("'{key}' does not apply to a port in mode '{value}'"),
    noun=N_("a known port mode"),
)
# The Debian major release a server or workstation runs (12, 13; province policy says which the
# province allows: province_debian_releases, checked by unitctl.inventory.validate).
DEBIAN_RELEASE = Integer(1, 99)
HOSTS_FILE = Document("hosts", ListOf(Variants(
    key="function",
    common={"name": required(HOSTNAME), "address": required(Address()), "vlan": required(VLAN_ID),
            "mac": optional(MAC), "description": optional(DEVICE_TEXT)},
    by_value={
        "unit_server": {"debian_release": optional(DEBIAN_RELEASE)},
        "centre_server": {"debian_release": optional(DEBIAN_RELEASE)},
        "cms_client": {"profile": required(OneOf(WORKSTATION_PROFILES, N_("a known workstation profile"))),
                       "branch": optional(SHORT_ID), "debian_release": optional(DEBIAN_RELEASE)},
        "printer": {"model": optional(FREE_TEXT)},
        "network_device": {"platform": required(OneOf(DEVICE_PLATFORMS, N_("a supported device platform"))),
                           "role": required(OneOf(("access", "core", "edge"), N_("a known device role"))),
                           "model": optional(FREE_TEXT),
                           "ports": optional(ListOf(PORT))},
    },
    subject=N_("'{key}' does not apply to a host with function '{value}'"),
    noun=N_("a known host function"),
)))

UNIT_FILE_SCHEMAS: dict[str, Document] = {
    "unit.yml": UNIT_FILE,
    "staff.yml": STAFF_FILE,
    "rooms.yml": ROOMS_FILE,
    "addressing.yml": ADDRESSING_FILE,
    "hosts.yml": HOSTS_FILE,
}

# Province policy the validator and `new-unit` read (group_vars/all/addressing.yml).
PROVINCE_ADDRESSING = {
    "province_address_space": optional(Subnet()),
    "province_unit_block_prefix": optional(Integer(8, 28)),
}


def check_document(file_name: str, data: Any) -> list[Issue]:
    issues: list[Issue] = []
    UNIT_FILE_SCHEMAS[file_name].check(data, (), issues)
    return issues

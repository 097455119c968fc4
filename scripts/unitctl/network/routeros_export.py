"""RouterOS configuration compared by path and properties, the way RouterOS itself holds it.

A router exactly as intended, read with `/export`, does not print the lines the toolkit sent: it
prints properties in its own order, adds what it computes (`network=` on `/ip address`), quotes
only where needed, leaves default values out, prints no users and no passwords, and wraps long
lines. So both texts are parsed into entries (path, command, properties) and compared entry by
entry, with each path's identity, defaults and hidden properties (`routeros_paths.PATHS`).

    comparison = compare_routeros(running_export, intended_script, managed_sections)
    comparison.commands      # what to send, secrets masked; comparison.sendable() with them
    comparison.drift         # what the toolkit will not change by itself: for a person
    comparison.unverifiable  # what /export cannot show (users, passwords): neither sent nor drift

RouterOS syntax read here (MikroTik manual "Scripting", help.mikrotik.com/docs/display/ROS/Scripting,
and its older wiki page Manual:Scripting):
- a command line is `[/path] command [unnamed argument] name=value ...`; it ends at a newline or `;`;
  `/ip address` alone changes the current path; `/ip/address/add` is the same as `/ip address add`;
- a backslash at the end of a physical line joins it with the next one ("line joining"), also inside
  a string; `/export` wraps long lines so, continuing with four spaces that are not part of the
  line (a space that must begin the continuation is written `\\_`); a comment is a physical line that
  starts with `#`, and a backslash does not continue it;
- values are quoted only where needed (`comment=servers`, `comment="SSH from management"`); inside
  quotes the escapes are \\" \\\\ \\n \\r \\t \\$ \\? \\_ (space) \\a \\b \\f \\v and \\XX (hex);
- `set` names built-in entries by an unnamed argument: a name (`set telnet`, `/ip service`), a
  number (`set 0`, `/system logging`) or a find expression (`set [ find default-name=ether1 ]`,
  `[ find default=yes ]`, `[ find ]`); settings paths take no argument (`/system identity set name=x`).

The contract of the result: commands are sent by a push, drift is listed for a person.
- A missing entry is an `add` with every intended property; a changed one a `set [ find <identity> ]`
  of only the properties that differ (a property the intent does not name but the router shows is
  put back to its default when RouterOS's default is known, else it is drift).
- An entry of a managed path that the intent lacks is removed, `remove [ find <identity> ]`, only on
  paths whose identity RouterOS itself keeps unique (interface names, address + interface, bridge +
  VLAN ids...): there a `find` by identity hits that entry and no other. The old contract listed every
  such entry for a person because a `remove` by guessed keys could delete the wrong entry; with an
  identity per path that risk is gone where the identity is unique, and stays where it is not:
  duplicates, built-in entries, `/user` (the toolkit's own login), paths not in the table, and paths
  of managed sections that the intended script does not describe at all are drift for a person.
- Firewall rules are an ordered list per chain: missing rules are added at their place
  (`place-before=[ find <next rule> ]`), rules out of order are moved (`move [ find ... ] destination=`),
  rules the intent lacks are removed; a rule that no `find` can single out is drift.
- Secrets are `<masked>` in every output (as `platforms.mask_secrets` does); a masked value is equal
  to any value; a secret /export does not show is "not verifiable", neither a command nor drift.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Iterable

from unitctl.network.platforms import MASK, ROUTEROS, mask_line, section_of
from unitctl.network.routeros_paths import PATH_ORDER, PathInfo, path_info

VERBS = frozenset({"add", "set", "remove", "enable", "disable", "move", "unset", "comment", "print", "export",
                   "edit", "find"})
CHANGES = ("add", "set", "remove", "enable", "disable")  # the commands that describe configuration
COMMAND_ONLY = frozenset({"place-before", "copy-from"})  # arguments of a command, not properties
ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "$": "$", "?": "?", "_": " ", "a": "\a",
           "b": "\b", "f": "\f", "v": "\v"}
_HEX = re.compile(r"[0-9A-F]{2}")
_PLAIN = re.compile(r"^[A-Za-z0-9._:/,@*!+%<>-]+$")  # printed without quotes (`<masked>` included)
Selector = tuple[tuple[str, str], ...]


class ParseError(ValueError):
    """Text that is not RouterOS script syntax (an unterminated string, an unknown escape)."""


# --- syntax -----------------------------------------------------------------------------------

@dataclass
class Command:
    path: str                       # "/ip address"
    verb: str                       # "add", "set", ...
    target: str | None = None       # the unnamed argument as written: "telnet", "0", "[ find default=yes ]"
    selector: Selector | None = None  # the target as property=value pairs (None: no target)
    props: dict[str, str] = field(default_factory=dict)  # unquoted values, in the order written
    text: str = ""                  # the logical line
    line: int = 0                   # its first physical line


@dataclass
class Script:
    commands: list[Command]
    paths: list[str]                # every path named, headers included, in order
    skipped: list[str]              # lines that are not configuration (`:delay 5s`, `print`)


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first physical line, text) of each logical line: continuations joined, comments dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    result: list[tuple[int, str]] = []
    current: list[str] = []
    quoted, i, line, start = False, 0, 1, 1
    while i < len(text):
        char = text[i]
        if char == "#" and not current:  # a comment, to the end of its physical line (never continued)
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if char == "\\" and text[i + 1:i + 2] == "\n":  # line joining: the indentation after it is not text
            i, line = i + 2, line + 1
            while i < len(text) and text[i] in " \t":
                i += 1
            continue
        if char == "\\" and quoted:
            current.append(text[i:i + 2])
            i += 2
            continue
        if char == "\n" or (char == ";" and not quoted):
            if quoted:
                raise ParseError(f"line {start}: a string is not closed")
            if current:
                result.append((start, "".join(current).rstrip()))
            current = []
            line += char == "\n"
            i += 1
            continue
        if char == '"':
            quoted = not quoted
        if current or not char.isspace():
            if not current:
                start = line
            current.append(char)
        i += 1
    if quoted:
        raise ParseError(f"line {start}: a string is not closed")
    if current:
        result.append((start, "".join(current).rstrip()))
    return result


def split_tokens(line: str) -> list[str]:
    """Whitespace-separated tokens; quoted strings and [ ], ( ), { } groups stay whole."""
    tokens, i = [], 0
    while i < len(line):
        if line[i].isspace():
            i += 1
            continue
        start, quoted, depth = i, False, 0
        while i < len(line):
            char = line[i]
            if quoted:
                if char == "\\":
                    i += 2
                    continue
                quoted = char != '"'
            elif char == '"':
                quoted = True
            elif char in "[({":
                depth += 1
            elif char in "])}":
                depth -= 1
            elif char.isspace() and depth <= 0:
                break
            i += 1
        tokens.append(line[start:i])
    return tokens


def unquote(value: str) -> str:
    """A value as RouterOS holds it: quotes removed, escapes resolved (`\\"`, `\\_`, `\\D8\\AF`...).
    Hex escapes are bytes: /export writes non-ASCII text as its UTF-8 bytes."""
    if '"' not in value:
        return value
    result, quoted, i = bytearray(), False, 0
    while i < len(value):
        char = value[i]
        if char == '"':
            quoted = not quoted
        elif char == "\\" and quoted:
            escape = value[i + 1:i + 2]
            if _HEX.fullmatch(value[i + 1:i + 3]):
                result.append(int(value[i + 1:i + 3], 16))
                i += 1
            elif escape in ESCAPES:
                result += ESCAPES[escape].encode()
            else:
                raise ParseError(f"unknown escape \\{escape} in {value}")
            i += 1
        else:
            result += char.encode()
        i += 1
    try:
        return result.decode()
    except UnicodeDecodeError:
        return result.decode("latin-1")


def quote(value: str) -> str:
    """A value as RouterOS prints it: bare when it can be, else quoted with escapes (non-ASCII text
    as the hex escapes of its UTF-8 bytes, as /export writes it)."""
    if value and _PLAIN.match(value) and not (("<" in value or ">" in value) and value != MASK):
        return value
    escaped = []
    for char in value:
        if char in '"\\$?':
            escaped.append("\\" + char)
        elif char in "\n\r\t":
            escaped.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char])
        elif ord(char) < 32 or ord(char) > 126:
            escaped.append("".join(f"\\{byte:02X}" for byte in char.encode()))
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def selector_of(target: str | None, positional: str = "name") -> Selector | None:
    """`telnet` -> (("name", "telnet"),); `[ find default=yes ]` -> (("default", "yes"),); `0` -> (("#", "0"),).
    A find expression other than property=value pairs stays whole: (("", text),)."""
    if target is None:
        return None
    text = target.strip()
    if text.startswith("[") and text.endswith("]"):
        inner = split_tokens(text[1:-1])
        if inner[:1] == ["find"]:
            rest = inner[2:] if inner[1:2] == ["where"] else inner[1:]
            pairs = []
            for token in rest:
                name, sep, value = token.partition("=")
                if not sep or not re.fullmatch(r"[a-z0-9-]+", name):
                    return (("", " ".join(inner)),)
                pairs.append((name, unquote(value)))
            return tuple(sorted(pairs))
        return (("", " ".join(inner)),)
    if re.fullmatch(r"\d+|\*[0-9A-Fa-f]+", text):
        return (("#", text),)
    return ((positional, unquote(text)),)


def _path_words(token: str) -> list[str]:
    return [word for word in token.split("/") if word]


def parse(text: str) -> Script:
    """Every command of a RouterOS script or export (standard, terse or `/ip/address` form)."""
    commands, paths, skipped, current = [], [], [], ""
    for number, line in logical_lines(text):
        tokens = split_tokens(line)
        if tokens[0].startswith(":") or tokens[0].startswith("{"):
            skipped.append(line)
            continue
        index, path = 0, current
        if tokens[0].startswith("/"):
            words = _path_words(tokens[0])
            index = 1
            while index < len(tokens) and words and words[-1] not in VERBS and tokens[index] not in VERBS \
                    and "=" not in tokens[index] and not tokens[index].startswith(("[", "!", '"')):
                words += _path_words(tokens[index])
                index += 1
            if len(words) > 1 and words[-1] in VERBS:  # `/ip/address/add ...`: the verb written into the path
                tokens = tokens[:index] + [words.pop()] + tokens[index:]
            path = "/" + " ".join(words)
            if path not in paths:
                paths.append(path)
            if index == len(tokens):  # a header: the current path for the lines that follow
                current = path
                continue
        verb, arguments = tokens[index], tokens[index + 1:]
        if verb not in VERBS or verb in ("print", "export", "find", "edit"):
            skipped.append(line)
            continue
        info = path_info(path)
        command = Command(path, verb, text=line, line=number)
        for argument in arguments:
            name, sep, value = argument.partition("=")
            if sep and re.fullmatch(r"!?[a-z0-9-]+", name):
                command.props[name] = unquote(value) if not value.startswith("[") else value
            elif argument.startswith("!"):
                command.props[argument] = ""  # `!prop`: unset it (kept, reported as not understood)
            elif command.target is None:
                command.target = argument
            else:
                command.props[argument] = ""
        if "numbers" in command.props:
            command.target = command.props.pop("numbers")
        command.selector = selector_of(command.target, info.positional)
        commands.append(command)
    return Script(commands, paths, skipped)


# --- values -----------------------------------------------------------------------------------

def _canonical_ip(part: str, network: bool) -> str:
    negated, value = part.startswith("!"), part.lstrip("!")
    try:
        interface = ipaddress.ip_interface(value)
    except ValueError:
        return part
    if network:
        net = interface.network
        text = str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)
    else:
        text = str(interface.ip) if interface.network.prefixlen == interface.max_prefixlen else str(interface)
    return ("!" if negated else "") + text


def normalise(info: PathInfo, prop: str, value: str | None) -> str | None:
    """A value in the form in which two equal values are equal strings."""
    if value is None or value == MASK:
        return value
    if prop in info.booleans:
        value = {"true": "yes", "false": "no"}.get(value, value)
    if prop in info.addresses or prop in info.networks:
        value = ",".join(_canonical_ip(part.strip(), prop in info.networks) for part in value.split(","))
    if prop in info.unordered:
        value = ",".join(sorted(part for part in value.split(",") if part))
    return value


@lru_cache(maxsize=None)
def _secret_name(prop: str) -> bool:
    return MASK in mask_line(ROUTEROS, f" {prop}=x")


def is_secret(prop: str, value: str | None = None) -> bool:
    """A property RouterOS prints as a secret wherever it appears, by the platform's own rules
    (unitctl.network.routeros.SECRETS), or a value already masked. What is a secret only in its
    context (an SNMP v1/v2c community's name) is masked on the whole line (canonical, render)."""
    return value == MASK or _secret_name(prop)


# --- entries ------------------------------------------------------------------------------------

@dataclass
class Entry:
    path: str
    kind: str                      # "entry" (add), "builtin" (set with a target), "settings", "absent" (remove)
    props: dict[str, str]
    target: str | None = None
    selector: Selector | None = None
    text: str = ""

    @property
    def name(self) -> str | None:
        """The built-in entry's name (`/ip service set ssh` -> "ssh"), for per-entry defaults."""
        return dict(self.selector or ()).get("name")


def _selects(info: PathInfo, selector: Selector, props: dict[str, str]) -> bool:
    return bool(selector) and all(name and name != "#" and normalise(info, name, props.get(name, info.default(name)))
                                  == normalise(info, name, value) for name, value in selector)


def entries(info: PathInfo, commands: Iterable[Command]) -> tuple[list[Entry], list[str]]:
    """The entries a path's commands describe (a `set` of an added entry joins it), and the
    commands that could not be understood."""
    result: list[Entry] = []
    odd: list[str] = []
    for command in commands:
        if command.verb not in CHANGES or any(k.startswith("!") for k in command.props):
            odd.append(command.text)  # `move`, `unset`, `!prop`: not compared (the rest of a `set` still is)
            if command.verb not in CHANGES:
                continue
        props = {k: v for k, v in command.props.items() if not k.startswith("!") and k not in COMMAND_ONLY}
        if command.verb == "add":
            result.append(Entry(info.path, "entry", props, text=command.text))
            continue
        if command.verb == "remove":
            result.append(Entry(info.path, "absent", {}, command.target, command.selector, command.text))
            continue
        if command.verb in ("enable", "disable"):
            props = {"disabled": "yes" if command.verb == "disable" else "no"}
        if command.selector is None:
            settings = next((e for e in result if e.kind == "settings"), None)
            if settings is None:
                result.append(Entry(info.path, "settings", props, text=command.text))
            else:
                settings.props.update(props)
            continue
        added = [e for e in result if e.kind == "entry" and _selects(info, command.selector, e.props)]
        if len(added) == 1:
            added[0].props.update(props)
            continue
        builtin = next((e for e in result if e.kind == "builtin" and e.selector == command.selector), None)
        if builtin is None:
            result.append(Entry(info.path, "builtin", props, command.target, command.selector, command.text))
        else:
            builtin.props.update(props)
    return result, odd


def effective(info: PathInfo, entry: Entry, prop: str) -> str | None:
    """What the router holds for `prop`: the value shown, else the value RouterOS derives, else the default."""
    if prop in entry.props:
        return entry.props[prop]
    if prop in info.derived:
        derived = info.derived[prop](entry.props)
        if derived is not None:
            return derived
    return info.default(prop, entry.name)


def identity_of(info: PathInfo, entry: Entry) -> tuple:
    if not info.identity:  # unknown path: every property
        return tuple(sorted((k, normalise(info, k, v)) for k, v in entry.props.items()))
    return tuple(normalise(info, prop, effective(info, entry, prop)) for prop in info.identity)


def canonical(info: PathInfo, entry: Entry) -> str:
    """One line per entry, properties sorted, defaults and derived values left out, secrets masked."""
    props = sorted((k, v) for k, v in entry.props.items()
                   if not (k in info.derived and info.derived[k](entry.props) == v)
                   and normalise(info, k, v) != normalise(info, k, info.default(k, entry.name)))
    words = [entry.path, "set" if entry.kind in ("builtin", "settings") else "add" if entry.kind == "entry"
             else "remove"]
    if entry.target:
        words.append(entry.target)
    words += [f"{k}={MASK if is_secret(k, v) else quote(v)}" for k, v in props]
    return mask_line(ROUTEROS, " ".join(words))


# --- the comparison -----------------------------------------------------------------------------

class Raw(str):
    """A value sent as written (a find expression), never quoted."""


@dataclass
class RouterCommand:
    path: str
    verb: str
    target: str = ""
    props: list[tuple[str, str]] = field(default_factory=list)
    phase: int = 1                     # 1: adds, sets, moves (in path order); 2: removals (reverse order)

    def render(self, masked: bool = True) -> str:
        words = [self.path, self.verb] + ([self.target] if self.target else [])
        for prop, value in self.props:
            if isinstance(value, Raw):
                words.append(f"{prop}={value}")
            elif is_secret(prop, value) and (masked or value == MASK):
                words.append(f"{prop}={MASK}")
            else:
                words.append(f"{prop}={quote(value)}")
        line = " ".join(words)
        return mask_line(ROUTEROS, line) if masked else line


@dataclass
class RouterOSComparison:
    """Intended against running for RouterOS: the same reading as compare.Comparison, plus what
    /export cannot show. `commands` are masked; `sendable()` gives them with the intended secrets."""

    before: str                        # running: managed entries, canonical, masked
    after: str                         # intended: managed entries, canonical, masked
    drift: list[str]                   # differences no command puts right: for a person
    unverifiable: list[str]            # intended values /export never shows (users, passwords)
    actions: list[RouterCommand] = field(default_factory=list)

    @property
    def commands(self) -> list[str]:
        return [action.render(masked=True) for action in self.actions]

    @property
    def extra(self) -> list[str]:  # compare.Comparison's name for drift
        return self.drift

    @property
    def in_sync(self) -> bool:
        return not self.actions and not self.drift

    def lines(self) -> list[str]:
        """Remediation and drift as a person reads them."""
        return self.commands + [f"# drift, for a person: {line}" for line in self.drift]

    def sendable(self) -> list[str]:
        """The commands with the intended secrets in them; refused when a secret is not known."""
        from unitctl.network.compare import UnsafeCommand  # noqa: PLC0415  (compare may import this module)

        result = []
        for action in self.actions:
            line = action.render(masked=False)
            if MASK in line:
                raise UnsafeCommand(f"the secret in '{action.render()}' is not available; "
                                    f"give the vault password to push it")
            result.append(line)
        return result


class _Result:
    def __init__(self) -> None:
        self.actions: list[RouterCommand] = []
        self.drift: list[str] = []
        self.unverifiable: list[str] = []


def _find(info: PathInfo, pairs: Iterable[tuple[str, str | None]]) -> Raw:
    words = [f"{k}={quote(v)}" for k, v in pairs if v is not None]
    return Raw("[ find " + " ".join(words) + " ]" if words else "[ find ]")


def _identity_find(info: PathInfo, entry: Entry) -> Raw:
    return _find(info, ((prop, effective(info, entry, prop)) for prop in info.identity))


def _describe(info: PathInfo, entry: Entry) -> str:
    """An entry named by its identity (`/ip address [ find address=... interface=... ]`), else in full."""
    if entry.kind == "entry" and info.identity:
        return f"{info.path} {_identity_find(info, entry)}"
    if entry.kind in ("builtin", "settings"):
        return f"{info.path} {entry.target or 'settings'}"
    return canonical(info, entry)


def _differences(info: PathInfo, want: Entry, have: Entry, result: _Result, what: str
                 ) -> list[tuple[str, str]] | None:
    """(property, value to set) for every property that differs; None when a difference cannot be
    put right with a `set` (drift reported)."""
    changes: list[tuple[str, str]] = []
    blocked = False
    for prop, wanted in want.props.items():
        shown = have.props.get(prop)
        if prop in info.hidden or is_secret(prop, wanted) or is_secret(prop, shown):
            if shown is None or MASK in (wanted, shown):
                why = "RouterOS /export never shows it" if shown is None else "masked"
                result.unverifiable.append(f"{what}: {prop} ({why}): not verifiable from /export")
                continue
        if normalise(info, prop, wanted) != normalise(info, prop, effective(info, have, prop)):
            changes.append((prop, wanted))
    for prop, shown in have.props.items():
        if prop in want.props or (prop in info.derived and info.derived[prop](have.props) == shown):
            continue
        default = info.default(prop, have.name)
        if prop in info.derived:
            default = info.derived[prop](want.props)
        if normalise(info, prop, shown) == normalise(info, prop, default):
            continue
        if default is None or is_secret(prop, shown):
            result.drift.append(f"{what}: {prop}={MASK if is_secret(prop, shown) else quote(shown)} is not in the "
                                f"intent and its default is not known; put it right by hand")
            blocked = True
        else:
            changes.append((prop, default))
    return None if blocked and not changes else changes


def _compare_keyed(info: PathInfo, want: list[Entry], have: list[Entry], result: _Result) -> None:
    wanted: dict[tuple, Entry] = {}
    for entry in (e for e in want if e.kind == "entry"):
        wanted.setdefault(identity_of(info, entry), entry)
    shown: dict[tuple, list[Entry]] = {}
    for entry in (e for e in have if e.kind == "entry"):
        shown.setdefault(identity_of(info, entry), []).append(entry)
    for key, entry in wanted.items():
        present = shown.get(key, [])
        what = _describe(info, entry)
        if not present:
            if not info.listed:
                result.unverifiable.append(f"{what}: RouterOS /export does not list {info.path} entries; "
                                           f"not verifiable from /export")
            else:
                result.actions.append(RouterCommand(info.path, "add", props=list(entry.props.items())))
            continue
        if len(present) > 1:
            result.drift.append(f"{what}: {len(present)} entries with this identity on the router; "
                                f"remove the extra ones by hand")
        changes = _differences(info, entry, present[0], result, what)
        if changes:
            result.actions.append(RouterCommand(info.path, "set", _identity_find(info, present[0]), changes))
    for key, present in shown.items():
        if key in wanted:
            continue
        if info.removable and info.listed and info.identity:
            result.actions.append(RouterCommand(info.path, "remove", _identity_find(info, present[0]), phase=2))
        else:
            result.drift.extend(f"not in the intent: {canonical(info, entry)}" for entry in present)


def _compare_builtin(info: PathInfo, want: list[Entry], have: list[Entry], result: _Result) -> None:
    """Settings (`/system identity set ...`) and built-in entries (`/ip service set telnet ...`)."""
    kinds = ("settings", "builtin")
    shown = {(e.kind, e.selector): e for e in have if e.kind in kinds}
    for entry in (e for e in want if e.kind in kinds):
        present = shown.pop((entry.kind, entry.selector), None) or Entry(info.path, entry.kind, {}, entry.target,
                                                                        entry.selector)
        changes = _differences(info, entry, present, result, _describe(info, entry))
        if changes:
            result.actions.append(RouterCommand(info.path, "set", entry.target or "", changes))
    for entry in shown.values():  # built-in entries the intent does not speak of
        if any(normalise(info, k, v) != normalise(info, k, info.default(k, entry.name)) for k, v in entry.props.items()):
            result.drift.append(f"not in the intent: {canonical(info, entry)}")
    for entry in (e for e in want if e.kind == "absent"):
        if any(_selects(info, entry.selector or (), e.props) for e in have if e.kind == "entry"):
            result.actions.append(RouterCommand(info.path, "remove", entry.target or "", phase=2))


# ordered lists (firewall) --------------------------------------------------------------------------

def _signature(info: PathInfo, entry: Entry) -> frozenset:
    return frozenset((k, normalise(info, k, v)) for k, v in entry.props.items()
                     if normalise(info, k, v) != normalise(info, k, info.default(k)))


@dataclass
class _Rule:
    versions: list[Entry]              # as the router shows it, and/or as intended
    chain: str


def _matches(info: PathInfo, pairs: list[tuple[str, str]], entry: Entry) -> bool:
    return all(normalise(info, k, effective(info, entry, k) or "") == normalise(info, k, v) for k, v in pairs)


def _rule_find(info: PathInfo, rule: _Rule, rules: list[_Rule]) -> Raw | None:
    """A find expression that selects this rule and no other (in any of their versions), or None."""
    candidates = []
    comment = rule.versions[0].props.get("comment")
    if comment:
        candidates.append([(info.ordered_by, rule.chain), ("comment", comment)])
    for version in rule.versions:
        candidates.append(sorted((k, v) for k, v in version.props.items()
                                 if normalise(info, k, v) != normalise(info, k, info.default(k))))
    for pairs in candidates:
        if all(_matches(info, pairs, v) for v in rule.versions) and not any(
                _matches(info, pairs, v) for other in rules if other is not rule for v in other.versions):
            return _find(info, sorted(pairs))
    return None


def _longest_in_order(pairs: list[tuple[int, int]]) -> set[int]:
    """The intended indexes of the longest run of pairs already in the intended order (kept in place)."""
    pairs = sorted(pairs)  # by position on the router
    order = [w for _, w in pairs]
    length, previous = [1] * len(order), [-1] * len(order)
    for i in range(len(order)):
        for j in range(i):
            if order[j] < order[i] and length[j] + 1 >= length[i]:
                length[i], previous[i] = length[j] + 1, j
    kept, i = set(), max(range(len(order)), key=lambda k: (length[k], k), default=-1)
    while i >= 0:
        kept.add(order[i])
        i = previous[i]
    return kept


def _compare_ordered(info: PathInfo, want: list[Entry], have: list[Entry], result: _Result) -> None:
    key = info.ordered_by
    want = [e for e in want if e.kind == "entry"]
    have = [e for e in have if e.kind == "entry"]
    chains = list(dict.fromkeys(effective(info, e, key) or "" for e in want + have))
    plans, rules = [], []
    for chain in chains:
        mine = [e for e in want if effective(info, e, key) == chain]
        theirs = [e for e in have if effective(info, e, key) == chain]
        wanted_sigs, shown_sigs = [_signature(info, e) for e in mine], [_signature(info, e) for e in theirs]
        paired: dict[int, int] = {}
        matcher = SequenceMatcher(None, shown_sigs, wanted_sigs, autojunk=False)
        for a, b, size in matcher.get_matching_blocks():
            paired.update({b + k: a + k for k in range(size)})
        for w, sig in enumerate(wanted_sigs):  # the same rule elsewhere in the chain: moved
            if w not in paired:
                h = next((h for h, s in enumerate(shown_sigs) if s == sig and h not in paired.values()), None)
                if h is not None:
                    paired[w] = h
        changed: dict[int, list[tuple[str, str]]] = {}
        for w, entry in enumerate(mine):  # the same comment, other properties: changed in place
            comment = entry.props.get("comment")
            if w in paired or not comment or [e.props.get("comment") for e in mine].count(comment) != 1:
                continue
            candidates = [h for h, e in enumerate(theirs) if e.props.get("comment") == comment]
            if len(candidates) == 1 and candidates[0] not in paired.values():
                probe = _Result()
                changes = _differences(info, entry, theirs[candidates[0]], probe, "")
                if changes is not None and not probe.drift:
                    paired[w], changed[w] = candidates[0], changes
        chain_rules = {("w", w): _Rule([theirs[paired[w]], e] if w in paired else [e], chain)
                       for w, e in enumerate(mine)}
        chain_rules.update({("h", h): _Rule([e], chain) for h, e in enumerate(theirs) if h not in paired.values()})
        rules.extend(chain_rules.values())
        plans.append((mine, paired, changed, chain_rules))
    for mine, paired, changed, chain_rules in plans:
        in_place = _longest_in_order([(h, w) for w, h in paired.items()])

        def find(rule: _Rule, doing: str) -> Raw | None:
            found = _rule_find(info, rule, rules)
            if found is None:
                result.drift.append(f"{doing} {canonical(info, rule.versions[-1])}: no find expression singles "
                                    f"this rule out (a duplicate?); do it by hand")
            return found

        for w, changes in changed.items():
            target = find(chain_rules[("w", w)], "change")
            if target is not None:
                result.actions.append(RouterCommand(info.path, "set", target, changes))
        for w, entry in enumerate(mine):
            if w in in_place:
                continue
            later = next((v for v in range(w + 1, len(mine)) if v in in_place), None)
            anchor = find(chain_rules[("w", later)], "place a rule before") if later is not None else None
            if later is not None and anchor is None:
                continue
            rule = chain_rules[("w", w)]
            if w in paired and anchor is not None:
                target = find(rule, "move")
                if target is not None:
                    result.actions.append(RouterCommand(info.path, "move", target,
                                                        [("destination", anchor)]))
                continue
            if w in paired:  # last of its chain: taken out and appended at the end
                target = find(rule, "move")
                if target is None:
                    continue
                result.actions.append(RouterCommand(info.path, "remove", target))
            props = list(entry.props.items()) + ([("place-before", anchor)] if anchor is not None else [])
            result.actions.append(RouterCommand(info.path, "add", props=props))
        for (side, _), rule in chain_rules.items():
            if side == "h":
                target = find(rule, "remove")
                if target is not None:
                    result.actions.append(RouterCommand(info.path, "remove", target, phase=2))


def _managed(path: str, managed) -> bool:
    return section_of(ROUTEROS, path + " ") in set(managed)


def _order(path: str) -> tuple[int, str]:
    return (PATH_ORDER.index(path) if path in PATH_ORDER else len(PATH_ORDER), path)


def compare_routeros(running_export: str, intended_script: str, managed_sections) -> RouterOSComparison:
    """The commands that make the router's managed paths what the intended script says, compared by
    path and properties; see the module's docstring for the contract."""
    running, intended = parse(running_export), parse(intended_script)
    paths = sorted({c.path for c in running.commands + intended.commands} | set(intended.paths), key=_order)
    result = _Result()
    before, after = [], []
    for path in (p for p in paths if _managed(p, managed_sections)):
        info = path_info(path)
        want, odd = entries(info, (c for c in intended.commands if c.path == path))
        have, _ = entries(info, (c for c in running.commands if c.path == path))
        result.drift.extend(f"intended line not understood, not compared: {line}" for line in odd)
        before += [canonical(info, e) for e in have]
        after += [canonical(info, e) for e in want]
        if path not in intended.paths:  # a managed section, but the intent does not describe this path
            result.drift.extend(f"not described by the intent ({path} is in a managed section): "
                                f"{canonical(info, e)}" for e in have)
            continue
        if info.ordered_by:
            _compare_ordered(info, want, have, result)
        else:
            _compare_keyed(info, want, have, result)
        _compare_builtin(info, want, have, result)
    removals = sorted((a for a in result.actions if a.phase == 2), key=lambda a: _order(a.path), reverse=True)
    actions = [a for a in result.actions if a.phase == 1] + removals
    return RouterOSComparison("\n".join(before) + ("\n" if before else ""), "\n".join(after) + ("\n" if after else ""),
                              result.drift, result.unverifiable, actions)

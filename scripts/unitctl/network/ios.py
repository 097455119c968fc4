"""Cisco IOS as real devices print and take their configuration.

The lab's emulator (fake-switches) is lenient: it prints only a few sections, accepts whatever it
knows and says "No such command" to the rest. What a real IOS device does, and what the toolkit
must know to compare, mask, push and verify against it, is stated here, each rule with its source:

- SECRETS: every value IOS prints as a secret (masked in backups, diffs and reports);
- VOLATILE: lines that change without a configuration change (a reload among them);
- HIDDEN: intended lines IOS never prints in `show running-config` (defaults, SNMPv3 users);
- ERROR_PATTERN / WARNING_PATTERN: what IOS answers to a rejected line, and what it only remarks;
- driver(): hier_config's IOS driver with the rules for values IOS replaces when the new value
  is sent (a port's VLAN, a banner...), a trunk's allowed VLANs compared as a set;
- align_line_ranges: `line vty 0 15` as IOS prints it (`line vty 0 4` + `line vty 5 15`);
- typed_banner: a banner as one command, with a delimiter IOS and netmiko both read right;
- parse_snmp_users / missing_snmp_users / snmp_user_commands: SNMPv3 users, which only
  `show snmp user` shows.

Secrets are matched with our own patterns: netutils' `sanitize_config` (1.19) only runs the
regular expressions it is given (its two sample filters cover `username ... password 5`), and
cannot tell a `key 1` under `key chain` (a number) from a `key 7 ...` under `tacacs server` (a
secret), which the masking here must, to keep masked backups restorable.
"""

from __future__ import annotations

import functools
import re

from unitctl.network.rules import Hidden, compiled, secret

# --- secrets ---------------------------------------------------------------------------------
# IOS reads most passwords to the end of the line (spaces included, Cisco IOS Security Command
# Reference: "the password ... can contain embedded spaces ... must be the last option"), so
# those are masked to the end of the line, their type digit (0, 5, 6, 7, 8, 9) with them: a
# stored hash and the intended clear text then mask alike and are never a difference.
_REF = "Cisco IOS Security Command Reference"
SECRETS = (
    secret(r"^(enable (?:secret|password)(?: level \d+)?) .+",
           f"{_REF}: enable secret / enable password [level N] [type] value"),
    secret(r"^(username \S+(?: (?!(?:secret|password) )\S+)*? (?:secret|password)) .+",
           f"{_REF}: username NAME [privilege N] [view V] [algorithm-type T] secret|password [type] value"),
    secret(r"^(\s+password) .+", f"{_REF}: password (line configuration: line con, vty, aux)"),
    secret(r"^(\s*ppp chap password) .+", "Cisco IOS Dial Technologies Command Reference: ppp chap password"),
    secret(r"^(\s*ppp pap sent-username \S+ password) .+",
           "Cisco IOS Dial Technologies Command Reference: ppp pap sent-username"),
    # The community string is the secret; what follows (view, RO/RW, ACL) stays.
    secret(r"^(snmp-server community) \S+",
           "Cisco IOS SNMP Support Command Reference: snmp-server community string [view] [ro|rw] [acl]"),
    secret(r"^(snmp-server host \S+(?: vrf \S+)?(?: informs| traps)?(?: version (?:1|2c))?) "
           r"(?!(?:version|informs|traps|vrf) )\S+",
           "Cisco IOS SNMP Support Command Reference: snmp-server host ADDR [vrf V] [informs|traps] "
           "[version 1|2c] community ... (with version 3 the word there is a user name, not masked)"),
    secret(r"^(snmp-server user \S+ \S+ .*?auth (?:md5|sha-2 \d+|sha)) \S+",
           "Cisco IOS SNMP Support Command Reference: snmp-server user ... auth md5|sha auth-password"),
    secret(r"^(snmp-server user \S+ \S+ .*?priv (?:aes \d+|3des|des56|des)) \S+",
           "Cisco IOS SNMP Support Command Reference: snmp-server user ... priv des|3des|aes N priv-password"),
    secret(r"^((?:tacacs|radius)-server key) .+", f"{_REF}: tacacs-server key / radius-server key [type] key"),
    secret(r"^((?:tacacs|radius)-server host \S+(?: (?!key )\S+)* key) .+",
           f"{_REF}: tacacs-server host / radius-server host ADDR ... key [type] key"),
    secret(r"^(\s+(?:pac )?key) .+", f"{_REF}: key (TACACS+ / RADIUS server configuration); Cisco IOS "
           "Security Command Reference: key (ISAKMP client configuration group: the group's pre-shared key)",
           parent=r"^(?:(?:tacacs|radius) server \S+|crypto isakmp client configuration group \S+)"),
    secret(r"^(\s*(?:client \S+(?: vrf \S+)? )?server-key) .+",
           f"{_REF}: aaa server radius dynamic-author: client ADDR server-key / server-key"),
    secret(r"^(\s*server-private \S+(?: (?!key )\S+)* key) .+",
           f"{_REF}: server-private ADDR ... key [type] key (aaa group server)"),
    secret(r"^(crypto isakmp key)(?: [06])? \S+",
           f"{_REF}: crypto isakmp key [0|6] keystring address|hostname PEER"),
    secret(r"^(\s*pre-shared-key (?:address|hostname) \S+(?: (?!key )\S+)* key)(?: [06])? \S+",
           f"{_REF}: pre-shared-key address ADDR key [type] key (crypto keyring)"),
    secret(r"^(\s*pre-shared-key(?: local| remote)?)(?: [06])? (?!(?:address|hostname|local|remote) )\S+",
           f"{_REF}: pre-shared-key [local|remote] [0|6] key (crypto ikev2 keyring peer)"),
    secret(r"^(\s*wpa-psk (?:ascii|hex)) .+", "Cisco IOS Wireless LAN Command Reference: wpa-psk ascii|hex [0|7] key"),
    secret(r"^(\s*ip ospf authentication-key) .+",
           "Cisco IOS IP Routing: OSPF Command Reference: ip ospf authentication-key [0|7] password"),
    secret(r"^(.*\bmessage-digest-key \d+ md5) .+",
           "Cisco IOS IP Routing: OSPF Command Reference: ip ospf message-digest-key N md5 [0|7] key "
           "(also area ... virtual-link)"),
    secret(r"^(\s*area \S+ virtual-link \S+(?: (?!authentication-key )\S+)* authentication-key) .+",
           "Cisco IOS IP Routing: OSPF Command Reference: area virtual-link ... authentication-key"),
    secret(r"^(\s*neighbor \S+ password) .+",
           "Cisco IOS IP Routing: BGP Command Reference: neighbor ADDR|GROUP password [0|7] string"),
    secret(r"^(\s*(?:area|domain)-password) \S+", "Cisco IOS IP Routing: ISIS Command Reference: area-password"),
    secret(r"^(\s*isis password) \S+", "Cisco IOS IP Routing: ISIS Command Reference: isis password"),
    secret(r"^(\s*(?:standby|vrrp|glbp)(?: \d+)? authentication md5 key-string)(?: [07])? \S+",
           "Cisco IOS First Hop Redundancy Protocols Command Reference: standby|vrrp|glbp N authentication "
           "md5 key-string [0|7] key [timeout N]"),
    secret(r"^(\s*(?:standby|vrrp|glbp)(?: \d+)? authentication)(?: text)? (?!(?:md5|text) )\S+",
           "Cisco IOS First Hop Redundancy Protocols Command Reference: standby N authentication [text] "
           "string, vrrp N authentication text string (md5 key-chain NAME is a name, not masked)"),
    secret(r"^(\s*(?:ipv6 ospf|area \S+) authentication ipsec spi \d+ (?:md5|sha1))(?: [07])? \S+",
           "Cisco IOS IPv6 Command Reference: ipv6 ospf authentication ipsec / area authentication ipsec"),
    secret(r"^(\s*authentication mode hmac-sha-256)(?: [07])? \S+",
           "Cisco IOS IP Routing: EIGRP Command Reference: authentication mode hmac-sha-256 (af-interface)"),
    secret(r"^(\s*mpls ldp neighbor(?: vrf \S+)? \S+ password)(?: [07])? \S+",
           "Cisco IOS MPLS Command Reference: mpls ldp neighbor password"),
    secret(r"^(ip msdp(?: vrf \S+)? password peer \S+)(?: [07])? \S+",
           "Cisco IOS IP Multicast Command Reference: ip msdp password peer"),
    secret(r"^(snmp mib community-map) \S+",
           "Cisco IOS SNMP Support Command Reference: snmp mib community-map (an SNMP community)"),
    secret(r"^(vtp password) \S+", "Catalyst 2960 Command Reference: vtp password"),
    secret(r"^(\s*key-string) .+", f"{_REF}: key-string [0|7] text (key chain NAME, key N)"),
    secret(r"^(ntp authentication-key \d+ \S+) .+",
           "Cisco IOS Basic System Management Command Reference: ntp authentication-key N md5 value [7]"),
    secret(r"^(key config-key(?: password-encrypt| \d+)) .+",
           f"{_REF}: key config-key password-encrypt [text] (the master key of type 6 encryption)"),
    secret(r"^((?:ip ftp|ip http client) password) .+",
           "Cisco IOS Configuration Fundamentals Command Reference: ip ftp password, ip http client password"),
    secret(r"^(\s*l2tp tunnel password) .+", "Cisco IOS VPDN Command Reference: l2tp tunnel password"),
    secret(r"^(\s*ip nhrp authentication) \S+", "Cisco IOS IP Addressing Services Command Reference: "
                                               "ip nhrp authentication string"),
    # A password in a URL (archive path, ip ftp, copy sources): scheme://user:PASSWORD@host
    secret(r"^(.*?\b[a-z]+://[^:/@\s]+:)[^@\s/]+(?=@)", "RFC 3986 3.2.1: user:password in a URL's userinfo"),
)

# --- volatile lines --------------------------------------------------------------------------
VOLATILE = compiled(
    # The header comments IOS writes at the top of `show running-config` (Cisco IOS Configuration
    # Fundamentals: "Last configuration change at ...", "NVRAM config last updated at ..."); after
    # a reload, before any change, the first reads "No configuration change since last restart".
    r"^!\s*(?:Last configuration change|No configuration change since|NVRAM config last updated"
    r"|Configuration last changed)",
    r"^ntp clock-period ",         # written by NTP as it disciplines the clock (Cisco IOS NTP docs)
    r"^Building configuration",    # the show command's own output, not configuration
    r"^Current configuration\s*:",
    r"^!?\s*Time: ",
    r"^Load for five secs",        # `exec prompt timestamp` prints load and time before the output
    r"^Time source is ",
    r"uptime is ",
)

# --- what IOS never prints -------------------------------------------------------------------
SHOW_SNMP_USER = "show snmp user"
HIDDEN = (
    Hidden(re.compile(r"^logging trap informational$"),
           "Cisco IOS Configuration Fundamentals Command Reference, logging trap: informational "
           "(severity 6) is the default, and a default is not shown in the running config"),
    Hidden(re.compile(r"^\s+no shutdown$"),
           "Cisco IOS Interface Command Reference, shutdown: an interface that is not shut prints "
           "no shutdown line", parent=re.compile(r"^interface ")),
    Hidden(re.compile(r"^snmp-server user "),
           "Cisco IOS SNMP Support Command Reference, snmp-server user: SNMPv3 users are not shown "
           "by show running-config; show snmp user lists them",
           checked_by=SHOW_SNMP_USER, section="management"),
)

# --- answers to a config line ------------------------------------------------------------------
# IOS rejects a line with one of these (Cisco IOS Configuration Fundamentals, "Understanding CLI
# error messages": % Ambiguous command, % Incomplete command, % Invalid input detected at '^'
# marker; netmiko 4.8's own checks: "% Invalid input detected", "%Error", "% Unknown command",
# "% Bad IP address", "% Unrecognized command"). "Command rejected: Bad VLAN list" (switchport)
# and "% 192.0.2.0 overlaps with Vlan10" (ip address) are rejections too. Any other line starting
# with % is a remark the line was taken with ("%Warning: portfast should only be enabled on
# ports connected to a single host...", "% Access VLAN does not exist. Creating vlan 30"): a
# warning, reported, not a failure; a rejection this list misses still fails the verification
# that follows every push. "No such command" is the lab emulator's rejection (it also says "% ...
# is assigned as a secondary address on ..." where IOS says "overlaps with").
ERROR_PATTERN = (r"^\s*% ?(?:Invalid|Incomplete command|Ambiguous command|Unknown command|Unrecognized command"
                 r"|[Ee]rror|ERROR|Bad |Command rejected|Cannot |Can't |Not allowed|\S+ overlaps with "
                 r"|\S+ is assigned as a secondary address)"
                 r"|^\s*Command rejected|No such command")
WARNING_PATTERN = r"^\s*%.*\S"


# --- a trunk's allowed VLANs ---------------------------------------------------------------------
# `switchport trunk allowed vlan LIST` replaces the list; `no switchport trunk allowed vlan`
# allows every VLAN (Cisco IOS Interface and Hardware Component Command Reference, switchport
# trunk). IOS prints a long list over several lines, the first `... allowed vlan 1-3,5,...` and
# the rest `... allowed vlan add 400,401,...`. So the lines of a port are folded into one set,
# compared as a set, and changed with `add` and `remove`, never through a negation.
ALLOWED = "switchport trunk allowed vlan "
ALLOWED_LINE = re.compile(r"^switchport trunk allowed vlan (?:(add|remove|except) )?(\S+)$")
ALL_VLANS = frozenset(range(1, 4095))


def vlan_set(text: str) -> frozenset[int]:
    """"10-12,20" -> {10, 11, 12, 20}; "all" and "none" as IOS means them. ValueError when malformed."""
    from netutils.vlan import vlanconfig_to_list  # noqa: PLC0415  (only when a trunk is compared)

    if text == "all":
        return ALL_VLANS
    if text == "none":
        return frozenset()
    return frozenset(vlanconfig_to_list(text))


def vlan_lists(vlans, first: int = 10**6, other: int = 10**6) -> list[str]:
    """A set of VLANs as IOS writes it ("1-3,5,6": three or more in a row make a range), cut in
    pieces of at most `first` characters, then `other` (netutils' IOS-like `vlanlist_to_config`)."""
    from netutils.vlan import vlanlist_to_config  # noqa: PLC0415

    if not vlans:
        return ["none"]
    if frozenset(vlans) == ALL_VLANS:
        return ["all"]
    return vlanlist_to_config(sorted(vlans), first_line_len=first, other_line_len=other)


def allowed_vlans(lines) -> frozenset[int] | None:
    """The VLANs a port's child lines allow on its trunk (None: no allowed-VLAN line, all VLANs)."""
    allowed = None
    for line in lines:
        match = ALLOWED_LINE.match(line.strip())
        if not match:
            continue
        verb, vlans = match.group(1), vlan_set(match.group(2))
        current = ALL_VLANS if allowed is None else allowed
        allowed = {None: vlans, "add": current | vlans, "remove": current - vlans,
                   "except": ALL_VLANS - vlans}[verb]
    return allowed


def canonical_children(lines: list[str]) -> list[str]:
    """A port's child lines with its allowed-VLAN lines folded into one, in one canonical form
    (stripped lines in, stripped lines out); other lines unchanged."""
    allowed = allowed_vlans(lines)
    if allowed is None:
        return list(lines)
    result, placed = [], False
    for line in lines:
        if ALLOWED_LINE.match(line.strip()):
            if not placed:
                result.append(ALLOWED + vlan_lists(allowed)[0])
                placed = True
        else:
            result.append(line)
    return result


def trunk_allowed_commands(have: frozenset[int] | None, want: frozenset[int]) -> list[str]:
    """The commands that take a trunk from allowing `have` (None: all VLANs) to `want`: `add`
    and `remove` when it has a list, so no VLAN it keeps is ever dropped, not even for a moment;
    the list itself when it allows all (IOS's default). Never a negation. Long lists are cut as
    IOS cuts them (netutils: 48 characters, then 44)."""
    if have is None or have == ALL_VLANS:
        first, *rest = vlan_lists(want, 48, 44)
        return [ALLOWED + first] + [f"{ALLOWED}add {piece}" for piece in rest]
    commands = []
    for verb, vlans in (("add", want - have), ("remove", have - want)):
        if vlans:
            commands += [f"{ALLOWED}{verb} {piece}" for piece in vlan_lists(vlans, 44, 44)]
    return commands


def _fold_trunk_lists(config) -> None:
    """hier_config post-load callback: every port's allowed-VLAN lines as one canonical line."""
    for interface in config.get_children(startswith="interface "):
        lines = [child.text for child in interface.children]
        if not any(line.startswith(ALLOWED) for line in lines):
            continue
        line = next(line for line in canonical_children(lines) if line.startswith(ALLOWED))
        first, *rest = [child for child in interface.children if child.text.startswith(ALLOWED)]
        for child in rest:
            child.delete()
        first.text = line


# --- hier_config ---------------------------------------------------------------------------------

@functools.cache
def driver():
    """hier_config's IOS driver with the rules real IOS needs (one instance; its rules are frozen).

    Idempotent (the new value replaces the old one; no `no ...` is sent first):
    - a port's `switchport access vlan`, `trunk native vlan`, `voice vlan` (sending `no
      switchport access vlan 20` first would drop the port into VLAN 1 for a moment);
    - `banner TYPE` (IOS replaces a banner when a new one is given); a banner that is no longer
      intended is removed with `no banner TYPE`, without its text;
    - `hostname`, `ip default-gateway`, `ip domain-name`, `ip ssh version`, `logging trap`,
      `enable secret`, `username NAME ...` (a `no username` first would lock out a session),
      `spanning-tree mode`, `vtp mode` (negated as `no vtp mode`: Catalyst 2960 command reference,
      `vtp`), and a line's `transport input`, `exec-timeout`, `login`.
    A trunk's allowed VLANs are one canonical line per port (see canonical_children) and are
    never negated: the change is computed by trunk_allowed_commands instead.
    """
    from hier_config.models import IdempotentCommandsRule, MatchRule, NegationSubRule  # noqa: PLC0415
    from hier_config.platforms.cisco_ios.driver import HConfigDriverCiscoIOS  # noqa: PLC0415

    def rule(*lineage: str) -> IdempotentCommandsRule:
        return IdempotentCommandsRule(match_rules=tuple(MatchRule(re_search=pattern) for pattern in lineage))

    allowed = (MatchRule(startswith="interface "), MatchRule(startswith=ALLOWED))

    class Driver(HConfigDriverCiscoIOS):
        @staticmethod
        def _instantiate_rules():
            rules = HConfigDriverCiscoIOS._instantiate_rules()
            idempotent = [
                *(rule("^interface ", rf"^switchport {what} ") for what in
                  ("access vlan", "trunk native vlan", "voice vlan")),
                rule(r"^banner (\S+) "),
                *(rule(rf"^{what} ") for what in ("hostname", "ip default-gateway", r"ip domain[- ]name",
                                                  "ip ssh version", "logging trap", "enable secret",
                                                  "spanning-tree mode", "vtp mode")),
                rule(r"^username (\S+) "),
                *(rule("^line ", rf"^{what}(?: |$)") for what in ("transport input", "exec-timeout", "login")),
            ]
            return rules.model_copy(update={
                "idempotent_commands": [*rules.idempotent_commands, *idempotent],
                "negation_sub": [*rules.negation_sub, NegationSubRule(
                    match_rules=(MatchRule(startswith="banner "),), search=r"(?s)^(no banner \S+) .*", replace=r"\1"),
                    # `no vtp mode` (back to server); IOS refuses a mode after the `no`.
                    NegationSubRule(match_rules=(MatchRule(startswith="vtp mode "),),
                                    search=r"^no vtp mode \S+$", replace="no vtp mode")],
                "post_load_callbacks": [*rules.post_load_callbacks, _fold_trunk_lists],
            })

        def idempotent_for(self, config, other_children):
            # A trunk's allowed list is never negated (that would allow every VLAN): taking it
            # as "replaced by the intended line" leaves the change to trunk_allowed_commands.
            if config.is_lineage_match(allowed):
                return config
            return super().idempotent_for(config, other_children)

    return Driver()


def remediation(running: str, intended: str) -> list[str]:
    """The commands from `running` to `intended` (both cut and masked), in the order to send:
    hier_config's remediation with driver()'s rules, hier_config's order weights, one space of
    indent per level and an `exit` after each block; a trunk's allowed list as `add`/`remove`."""
    from hier_config import WorkflowRemediation, get_hconfig  # noqa: PLC0415  (pydantic import is slow)

    rules = driver()  # one instance for both sides: hier_config refuses two drivers' configs
    have, want = get_hconfig(rules, running), get_hconfig(rules, intended)
    delta = WorkflowRemediation(have, want).remediation_config
    commands: list[str] = []

    def walk(children, depth: int, path: tuple[str, ...]) -> None:
        for child in sorted(children):
            if depth == 1 and path[0].startswith("interface ") and child.text.startswith(ALLOWED):
                port = have.get_child(equals=path[0])
                before = allowed_vlans(line.text for line in port.children) if port else None
                commands.extend(" " + command for command in trunk_allowed_commands(
                    before, allowed_vlans([child.text])))
                continue
            commands.append(" " * depth + child.text)
            if child.children:
                walk(child.children, depth + 1, (*path, child.text))
                commands.append(" " * (depth + 1) + "exit")

    walk(delta.children, 0, ())
    return commands


# --- line ranges ---------------------------------------------------------------------------------
_LINE_RANGE = re.compile(r"^line (\S+) (\d+)(?: (\d+))?$")


def _line_range(top: str) -> tuple[str, int, int] | None:
    match = _LINE_RANGE.match(top.strip())
    if not match:
        return None
    first = int(match.group(2))
    return match.group(1), first, int(match.group(3) or first)


def _line_top(kind: str, first: int, last: int) -> str:
    return f"line {kind} {first}" if first == last else f"line {kind} {first} {last}"


def align_line_ranges(intended: list[list[str]], running: list[list[str]]) -> list[list[str]]:
    """Intended blocks with every `line KIND A B` cut the way the running config prints it.

    IOS keeps lines in the blocks it created them in and prints `line vty 0 4` and `line vty 5
    15` even where `line vty 0 15` was configured (Cisco IOS Terminal Services Command
    Reference, line: "the first line ... last line"; five VTYs are made at boot, more when a
    range asks for them). An intended `line vty 0 15` is therefore compared as `line vty 0 4` and
    `line vty 5 15`, each with the intended children, so that a difference is sent into the
    printed blocks. Lines above the last one the device prints do not exist on it (a small
    platform with five VTYs prints only `line vty 0 4`) and are left out; a range the device
    does not print at all (a fresh device) stays as intended.
    """
    printed: dict[str, list[tuple[int, int]]] = {}
    for block in running:
        found = _line_range(block[0])
        if found:
            printed.setdefault(found[0], []).append(found[1:])
    result = []
    for block in intended:
        found = _line_range(block[0])
        ranges = sorted(printed.get(found[0], [])) if found else []
        if not found or not ranges or found[1:] in ranges:
            result.append(block)
            continue
        kind, first, last = found
        last = min(last, max(end for _, end in ranges))
        pieces, at = [], first
        for start, end in ranges:
            if end < at or start > last:
                continue
            if start > at:  # a gap the device does not print: keep it as its own block
                pieces.append((at, start - 1))
            pieces.append((max(start, at), min(end, last)))
            at = min(end, last) + 1
        if at <= last:
            pieces.append((at, last))
        result += [[_line_top(kind, a, b), *block[1:]] for a, b in pieces]
    return result


# --- banners -----------------------------------------------------------------------------------
_BANNER_COMMAND = re.compile(r"^(\s*banner \S+) (\^C|\S)(.*)$", re.S)
DELIMITERS = "^#%@~&$|"


def typed_banner(command: str) -> str:
    """A banner command as it is typed: IOS prints the delimiter as `^C` (the ETX character), but
    typed, `^C` is two characters and IOS takes the first one, `^`, as the delimiter, reading
    the `C` as the banner's first letter (Cisco IOS Configuration Fundamentals Command Reference,
    banner login: "banner login d message d ... d: delimiting character of your choice"). So the
    banner is sent with a one-character delimiter its text does not contain:
    "banner login ^C\\nText\\n^C" -> "banner login ^\\nText\\n^". Anything else is returned as it is.
    ValueError when every candidate delimiter occurs in the text.
    """
    match = _BANNER_COMMAND.match(command)
    if not match:
        return command
    head, delimiter, rest = match.groups()
    body = rest.split(delimiter, 1)[0]
    free = next((c for c in DELIMITERS if c not in body), None)
    if free is None:
        raise ValueError(f"no delimiter left for the banner ({DELIMITERS} all occur in its text)")
    return f"{head} {free}{body}{free}"


# --- SNMPv3 users ----------------------------------------------------------------------------------
_SNMP_USER = re.compile(
    r"^snmp-server user (\S+) (\S+)(?: remote \S+(?: udp-port \d+)?(?: vrf \S+)?)? (v1|v2c|v3)\b(.*)$")


def parse_snmp_users(output: str) -> list[dict[str, str]]:
    """`show snmp user` as a list of users, each {"user_name", "group_name", "engine_id",
    "storage_type", "access_list", "authentication_protocol", "privacy_protocol"} (ntc-templates'
    TextFSM template cisco_ios_show_snmp_user). A remark instead of users ("%SNMP agent not
    enabled" where no snmp-server line is configured) means no user. ValueError when the output
    is not that command's."""
    from ntc_templates.parse import parse_output  # noqa: PLC0415  (TextFSM loads its templates)
    from textfsm import TextFSMError  # noqa: PLC0415

    data = "\n".join(line for line in output.splitlines() if not line.lstrip().startswith("%"))
    try:
        return parse_output(platform="cisco_ios", command=SHOW_SNMP_USER, data=data) if data.strip() else []
    except TextFSMError as error:
        raise ValueError(f"`{SHOW_SNMP_USER}` printed what its ntc-template cannot read ({error})") from None


def _protocols(options: str) -> tuple[str, str]:
    """The authentication and privacy protocols of an `snmp-server user` line's options, as
    `show snmp user` names them ("SHA", "AES128"; "None" when there is none)."""
    found = (re.search(r"\bauth (md5|sha-2 \d+|sha)\b", options),
             re.search(r"\bpriv (aes \d+|3des|des56|des)\b", options))
    return tuple(match.group(1).replace(" ", "").replace("des56", "des").upper() if match else "None"
                 for match in found)


def intended_snmp_users(intended: str) -> dict[str, dict[str, str]]:
    """User name -> {"line", "group_name", "authentication_protocol", "privacy_protocol"} of the
    intended `snmp-server user` lines (v3 only)."""
    users = {}
    for line in intended.splitlines():
        match = _SNMP_USER.match(line.strip())
        if match and match.group(3) == "v3":
            auth, priv = _protocols(match.group(4))
            users[match.group(1)] = {"line": line.strip(), "group_name": match.group(2),
                                     "authentication_protocol": auth, "privacy_protocol": priv}
    return users


def missing_snmp_users(intended: str, users: list[dict[str, str]]) -> list[str]:
    """The intended SNMPv3 users `show snmp user` (parsed: `users`) lacks, or shows in another
    group or with other protocols, each as a sentence. Passwords cannot be compared: IOS shows
    none (a changed password is re-sent by removing the user by hand first)."""
    shown = {user["user_name"]: user for user in users}
    problems = []
    for name, want in intended_snmp_users(intended).items():
        have = shown.get(name)
        if have is None:
            problems.append(f"SNMPv3 user {name} (group {want['group_name']}) is missing")
            continue
        for key, what in (("group_name", "group"), ("authentication_protocol", "authentication"),
                          ("privacy_protocol", "privacy")):
            if have.get(key, "").upper() != want[key].upper():
                problems.append(f"SNMPv3 user {name} has {what} {have.get(key)!r}, intended {want[key]!r}")
    return problems


def unintended_snmp_users(intended: str, users: list[dict[str, str]]) -> list[dict[str, str]]:
    """The users `show snmp user` lists that the intended config does not have."""
    wanted = intended_snmp_users(intended)
    return [user for user in users if user["user_name"] not in wanted]


def snmp_user_commands(intended: str, output: str) -> list[str]:
    """What to send so that `show snmp user` (`output`) lists exactly the intended SNMPv3 users:
    the intended line of each user missing or different, `no snmp-server user NAME GROUP v3` for
    each user not intended."""
    users = parse_snmp_users(output)
    shown = {user["user_name"]: user for user in users}
    wanted = intended_snmp_users(intended)
    differing = {name for name in wanted if missing_snmp_users(
        wanted[name]["line"], [shown[name]] if name in shown else [])}
    return ([f"no snmp-server user {user['user_name']} {user['group_name']} v3"
             for user in unintended_snmp_users(intended, users)]
            + [wanted[name]["line"] for name in wanted if name in differing])


def snmp_users_added(before: str, now: str) -> list[str]:
    """What takes away the SNMPv3 users `show snmp user` lists `now` but did not list `before`
    (a roll-back: the running config never shows them, so the pre-push backup cannot). Users
    that were there before and are gone cannot be put back: IOS shows no key."""
    earlier = {user["user_name"] for user in parse_snmp_users(before)}
    return [f"no snmp-server user {user['user_name']} {user['group_name']} v3"
            for user in parse_snmp_users(now) if user["user_name"] not in earlier]

"""What differs between device platforms: sections, volatile lines, secrets, how to talk to them.

A *section* is a named part of a configuration the toolkit may own (VLANs, interfaces, the
management plane...). Which sections are managed is province policy per platform
(`network_managed_sections`): the lab's emulator supports only some of them, so the lab manages
only those, and every comparison, push and verification is limited to the managed sections.
Sections are matched on top-level lines; a section may also claim child lines of another
section's blocks (`port_protection` takes the spanning-tree lines inside interfaces).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MASK = "<masked>"


@dataclass(frozen=True)
class Section:
    name: str
    top: re.Pattern
    child: re.Pattern | None = None  # set: this section owns matching child lines of `top` blocks


@dataclass(frozen=True)
class Platform:
    name: str
    netmiko_type: str
    sections: tuple[Section, ...]
    volatile: tuple[re.Pattern, ...]   # lines that change without anyone changing the config
    ignored: tuple[re.Pattern, ...]    # lines no one manages (defaults the device always shows)
    secrets: tuple[re.Pattern, ...]    # group 1 is kept, the rest of the match is masked
    comment: str
    block_indent: bool                 # True: children are indented under their parent line
    save_command: str = ""
    show_command: str = ""
    error_pattern: str = ""
    templates: dict[str, str] = field(default_factory=dict)  # device role -> template


def _re(*patterns: str) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(pattern) for pattern in patterns)


IOS = Platform(
    name="ios",
    netmiko_type="cisco_ios",
    sections=(
        Section("hostname", re.compile(r"^hostname ")),
        Section("vlans", re.compile(r"^vlan \d")),
        Section("port_protection", re.compile(r"^interface "), re.compile(r"^\s+spanning-tree ")),
        Section("interfaces", re.compile(r"^interface ")),
        Section("routes", re.compile(r"^ip route ")),
        Section("spanning_tree", re.compile(r"^spanning-tree ")),
        Section("management", re.compile(
            r"^(service |no service |no ip http|ip domain|ip ssh |username |enable secret |aaa |"
            r"ntp |logging |snmp-server |banner |line |ip default-gateway |no ip domain)")),
    ),
    volatile=_re(r"^! (Last configuration change|NVRAM config last updated)", r"^ntp clock-period ",
                 r"^Building configuration", r"^Current configuration", r"^!?\s*Time: ",
                 r"uptime is "),
    ignored=_re(r"^version ", r"^end$", r"^vlan (1|100[2-5])$", r"^!"),
    secrets=_re(r"^(\s*(?:enable|username \S+ .*?)\s(?:secret|password))(?: \d+)? \S+",
                r"^(snmp-server user .*? auth \S+) \S+", r"^(snmp-server user .*? priv (?:aes \d+|\S+)) \S+",
                r"^(snmp-server community) \S+", r"^(\s*(?:key|authentication-key|ppp chap password))(?: \d+)? \S+"),
    comment="!",
    block_indent=True,
    save_command="write memory",
    show_command="show running-config",
    # The emulator says "No such command"; IOS "% Invalid input", "% Incomplete command"...
    error_pattern=r"No such command|Invalid input|Incomplete command|Ambiguous command|%",
    templates={"access": "ios/access.j2", "core": "ios/core.j2"},
)

ROUTEROS = Platform(
    name="routeros",
    netmiko_type="mikrotik_routeros",
    sections=(
        Section("identity", re.compile(r"^/system identity ")),
        Section("vlans", re.compile(r"^/interface (vlan|bridge vlan) ")),
        Section("interfaces", re.compile(r"^/interface (bridge|bridge port|ethernet) ")),
        Section("addresses", re.compile(r"^/ip (address|route) ")),
        Section("dns", re.compile(r"^/ip dns ")),
        Section("ntp", re.compile(r"^/system (ntp|clock) ")),
        Section("logging", re.compile(r"^/system logging ")),
        Section("snmp", re.compile(r"^/snmp ")),
        Section("users", re.compile(r"^/user ")),
        Section("services", re.compile(r"^/ip (service|ssh) |^/system note ")),
        Section("firewall", re.compile(r"^/ip firewall ")),
    ),
    volatile=_re(r"^# \w{3}/\d{2}/\d{4} \d{2}:\d{2}:\d{2} by RouterOS", r"^# \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} by RouterOS",
                 r"^# software id = ", r"uptime"),
    ignored=_re(r"^#"),
    secrets=_re(r"((?:^|\s)(?:password|auth-password|encryption-password|secret)=)(?:\"[^\"]*\"|\S+)"),
    comment="#",
    block_indent=False,
    show_command="/export",
    error_pattern=r"bad command name|expected end of command|syntax error|failure:|invalid value",
    templates={"edge": "routeros/edge.rsc.j2"},
)

PLATFORMS = {platform.name: platform for platform in (IOS, ROUTEROS)}


def strip_volatile(platform: Platform, text: str) -> str:
    """The config without lines that change on their own, so that a diff means a change."""
    return "\n".join(line for line in text.splitlines()
                     if not any(pattern.search(line) for pattern in platform.volatile)).strip() + "\n"


def mask_line(platform: Platform, line: str) -> str:
    for pattern in platform.secrets:
        line = pattern.sub(lambda match: f"{match.group(1)} {MASK}" if not match.group(1).endswith("=")
                           else f"{match.group(1)}{MASK}", line)
    return line


def mask_secrets(platform: Platform, text: str) -> str:
    """The config with every secret replaced by `<masked>` (backups and diffs never show one)."""
    return "\n".join(mask_line(platform, line) for line in text.splitlines()) + "\n"


def unmask_map(platform: Platform, text: str) -> dict[str, str]:
    """Masked line -> real line, to turn masked remediation commands back into sendable ones."""
    return {mask_line(platform, line).strip(): line.strip() for line in text.splitlines()
            if mask_line(platform, line) != line}


_ACTION = re.compile(r"\s(add|set|remove|disable|enable)\b")
_BANNER = re.compile(r"^banner \S+ (\^C|\S)")


def flatten(platform: Platform, text: str) -> list[str]:
    """RouterOS exports are `/path` headers followed by commands: one self-contained line each."""
    if platform.block_indent:
        return text.splitlines()
    lines, path = [], ""
    for raw in text.replace("\\\n    ", "").splitlines():
        line = raw.strip()
        if line.startswith("/") and "=" not in line and not _ACTION.search(line):
            path = line
        elif line and not line.startswith("#"):
            lines.append(f"{path} {line}" if path else line)
    return lines


def blocks(platform: Platform, text: str) -> list[list[str]]:
    """Top-level blocks: a line and its indented children (IOS) or one line each (RouterOS)."""
    result: list[list[str]] = []
    banner_end = None  # inside a banner: its closing delimiter
    for line in flatten(platform, text):
        if banner_end:
            result[-1].append(line.rstrip())
            banner_end = None if banner_end in line else banner_end
            continue
        if not line.strip() or any(pattern.search(line) for pattern in (*platform.ignored, *platform.volatile)):
            continue
        if platform.block_indent and line[:1].isspace() and result:
            result[-1].append(line.rstrip())
        else:
            result.append([line.rstrip()])
            opening = _BANNER.match(line)
            if opening and line.count(opening.group(1)) < 2:
                banner_end = opening.group(1)
    return result


def section_of(platform: Platform, top: str) -> str | None:
    return next((s.name for s in platform.sections if s.child is None and s.top.search(top)), None)


def managed_config(platform: Platform, text: str, managed: list[str] | tuple[str, ...]) -> str:
    """Only the managed sections of a config, for comparing and verifying."""
    child_sections = [s for s in platform.sections if s.child is not None]
    kept = []
    for block in blocks(platform, text):
        if section_of(platform, block[0]) not in managed:
            continue
        children = [line for line in block[1:] if not any(
            s.top.search(block[0]) and s.child.search(line) and s.name not in managed for s in child_sections)]
        kept.append("\n".join([block[0], *children]))
    return "\n".join(kept) + ("\n" if kept else "")

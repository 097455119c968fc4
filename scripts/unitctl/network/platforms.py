"""What differs between device platforms: sections, volatile lines, secrets, how to talk to them.

A *section* is a named part of a configuration the toolkit may own (VLANs, interfaces, the
management plane...). Which sections are managed is province policy per platform
(`network_managed_sections`): the lab's emulator supports only some of them, so the lab manages
only those, and every comparison, push and verification is limited to the managed sections.
Sections are matched on top-level lines; a section may also claim child lines of another
section's blocks (`port_protection` takes the spanning-tree lines inside interfaces).

What each platform's devices really print and take (secrets, volatile and hidden lines, error
messages, remediation rules) is stated in its own module, ios.py and routeros.py, with sources;
this module assembles them into a Platform and holds what works the same on every platform.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from unitctl.network import ios, management_path, routeros
from unitctl.network.rules import Hidden, Secret, Section, compiled

MASK = "<masked>"

__all__ = ["IOS", "MASK", "PLATFORMS", "ROUTEROS", "Hidden", "Platform", "Secret", "Section", "blocks",
           "flatten", "managed_config", "mask_line", "mask_secrets", "section_of", "strip_volatile",
           "unmask_map", "warnings", "without_hidden"]


@dataclass(frozen=True)
class Platform:
    name: str
    netmiko_type: str
    sections: tuple[Section, ...]
    volatile: tuple[re.Pattern, ...]   # lines that change without anyone changing the config
    ignored: tuple[re.Pattern, ...]    # lines no one manages (defaults the device always shows)
    secrets: tuple[Secret, ...]        # values masked in backups, diffs and reports
    comment: str
    block_indent: bool                 # True: children are indented under their parent line
    hidden: tuple[Hidden, ...] = ()    # intended lines the device never prints
    save_command: str = ""
    show_command: str = ""
    error_pattern: str = ""            # the device rejected a line
    warning_pattern: str = ""          # a remark on a line it took (reported, not a failure)
    templates: dict[str, str] = field(default_factory=dict)  # device role -> template
    # (running, intended) -> commands, both cut and masked; None: the intended lines it lacks
    remediate: Callable[[str, str], list[str]] | None = None
    # (intended blocks, running blocks) -> intended blocks as the device would print them
    align: Callable[[list[list[str]], list[list[str]]], list[list[str]]] | None = None
    typed: Callable[[str], str] | None = None  # a command as it is typed (IOS: a banner's delimiter)
    # show command -> (intended config, its output) -> commands for what only that command shows
    shown_checks: dict[str, Callable[[str, str], list[str]]] = field(default_factory=dict)
    # show command -> (its output before a push, now) -> commands a roll-back sends to undo what
    # the push added there
    shown_undo: dict[str, Callable[[str, str], list[str]]] = field(default_factory=dict)
    # (running, intended, commands, address, peer) -> what to send now, in one write, and after a
    # new read, so as never to cut the path to the device (unitctl.network.management_path)
    plan_push: Callable[..., management_path.PushPlan] | None = None
    # How the prompt ends after each config line (netmiko's `terminator`: the device's name may
    # change mid-push), and the command that renames the device (its prompt is learnt again).
    prompt_end: str = "#"
    renames: str = r"^hostname "

    def checks(self, managed) -> list[str]:
        """The show commands to read besides the running config, for these managed sections."""
        return sorted({hidden.checked_by for hidden in self.hidden
                       if hidden.checked_by and hidden.section in managed})


IOS = Platform(
    name="ios",
    netmiko_type="cisco_ios",
    sections=(
        Section("hostname", re.compile(r"^hostname ")),
        Section("vlans", re.compile(r"^(vlan \d|vtp )")),
        Section("port_protection", re.compile(r"^interface "), re.compile(r"^\s+spanning-tree ")),
        Section("interfaces", re.compile(r"^interface ")),
        Section("routes", re.compile(r"^ip route ")),
        Section("spanning_tree", re.compile(r"^spanning-tree ")),
        Section("management", re.compile(
            r"^(service |no service |no ip http|ip http |ip domain|ip ssh |username |enable secret |aaa |"
            r"ntp |logging |snmp-server |banner |line |ip default-gateway |no ip domain)")),
    ),
    volatile=ios.VOLATILE,
    ignored=compiled(r"^version ", r"^end$", r"^vlan (1|100[2-5])$", r"^!"),
    secrets=ios.SECRETS,
    hidden=ios.HIDDEN,
    comment="!",
    block_indent=True,
    save_command="write memory",
    show_command="show running-config",
    error_pattern=ios.ERROR_PATTERN,
    warning_pattern=ios.WARNING_PATTERN,
    templates={"access": "ios/access.j2", "core": "ios/core.j2"},
    remediate=ios.remediation,
    align=ios.align_line_ranges,
    typed=ios.typed_banner,
    shown_checks={ios.SHOW_SNMP_USER: ios.snmp_user_commands},
    shown_undo={ios.SHOW_SNMP_USER: ios.snmp_users_added},
    plan_push=management_path.plan,
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
    volatile=routeros.VOLATILE,
    ignored=compiled(r"^#"),
    secrets=routeros.SECRETS,
    comment="#",
    block_indent=False,
    show_command="/export",
    error_pattern=routeros.ERROR_PATTERN,
    templates={"edge": "routeros/edge.rsc.j2"},
    prompt_end=r"\] > ?",
    renames=r"^/system identity set ",
)

PLATFORMS = {platform.name: platform for platform in (IOS, ROUTEROS)}


# RouterOS `/export` wraps a long command: `\` at the end of a line, the rest on the next one
# after its indentation (MikroTik manual, Scripting: "line joining"). A wrap may fall anywhere,
# between a secret's name and its value or inside a quoted value.
_CONTINUATION = re.compile(r"\\\n[ \t]*")


def config_lines(platform: Platform, text: str) -> list[str]:
    """The config's lines as the device means them: RouterOS's wrapped commands joined into one
    line each (so that a secret split over two lines is masked whole), IOS's as printed."""
    return (text if platform.block_indent else _CONTINUATION.sub("", text)).splitlines()


def strip_volatile(platform: Platform, text: str) -> str:
    """The config without lines that change on their own, so that a diff means a change."""
    return "\n".join(line for line in text.splitlines()
                     if not any(pattern.search(line) for pattern in platform.volatile)).strip() + "\n"


def _masked(match: re.Match) -> str:
    head = match.group(1)
    return f"{head}{'' if head.endswith(('=', ':')) else ' '}{MASK}"


# A RouterOS quoted value ("a \"b\" c"): text inside it is the value, never a property name.
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def mask_line(platform: Platform, line: str, parents: tuple[str, ...] = ()) -> str:
    """One line with its secrets masked; `parents` are the lines it is under (IOS blocks, the
    RouterOS `/path`). Masking a masked line changes nothing. On RouterOS a match that starts
    inside a quoted value (`comment="old password=x"`) is text, not a property, and is kept."""
    context = parents[-1] if parents else line
    for rule in platform.secrets:
        if rule.parent is None or rule.parent.search(context):
            if platform.block_indent:
                line = rule.pattern.sub(_masked, line)
            else:
                quoted = [match.span() for match in _QUOTED.finditer(line)]
                line = rule.pattern.sub(lambda m: m.group(0) if any(a < m.start() < b for a, b in quoted)
                                        else _masked(m), line)
    return line


def _is_path(line: str) -> bool:
    """A RouterOS `/path` header (`/ip service`), not a command with its path (`/ip service set ...`)."""
    return line.startswith("/") and "=" not in line and not _ACTION.search(line)


def walk(platform: Platform, lines: list[str]) -> Iterator[tuple[tuple[str, ...], str, bool]]:
    """Every line with the lines it is under and whether it is a banner's text (not config):
    (parents, line, in_banner). IOS parents are the lines above it with less indentation; a
    RouterOS command's parent is its `/path` header."""
    stack: list[tuple[int, str]] = []
    path, banner_end = "", None
    for line in lines:
        if banner_end:
            yield tuple(text for _, text in stack), line, True
            banner_end = None if banner_end in line else banner_end
            continue
        if not line.strip():
            yield (), line, False
            continue
        if platform.block_indent:
            indent = len(line) - len(line.lstrip())
            while stack and stack[-1][0] >= indent:
                stack.pop()
            parents = tuple(text for _, text in stack)
            stack.append((indent, line))
        elif _is_path(line.strip()):
            path, parents = line.strip(), ()
        else:
            parents = (path,) if path and not line.startswith("/") else ()
        yield parents, line, False
        opening = _BANNER.match(line)
        if opening and line.count(opening.group(1)) < 2:
            banner_end = opening.group(1)


def mask_secrets(platform: Platform, text: str) -> str:
    """The config with every secret replaced by `<masked>` (backups and diffs never show one)."""
    return "\n".join(line if banner else mask_line(platform, line, parents)
                     for parents, line, banner in walk(platform, config_lines(platform, text))) + "\n"


def unmask_map(platform: Platform, text: str) -> dict[tuple[str, ...], str | None]:
    """Masked path -> real line, to turn masked remediation commands back into sendable ones.

    A path is the masked, stripped lines a line is under, then the masked line itself:
    ("line vty 0 4", "password <masked>") -> "password 7 0822455D0A16". Two lines that mask
    alike on the same path but differ (two SNMP communities, both RO) map to None: which one a
    masked command means cannot be known.
    """
    real: dict[tuple[str, ...], str | None] = {}
    for parents, line, banner in walk(platform, config_lines(platform, text)):
        masked = mask_line(platform, line, parents)
        if banner or masked == line:
            continue
        path = tuple(mask_line(platform, parent, parents[:n]).strip() for n, parent in enumerate(parents))
        key = (*path, masked.strip())
        real[key] = line.strip() if real.get(key, line.strip()) == line.strip() else None
    return real


def without_hidden(platform: Platform, text: str) -> str:
    """The config without the lines the device never prints (platform.hidden), so that neither
    a comparison nor an audit expects them in a running config."""
    if not platform.hidden:
        return text
    kept = []
    for parents, line, banner in walk(platform, config_lines(platform, text)):
        if not banner and any(rule.pattern.search(line) and (rule.parent is None or (
                parents and rule.parent.search(parents[-1]))) for rule in platform.hidden):
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def warnings(platform: Platform, output: str) -> list[str]:
    """The device's remarks on lines it took (`output` of a config session), each as one line:
    a line matching the platform's warning pattern but not its error pattern, joined with the
    indented lines that continue it (IOS wraps a long remark: "%Warning: portfast should only
    be enabled on ports connected to a single" / " host. Connecting hubs, ...")."""
    if not platform.warning_pattern:
        return []
    found: list[str] = []
    continuing = False
    for line in output.splitlines():
        if re.search(platform.warning_pattern, line) and not (
                platform.error_pattern and re.search(platform.error_pattern, line)):
            found.append(line.strip())
            continuing = True
        elif continuing and line[:1].isspace() and line.strip():
            found[-1] += " " + line.strip()
        else:
            continuing = False
    return found


_ACTION = re.compile(r"\s(add|set|remove|disable|enable)\b")
_BANNER = re.compile(r"^banner \S+ (\^C|\S)")


def flatten(platform: Platform, text: str) -> list[str]:
    """RouterOS exports are `/path` headers followed by commands: one self-contained line each."""
    if platform.block_indent:
        return text.splitlines()
    lines, path = [], ""
    for raw in config_lines(platform, text):
        line = raw.strip()
        if _is_path(line):
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

"""Network devices in the compliance suite: what a device's running config shows against the
promises of the inventory and province policy (checks NET-001... in tests/compliance/).

`inspect(targets)` reads every device once, concurrently (the same bounded pool and per-device
timeouts as `unitctl net drift`), and keeps for each one a `DeviceFacts`: plain, secret-masked
data that can be written to JSON and shared between the suite's worker processes. The check
functions below are pure: they take a DeviceFacts and return the problems found, one plain
sentence each (no problem: compliant).

A check reads only sections the toolkit manages on that device (`network_managed_sections`):
what the toolkit does not own it cannot put right, so such a check is not applicable there, with
the reason the policy gives (`network_unmanaged_reason`; the lab's: its switch emulator cannot
hold those lines).
"""

from __future__ import annotations

import re
import shlex
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from unitctl.network import ios
from unitctl.network.backup import backup_text
from unitctl.network.compare import compare, expected
from unitctl.network.operations import Result, read_checks, run_many
from unitctl.network.platforms import Platform, blocks
from unitctl.network.render import MissingVariable, Target, context, render
from unitctl.network.session import Session

EVIDENCE_LINES = 20  # remediation lines shown in a finding; the rest are counted


@dataclass
class DeviceFacts:
    device: str
    unit_id: str
    platform: str
    managed: list[str]
    unmanaged_reason: str = ""
    reachable: bool = False
    message: str = ""              # why it is unreachable, or why the intended config is unknown
    running: str = ""              # the running config, volatile lines stripped, secrets masked
    intended: str | None = None    # the intended config, secrets masked (None: could not render)
    remediation: list[str] | None = None  # what a push would send to the managed sections
    ports: list[dict[str, Any]] = field(default_factory=list)  # every port as the inventory plans it
    vlans: list[dict[str, Any]] = field(default_factory=list)  # the unit's addressing plan
    dead_vlan: int | None = None
    seconds: float = 0.0
    shown: dict[str, str] = field(default_factory=dict)  # show command -> output (platform.checks)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceFacts:
        return cls(**data)


def inspect(targets: list[Target], workers: int | None = None) -> dict[str, DeviceFacts]:
    """Read every device's running config, at most `workers` at once (default: the policy's
    `network_workers`), each within its own `network_timeout_s`; then compare, offline."""
    if not targets:
        return {}
    workers = workers or int(targets[0].settings.get("workers", 10))
    running: dict[str, tuple[str, float]] = {}
    outputs: dict[str, dict[str, str]] = {}

    def read(target: Target) -> Result:
        started = time.monotonic()
        with Session(target) as session:
            text = session.running()
            outputs[target.name] = read_checks(session, target.platform, target.managed_sections)
            running[target.name] = (text, round(time.monotonic() - started, 3))
        return Result(target.name, target.unit_id)

    results = run_many(read, targets, workers=workers)
    return {target.name: facts_of(target, *running.get(target.name, (None, 0.0)), message=result.message,
                                  shown=outputs.get(target.name))
            for target, result in zip(targets, results)}


def facts_of(target: Target, running: str | None, seconds: float = 0.0, message: str = "",
             shown: dict[str, str] | None = None) -> DeviceFacts:
    """What the checks need to know about a device, from its running config (None: it did not
    answer) and the output of the platform's other show commands (`shown`, platform.checks)."""
    plan = context(target, masked=True)
    dead = plan.get("dead_vlan")
    facts = DeviceFacts(
        device=target.name, unit_id=target.unit_id, platform=target.platform.name,
        managed=target.managed_sections, unmanaged_reason=str(target.settings.get("unmanaged_reason") or ""),
        message=message, seconds=seconds,
        ports=[dict(port) for port in plan.get("ports", [])],
        vlans=[{"id": vlan.get("id"), "name": vlan.get("name")} for vlan in plan.get("vlans", [])],
        dead_vlan=dead.get("id") if dead else None, shown=dict(shown or {}))
    if running is None:
        return facts
    facts.reachable, facts.running = True, backup_text(target.platform, running)
    try:  # the same comparison as `unitctl net drift`, on the masked intended config
        facts.intended = render(target, masked=True)
        facts.remediation = compare(target.platform, running, facts.intended, target.managed_sections,
                                    facts.shown).lines()
    except (MissingVariable, ValueError) as error:  # ValueError: a show command's output not understood
        facts.message = str(error)
    return facts


# --- applicability ---------------------------------------------------------------------------

def not_applicable(facts: DeviceFacts, sections: tuple[str, ...], platforms: tuple[str, ...] = ("ios",)) -> str | None:
    """Why a check of these sections does not apply to this device, or None when it does."""
    if facts.platform not in platforms:
        return f"this check reads {'/'.join(platforms)} configs; {facts.device} is {facts.platform}"
    unmanaged = [section for section in sections if section not in facts.managed]
    if unmanaged:
        reason = f"the {', '.join(unmanaged)} section{'s are' if len(unmanaged) > 1 else ' is'} not managed on " \
                 f"{facts.device} (network_managed_sections: {', '.join(facts.managed) or 'none'})"
        return reason + (f": {facts.unmanaged_reason}" if facts.unmanaged_reason else "")
    return None


# --- reading an IOS config --------------------------------------------------------------------

def ios_blocks(platform: Platform, text: str) -> dict[str, list[str]]:
    """Top-level line -> its child lines (stripped), from a running or intended config; a port's
    allowed-VLAN lines as one line (IOS wraps a long list into `... allowed vlan add ...` lines)."""
    found: dict[str, list[str]] = {}
    for block in blocks(platform, text):
        found.setdefault(block[0].strip(), []).extend(line.strip() for line in block[1:])
    return {top: ios.canonical_children(children) for top, children in found.items()}


def expected_blocks(platform: Platform, facts: DeviceFacts) -> dict[str, list[str]]:
    """The intended config's blocks as the device would print them: no line it never prints
    (defaults, SNMPv3 users), VTY ranges cut as its running config cuts them."""
    return ios_blocks(platform, expected(platform, facts.intended or "", facts.running))


def ios_vlans(platform: Platform, text: str) -> dict[int, str | None]:
    """VLAN id -> name (None when unnamed)."""
    vlans = {}
    for top, children in ios_blocks(platform, text).items():
        match = re.fullmatch(r"vlan (\d+)", top)
        if match:
            names = [line.split(" ", 1)[1] for line in children if line.startswith("name ")]
            vlans[int(match.group(1))] = names[0] if names else None
    return vlans


def hostname_of(platform: Platform, text: str) -> str | None:
    names = [top.split(" ", 1)[1] for top in ios_blocks(platform, text) if top.startswith("hostname ")]
    return names[0] if names else None


# --- the checks' logic ------------------------------------------------------------------------

def drift_problems(facts: DeviceFacts, limit: int = EVIDENCE_LINES, inventory: str | None = None) -> list[str]:
    """The remediation a push would send, shortened for a report; the line that says how many
    more there are names the command that shows them all, on `inventory` (as printed, e.g.
    'inventory/qom.unitctl.yml'; None: not named, the lab's)."""
    if facts.remediation is None:
        raise ValueError(f"the intended config of {facts.device} is unknown: {facts.message}")
    named = shlex.join(["-i", inventory]) + " " if inventory else ""
    return shorten(facts.remediation, limit, f"unitctl net diff {named}-l {facts.device}")


def shorten(lines: list[str], limit: int, where: str) -> list[str]:
    if len(lines) <= limit:
        return list(lines)
    return lines[:limit] + [f"... and {len(lines) - limit} more lines (`{where}` shows them all)"]


def vlan_problems(platform: Platform, facts: DeviceFacts) -> list[str]:
    have = ios_vlans(platform, facts.running)
    problems = []
    for vlan in facts.vlans:
        vlan_id, name = int(vlan["id"]), vlan.get("name")
        if vlan_id not in have:
            problems.append(f"vlan {vlan_id} ({name}) of the addressing plan is missing")
        elif name and have[vlan_id] != name:
            problems.append(f"vlan {vlan_id} is named {have[vlan_id]!r}, the addressing plan says {name!r}")
    return problems


def _planned_ports(facts: DeviceFacts, running: dict, shut: bool, problems: list[str]):
    """The inventory's ports that are to be shut (or not), each with its running lines, in the
    inventory's order; a port the device does not have goes into `problems` in its place."""
    for port in facts.ports:
        if bool(port.get("shutdown")) != shut:
            continue
        have = running.get(f"interface {port['port']}")
        if have is None:
            problems.append(f"{port['port']}: the port is missing")
        else:
            yield port, have


def used_port_problems(platform: Platform, facts: DeviceFacts) -> list[str]:
    """Ports the inventory describes: present, not shut, with the intended switchport lines."""
    running, intended = ios_blocks(platform, facts.running), expected_blocks(platform, facts)
    problems = []
    for port, have in _planned_ports(facts, running, shut=False, problems=problems):
        name = port["port"]
        if "shutdown" in have:
            problems.append(f"{name} ({port.get('description', '')}) is shut down")
        for line in intended.get(f"interface {name}", []):
            if line.startswith("switchport ") and line not in have:
                found = [item for item in have if item.startswith(line.rsplit(" ", 1)[0] + " ")]
                problems.append(f"{name}: '{line}' is missing" + (f" (has '{found[0]}')" if found else ""))
    return problems


def unused_port_problems(platform: Platform, facts: DeviceFacts) -> list[str]:
    """Ports no host uses: shut down, in access mode, in the dead VLAN."""
    running = ios_blocks(platform, facts.running)
    problems = []
    for port, have in _planned_ports(facts, running, shut=True, problems=problems):
        name = port["port"]
        wrong = [] if "shutdown" in have else ["not shut down"]
        if port.get("vlan") is None:
            wrong.append("the addressing plan has no VLAN with purpose unused_ports to park it in")
        elif f"switchport access vlan {port['vlan']}" not in have:
            where = [item for item in have if item.startswith("switchport access vlan ")]
            wrong.append(f"not in the dead VLAN {port['vlan']}" + (f" ('{where[0]}')" if where else ""))
        if wrong:
            problems.append(f"{name} is unused but " + " and ".join(wrong))
    return problems


def hostname_problems(platform: Platform, facts: DeviceFacts) -> list[str]:
    name = hostname_of(platform, facts.running)
    return [] if name == facts.device else [f"the hostname is {name!r}, the inventory name is {facts.device!r}"]


def missing_lines(platform: Platform, facts: DeviceFacts, selector: str) -> list[str]:
    """Intended top-level lines matching `selector` (and their child lines) the running config
    lacks, the intended config taken as the device would print it (expected_blocks)."""
    pattern = re.compile(selector)
    running = ios_blocks(platform, facts.running)
    problems = []
    for top, children in expected_blocks(platform, facts).items():
        if not pattern.search(top):
            continue
        if top not in running:
            problems.append(f"missing: {top}")
            continue
        problems += [f"{top}: missing '{child}'" for child in children if child not in running[top]]
    return problems


def forbidden_lines(platform: Platform, facts: DeviceFacts, patterns: dict[str, str]) -> list[str]:
    """Running lines (top-level or child) matching a forbidden pattern, each with why it is forbidden."""
    problems = []
    for top, children in ios_blocks(platform, facts.running).items():
        for line, shown in [(top, top), *((child, f"{top}: {child}") for child in children)]:
            problems += [f"{shown} ({why})" for pattern, why in patterns.items() if re.search(pattern, line)]
    return problems


def banner_problems(platform: Platform, facts: DeviceFacts) -> list[str]:
    """The intended login banner, word for word (both languages), is on the device."""
    def banner(text: str) -> str | None:
        for block in blocks(platform, text):
            if block[0].startswith("banner login"):
                return "\n".join(line.strip() for line in block)
        return None

    want, have = banner(facts.intended or ""), banner(facts.running)
    if want is None:
        return []
    if have is None:
        return ["there is no login banner"]
    return [] if want == have else ["the login banner differs from the province's (Persian and English) text"]


def snmp_user_problems(platform: Platform, facts: DeviceFacts) -> list[str]:
    """The intended SNMPv3 users against `show snmp user` (IOS keeps them out of the running
    config): missing or different users, and users the intent does not have."""
    output = facts.shown.get(ios.SHOW_SNMP_USER)
    if output is None:
        return [f"the SNMPv3 users were not read (`{ios.SHOW_SNMP_USER}`)"]
    users = ios.parse_snmp_users(output)
    return ios.missing_snmp_users(facts.intended or "", users) + [
        f"SNMPv3 user {user['user_name']} (group {user['group_name']}) is not intended"
        for user in ios.unintended_snmp_users(facts.intended or "", users)]

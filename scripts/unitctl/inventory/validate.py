"""Validation of a province: the schema of every unit file plus the rules across files and units.

`validate_province` reports every problem at once (file, YAML path, line, reason in plain words
in the environment's language: unitctl.i18n) so a technician can fix them all in one pass.
Nothing here raises on a broken inventory.
File names in problems start at the inventory folder (e.g. `inventory/units/qom-court/hosts.yml`),
which is what a technician sees from the top of the checkout.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from pathlib import Path
from typing import Any

from unitctl import paths
from unitctl.i18n import N_, _, word
from unitctl.inventory.interfaces import canonical_ios_port, ios_port_problem
from unitctl.inventory.load import (
    UNIT_FILES,
    Province,
    Unit,
    Vaulted,
    YamlFile,
    YamlPath,
    load_units_dir,
    load_yaml_file,
    todo_lines,
)
from unitctl.inventory.policy_schema import TYPE_WORDS, check_policy_file, load_schema, missing_required
from unitctl.inventory.vaults import UNIT_SECRETS, header_of, read_header, vault_path
from unitctl.inventory.schema import (
    PRIVILEGED_ROLES,
    PROVINCE_ADDRESSING,
    Record,
    check_document,
    did_you_mean_hint,
    is_placeholder,
)


@dataclass(frozen=True)
class Problem:
    file: str  # from the inventory folder down, e.g. inventory/units/qom-court/hosts.yml
    path: str  # YAML path inside the file, e.g. hosts[2].address ("" for the whole file)
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.reason}" if self.path else f"{where}: {self.reason}"


def format_path(path: YamlPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def format_problems(problems: list[Problem]) -> str:
    return "\n".join(str(problem) for problem in problems)


def from_here(path: Path) -> str:
    """A path as a person at a shell opens it: from the current folder when it is below it, else whole."""
    full, here = Path(os.path.abspath(path)), Path(os.getcwd())
    return str(full.relative_to(here)) if full.is_relative_to(here) else str(full)


def seen_from_here(problems: list[Problem], inventory_root: Path) -> list[Problem]:
    """`problems` of the inventory at `inventory_root` (validate_province, pending_todos) with each file
    named for a person at a shell (from_here), where the checks name it from the inventory root's
    parent: the same at the checkout's top (inventory/units/...); hosts.yml in a unit's folder; for an
    inventory outside the checkout, a path that leads to it rather than one from a folder above it.
    A file not found where the problem names it is left as it is."""
    base = Path(inventory_root).resolve().parent
    shown = []
    for problem in problems:
        full = base / problem.file
        shown.append(dataclass_replace(problem, file=from_here(full)) if full.exists() else problem)
    return shown


class _Report:
    """Collects problems, naming files from the inventory folder and finding line numbers."""

    def __init__(self, inventory_root: Path):
        self.base = Path(inventory_root).resolve().parent
        self.problems: list[Problem] = []

    def name(self, file: Path) -> str:
        # The path the technician wrote, links not followed: a link is named as itself.
        try:
            return str(Path(os.path.abspath(file)).relative_to(self.base))
        except ValueError:
            return str(file)

    def add(self, file: Path, path: YamlPath, reason: str, loaded: YamlFile | None = None,
            line: int | None = None) -> None:
        if line is None and loaded is not None:
            # The nearest enclosing value that has a line: a missing key is reported at its parent.
            for length in range(len(path), -1, -1):
                line = loaded.lines.get(path[:length])
                if line:
                    break
        self.problems.append(Problem(self.name(file), format_path(path), reason, line))

    def unit(self, unit: Unit, file_name: str, path: YamlPath, reason: str) -> None:
        self.add(unit.folder / file_name, path, reason, unit.files.get(file_name))


def validate_province(inventory_root: Path, units_dir: Path,
                      vault_passwords: dict[str, str | None] | None = None) -> list[Problem]:
    """Every problem of the province in `units_dir`, with policy and host_vars from `inventory_root`.
    `vault_passwords` (unit id -> password, or None when asked for and not found) names the units'
    vaults to open and check inside (check_unit_vaults); the others are checked by their header."""
    inventory_root, units_dir = Path(inventory_root), Path(units_dir)
    report = _Report(inventory_root)
    if not units_dir.is_dir():
        report.add(units_dir, (), _("this folder of unit folders does not exist"))
        return report.problems
    province = load_units_dir(units_dir)
    for unit in province.units:
        _check_unit_files(unit, report)
        _check_unit_info(unit, report)
        _check_staff(unit, report)
        _check_rooms(unit, report)
        _check_addressing(unit, report)
        _check_hosts(unit, report)
    _check_province(province, report)
    _check_policy_and_host_vars(inventory_root, units_dir, province, report)
    _check_secrets(inventory_root, province, report)
    check_unit_vaults(province, vault_passwords or {}, report)
    # In file order, so a technician can walk through each file from top to bottom.
    return sorted(report.problems, key=lambda problem: (problem.file, problem.line or 0))


# --- one unit ---------------------------------------------------------------------------------

def _entries(unit: Unit, file_name: str, *keys: str) -> Iterator[tuple[YamlPath, dict[str, Any]]]:
    """The mapping entries of a list in a unit file, each with its YAML path (indexes as written)."""
    value: Any = unit.data.get(file_name)
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, list):
        for index, entry in enumerate(value):
            if isinstance(entry, dict):
                yield keys + (index,), entry


def _check_unit_files(unit: Unit, report: _Report) -> None:
    if unit.folder.is_symlink():  # a link can make one unit appear in two provinces, or two places
        report.add(unit.folder, (), _("this unit folder is a link (to {target}); a unit's files live in its own "
                                      "folder: move them here").format(target=os.readlink(unit.folder)))
    if not unit.files:
        report.add(unit.folder, (), _("this unit folder has none of the unit files; create units with "
                                      "'unitctl new-unit'"))
        return
    for name in UNIT_FILES:
        twin = unit.folder / f"{Path(name).stem}.yaml"
        if name in unit.files and twin.exists():
            report.add(twin, (), _("this file is ignored: the unit's data is read from {file} only; merge what "
                                   "is in it into {file} and delete it").format(file=name))
    for name in unit.missing_files:
        other = next((unit.folder / f"{Path(name).stem}{ext}" for ext in (".yaml", ".YML", ".yml.txt", ".txt")
                      if (unit.folder / f"{Path(name).stem}{ext}").exists()), None)
        hint = _(" (there is a {other}: rename it to {file})").format(other=other.name, file=name) if other else ""
        report.add(unit.folder / name, (), _("this file is missing; every unit folder needs all five of: "
                                             "{files}{hint}").format(files=", ".join(UNIT_FILES), hint=hint))
    for name, loaded in unit.files.items():
        if loaded.error:
            report.add(unit.folder / name, (), loaded.error.reason, line=loaded.error.line)
            continue
        for path in loaded.repeated_keys:
            report.unit(unit, name, path, _("'{key}' is written twice here; only the last one would count").format(
                key=path[-1]))
        for path, reason in check_document(name, unit.data[name]):  # as read: see normalise_typed
            report.unit(unit, name, path, reason)


def _check_unit_info(unit: Unit, report: _Report) -> None:
    info = unit.info
    unit_id = info.get("id")
    if isinstance(unit_id, str) and unit_id != unit.id:
        report.unit(unit, "unit.yml", ("unit", "id"),
                    _("the id '{id}' differs from the folder name '{folder}'; they must be the same").format(
                        id=unit_id, folder=unit.id))
    supervisor = info.get("supervisor")
    if isinstance(supervisor, str) and "staff.yml" in unit.data:
        person = next((p for p in unit.staff if p.get("username") == supervisor), None)
        if person is None:
            report.unit(unit, "unit.yml", ("unit", "supervisor"),
                        _("the supervisor '{username}' is not in this unit's staff.yml").format(username=supervisor))
        elif person.get("role") != "supervisor":
            report.unit(unit, "unit.yml", ("unit", "supervisor"),
                        _("the supervisor '{username}' has the role '{role}' in staff.yml; the supervisor's role "
                          "must be 'supervisor'").format(username=supervisor, role=person.get("role")))
    _report_repeats(unit, report, "unit.yml", _entries(unit, "unit.yml", "unit", "branches"), "id",
                    N_("branch id"))


def _report_repeats(unit: Unit, report: _Report, file_name: str, entries: Iterator[tuple[YamlPath, dict]],
                    key: str, noun: str) -> None:
    """A value used twice inside one unit file (branch ids, usernames, VLAN ids); `noun` is English,
    marked with N_()."""
    first_seen: dict[Any, YamlPath] = {}
    for path, entry in entries:
        value = entry.get(key)
        if value is None or isinstance(value, (list, dict)):
            continue
        if value in first_seen:
            report.unit(unit, file_name, path + (key,),
                        _("the {noun} '{value}' is already used at {path} in this file").format(
                            noun=_(noun), value=value, path=format_path(first_seen[value] + (key,))))
        else:
            first_seen[value] = path


def _check_staff(unit: Unit, report: _Report) -> None:
    _report_repeats(unit, report, "staff.yml", _entries(unit, "staff.yml", "staff"), "username", N_("username"))
    for path, person in _entries(unit, "staff.yml", "staff"):
        role = person.get("role")
        appointment = person.get("appointment")
        if role in PRIVILEGED_ROLES and appointment is None:
            report.unit(unit, "staff.yml", path,
                        _("a {role} needs an 'appointment' (number, date, issued_by): the circular requires "
                          "an appointment letter for this role").format(role=role))
        if role == "supervisor" and isinstance(appointment, dict) \
                and appointment.get("issued_by") not in (None, "provincial_directorate"):
            report.unit(unit, "staff.yml", path + ("appointment", "issued_by"),
                        _("a supervisor is appointed by the provincial directorate (circular, note 1); "
                          "write 'provincial_directorate'"))


# The room limits whose lowest must be below their highest, each with its message (a whole
# sentence per quantity, so that a translation need not put a noun into a sentence).
ROOM_LIMITS = (("temperature_c", N_("the lowest temperature ({min}) must be below the highest ({max})")),
               ("humidity_pct", N_("the lowest humidity ({min}) must be below the highest ({max})")))


def _check_rooms(unit: Unit, report: _Report) -> None:
    for room_name, room in unit.rooms.items():
        if not isinstance(room, dict):
            continue
        path = ("rooms", room_name)
        for key, wrong_order in ROOM_LIMITS:
            limits = room.get(key)
            if isinstance(limits, dict) and _numbers(limits.get("min"), limits.get("max")) \
                    and limits["min"] >= limits["max"]:
                report.unit(unit, "rooms.yml", path + (key,),
                            _(wrong_order).format(min=limits["min"], max=limits["max"]))
        if room.get("emergency_power") == "ups_only" and room.get("ups") is None:
            report.unit(unit, "rooms.yml", path + ("emergency_power",),
                        _("emergency power is 'ups_only' but no 'ups' is described for this room"))


def _hashable(value: Any) -> bool:
    """Usable as a lookup key: a value of the wrong type (a list where a number belongs) is not."""
    return isinstance(value, Hashable)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _numbers(*values: Any) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _address(value: Any) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _subnet(value: Any) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _check_addressing(unit: Unit, report: _Report) -> None:
    vlans = list(_entries(unit, "addressing.yml", "addressing", "vlans"))
    _report_repeats(unit, report, "addressing.yml", iter(vlans), "id", N_("VLAN id"))
    _report_repeats(unit, report, "addressing.yml", iter(vlans), "name", N_("VLAN name"))
    for path, vlan in vlans:
        subnet = _subnet(vlan.get("subnet"))
        if subnet is None:
            continue
        gateway = _address(vlan.get("gateway"))
        if gateway is not None:
            reason = _not_usable_in(gateway, subnet)
            if reason:
                report.unit(unit, "addressing.yml", path + ("gateway",),
                            _("the gateway {address} {reason}").format(address=gateway, reason=reason))
        dhcp = vlan.get("dhcp") if isinstance(vlan.get("dhcp"), dict) else {}
        start, end = _address(dhcp.get("start")), _address(dhcp.get("end"))
        for key, address, what in (("start", start, N_("the DHCP range start {address} {reason}")),
                                   ("end", end, N_("the DHCP range end {address} {reason}"))):
            reason = _not_usable_in(address, subnet) if address else None
            if reason:
                report.unit(unit, "addressing.yml", path + ("dhcp", key),
                            _(what).format(address=address, reason=reason))
        if start and end and start > end:
            report.unit(unit, "addressing.yml", path + ("dhcp",),
                        _("the DHCP range starts ({start}) after it ends ({end})").format(start=start, end=end))
        elif start and end and gateway and start <= gateway <= end:
            report.unit(unit, "addressing.yml", path + ("gateway",),
                        _("the gateway {address} is inside the DHCP range {start}-{end}; DHCP would hand it "
                          "out").format(address=gateway, start=start, end=end))


def _not_usable_in(address: ipaddress.IPv4Address, subnet: ipaddress.IPv4Network) -> str | None:
    """Why `address` cannot be given to a machine in `subnet` (the end of a sentence naming the
    address), or None."""
    if address not in subnet:
        return _("is outside the subnet {subnet}").format(subnet=subnet)
    if subnet.prefixlen < 31 and address == subnet.network_address:
        return _("is the network address of {subnet}").format(subnet=subnet)
    if subnet.prefixlen < 31 and address == subnet.broadcast_address:
        return _("is the broadcast address of {subnet}").format(subnet=subnet)
    return None


def _check_hosts(unit: Unit, report: _Report) -> None:
    vlans: dict[int, dict] = {}
    for _path, vlan in _entries(unit, "addressing.yml", "addressing", "vlans"):
        if _is_int(vlan.get("id")):
            vlans.setdefault(vlan["id"], vlan)  # a repeated id is reported; the first one counts
    branches = {branch.get("id") for _path, branch in _entries(unit, "unit.yml", "unit", "branches")
                if _hashable(branch.get("id"))}
    hosts = list(_entries(unit, "hosts.yml", "hosts"))
    # Only hosts on a VLAN of the unit: a host on an unknown VLAN is reported once, for itself.
    host_vlans = {host["name"]: host.get("vlan") if _hashable(host.get("vlan")) and host.get("vlan") in vlans
                  else None for _path, host in hosts if isinstance(host.get("name"), str)}
    vlans_known = "addressing.yml" in unit.data
    for path, host in hosts:
        vlan_id = host.get("vlan")
        vlan = vlans.get(vlan_id) if _hashable(vlan_id) else None
        if vlans_known and _is_int(vlan_id) and vlan is None:
            report.unit(unit, "hosts.yml", path + ("vlan",),
                        _("VLAN {vlan} is not defined in this unit's addressing.yml").format(vlan=vlan_id))
        if vlan is not None:
            _check_host_address(unit, path, host, vlan, report)
            function = host.get("function")
            expected = HOST_VLAN_PURPOSE.get(function) if isinstance(function, str) else None
            if expected and vlan.get("purpose") not in (expected, None):
                report.unit(unit, "hosts.yml", path + ("vlan",),
                            _("a {function} belongs on a VLAN with purpose '{expected}', but VLAN {vlan} has purpose "
                              "'{purpose}'").format(function=word(HOST_FUNCTION_WORDS, function), expected=expected,
                                                    vlan=vlan_id, purpose=vlan.get("purpose")))
            if host.get("function") == "network_device" and vlan.get("purpose") not in ("management", None):
                report.unit(unit, "hosts.yml", path + ("vlan",),
                            _("a network device is managed on a VLAN with purpose 'management', but VLAN {vlan} has "
                              "purpose '{purpose}'").format(vlan=vlan_id, purpose=vlan.get("purpose")))
        platform, role = host.get("platform"), host.get("role")
        if host.get("function") == "network_device" and isinstance(platform, str) and isinstance(role, str) \
                and platform in PLATFORM_ROLES and role not in PLATFORM_ROLES[platform]:
            report.unit(unit, "hosts.yml", path + ("role",),
                        _("the toolkit has no '{role}' configuration for {platform}: {platform} devices may be "
                          "{roles} (templates/network/{platform}/)").format(
                              role=role, platform=platform, roles=_(" or ").join(PLATFORM_ROLES[platform])))
        branch = host.get("branch")
        if isinstance(branch, str) and unit.info and branch not in branches:
            report.unit(unit, "hosts.yml", path + ("branch",),
                        _("the branch '{branch}' is not defined in this unit's unit.yml (unit.branches)").format(
                            branch=branch))
        if host.get("function") == "network_device":
            _check_ports(unit, path, host, vlans if vlans_known else None, host_vlans, report)


def _check_host_address(unit: Unit, path: YamlPath, host: dict, vlan: dict, report: _Report) -> None:
    address = _address(host.get("address"))
    if address is None:
        return
    if vlan.get("purpose") == "unused_ports":
        report.unit(unit, "hosts.yml", path + ("vlan",),
                    _("VLAN {vlan} is for unused ports only; put the host on a VLAN with a subnet").format(
                        vlan=vlan.get("id")))
        return
    subnet = _subnet(vlan.get("subnet"))
    if subnet is None:
        return
    reason = _not_usable_in(address, subnet)
    if reason:
        report.unit(unit, "hosts.yml", path + ("address",),
                    _("{address} {reason} of VLAN {vlan}").format(address=address, reason=reason, vlan=vlan.get("id")))
        return
    # A core switch or edge router may well be the gateway itself; any other host may not.
    if _address(vlan.get("gateway")) == address and host.get("function") != "network_device":
        report.unit(unit, "hosts.yml", path + ("address",),
                    _("{address} is the gateway of VLAN {vlan}").format(address=address, vlan=vlan.get("id")))
    dhcp = vlan.get("dhcp") if isinstance(vlan.get("dhcp"), dict) else {}
    start, end = _address(dhcp.get("start")), _address(dhcp.get("end"))
    if start and end and start <= address <= end:
        report.unit(unit, "hosts.yml", path + ("address",),
                    _("{address} is inside the DHCP range {start}-{end} of VLAN {vlan}; give fixed addresses "
                      "outside that range").format(address=address, start=start, end=end, vlan=vlan.get("id")))


def _check_ports(unit: Unit, path: YamlPath, device: dict, vlans: dict | None, host_vlans: dict,
                 report: _Report) -> None:
    ports = device.get("ports") if isinstance(device.get("ports"), list) else []
    seen: dict[str, tuple[int, str]] = {}  # the port as the device names it -> (index, as written)
    for index, port in enumerate(ports):
        if not isinstance(port, dict):
            continue
        port_path = path + ("ports", index)
        name = port.get("port")
        if isinstance(name, str):
            same = name
            if device.get("platform") == "ios":
                problem = ios_port_problem(name)
                if problem:
                    report.unit(unit, "hosts.yml", port_path + ("port",), problem)
                same = canonical_ios_port(name) or name
            if same in seen:
                earlier, written = seen[same]
                also = "" if written == name else _(" (IOS reads {port} and {other} as {same})").format(
                    port=name, other=written, same=same)
                report.unit(unit, "hosts.yml", port_path + ("port",),
                            _("port {port} is already described at {path} of this switch{also}").format(
                                port=name, path=f"ports[{earlier}]", also=also))
            else:
                seen[same] = (index, name)
        if vlans is not None:
            used = [(("vlan",), port.get("vlan"))] if port.get("mode") == "access" else []
            if port.get("mode") == "trunk" and isinstance(port.get("vlans"), list):
                used = [(("vlans", i), v) for i, v in enumerate(port["vlans"])]
                used += [(("native_vlan",), port["native_vlan"])] if "native_vlan" in port else []
            for sub_path, vlan_id in used:
                if _is_int(vlan_id) and vlan_id not in vlans:
                    report.unit(unit, "hosts.yml", port_path + sub_path,
                                _("VLAN {vlan} is not defined in this unit's addressing.yml").format(vlan=vlan_id))
        target = port.get("connects")
        if isinstance(target, str):
            if target not in host_vlans:
                report.unit(unit, "hosts.yml", port_path + ("connects",),
                            _("'{host}' is not a host of this unit's hosts.yml").format(host=target))
            elif port.get("mode") == "access" and _is_int(host_vlans[target]) \
                    and port.get("vlan") != host_vlans[target]:
                report.unit(unit, "hosts.yml", port_path + ("vlan",),
                            _("this port is in VLAN {vlan} but the host '{host}' it connects is in VLAN "
                              "{host_vlan}").format(vlan=port.get("vlan"), host=target, host_vlan=host_vlans[target]))


# --- across the province ----------------------------------------------------------------------

def _check_province(province: Province, report: _Report) -> None:
    _report_province_repeats(province, report, "hosts.yml", ("hosts",), "name", N_("host name"))
    _report_province_repeats(province, report, "hosts.yml", ("hosts",), "address", N_("address"))
    _report_province_repeats(province, report, "hosts.yml", ("hosts",), "mac", N_("MAC address"),
                             normalise=lambda mac: mac.lower())
    _report_province_repeats(province, report, "staff.yml", ("staff",), "username", N_("username"),
                             across_units_only=True)
    _report_province_repeats(province, report, "staff.yml", ("staff",), "ssh_key", N_("SSH key"),
                             normalise=lambda key: None if is_placeholder(key) else " ".join(key.split()[:2]),
                             show_value=False)
    _report_province_repeats(province, report, "unit.yml", (), "domain", N_("domain"),
                             entries=lambda unit: [(("unit",), unit.info)])
    _check_overlapping_subnets(province, report)
    _check_provincial_centre(province, report)


def _report_province_repeats(province: Province, report: _Report, file_name: str, keys: tuple[str, ...],
                             key: str, noun: str, normalise=lambda value: value, across_units_only=False,
                             show_value=True, entries=None) -> None:
    """A value (host name, address, username...) used twice: reported where it is used again. `noun`
    is English, marked with N_()."""
    first_seen: dict[Any, tuple[Unit, YamlPath]] = {}
    for unit in province.units:
        for path, entry in (entries(unit) if entries else _entries(unit, file_name, *keys)):
            value = entry.get(key)
            if not isinstance(value, str):
                continue
            value = normalise(value)
            if value is None:
                continue
            if value not in first_seen:
                first_seen[value] = (unit, path)
                continue
            other_unit, other_path = first_seen[value]
            if other_unit is unit and across_units_only:
                continue  # reported by the unit's own check
            message = {(True, True): N_("the {noun} '{value}' is already used at {path} in this file; each {noun} "
                                       "must be unique in the province"),
                       (True, False): N_("the {noun} '{value}' is already used at {path} in unit '{unit}'; each "
                                         "{noun} must be unique in the province"),
                       (False, True): N_("this {noun} is already used at {path} in this file; each {noun} must be "
                                         "unique in the province"),
                       (False, False): N_("this {noun} is already used at {path} in unit '{unit}'; each {noun} must "
                                          "be unique in the province")}[show_value, other_unit is unit]
            report.unit(unit, file_name, path + (key,), _(message).format(
                noun=_(noun), value=value, path=format_path(other_path + (key,)), unit=other_unit.id))


def _check_overlapping_subnets(province: Province, report: _Report) -> None:
    seen: list[tuple[ipaddress.IPv4Network, Unit, YamlPath]] = []
    for unit in province.units:
        for path, vlan in _entries(unit, "addressing.yml", "addressing", "vlans"):
            subnet = _subnet(vlan.get("subnet"))
            if subnet is None:
                continue
            for other, other_unit, other_path in seen:
                if subnet.overlaps(other):
                    message = (N_("the subnet {subnet} overlaps {other} at {path} in this file") if other_unit is unit
                               else N_("the subnet {subnet} overlaps {other} at {path} in unit '{unit}'"))
                    report.unit(unit, "addressing.yml", path + ("subnet",), _(message).format(
                        subnet=subnet, other=other, path=format_path(other_path), unit=other_unit.id))
                    break
            seen.append((subnet, unit, path + ("subnet",)))


def _check_provincial_centre(province: Province, report: _Report) -> None:
    centres = [unit for unit in province.units if unit.info.get("kind") == "provincial_centre"]
    if not centres and province.units:
        report.add(province.units_dir, (), _("no unit has kind 'provincial_centre'; the province needs exactly "
                                             "one (its Statistics and Informatics centre)"))
    for unit in centres[1:]:
        report.unit(unit, "unit.yml", ("unit", "kind"),
                    _("unit '{unit}' is already the provincial centre; a province has exactly one").format(
                        unit=centres[0].id))


# --- province policy, host_vars and secrets ---------------------------------------------------

def province_units_dirs(inventory_root: Path) -> list[Path]:
    """Every province stored under an inventory folder, from its `*.unitctl.yml` sources."""
    found = []
    for source in sorted(Path(inventory_root).glob("*.unitctl.yml")):
        loaded = load_yaml_file(source)
        if isinstance(loaded.data, dict) and isinstance(loaded.data.get("units_dir"), str):
            found.append(source.parent / loaded.data["units_dir"])
    return found


def _check_policy_and_host_vars(inventory_root: Path, units_dir: Path, province: Province,
                                report: _Report) -> None:
    """Every file Ansible reads variables from, for this inventory: the province's policy folders
    against the policy schema; every other group_vars and host_vars file or folder (beside the
    inventory source or the playbooks) must not set a province-owned key; host_vars must name a
    known host."""
    province_keys: set[str] = set()
    policy: dict[str, tuple[Path, YamlFile]] = {}  # group_vars/all's keys -> the file that sets them
    set_in: dict[tuple[str, str], Path] = {}  # (policy folder, key) -> the file that set it first
    provinces = [province] + [load_units_dir(other) for other in province_units_dirs(inventory_root)
                              if other.is_dir() and other.resolve() != units_dir.resolve()]
    # host_vars are shared by every province of this inventory folder (Ansible reads them beside
    # each *.unitctl.yml source), so a host of any of them is a known host.
    known_hosts = {host.get("name") for each in provinces for _path, host in each.all_hosts()
                   if isinstance(host.get("name"), str)}
    # With a hosts.yml missing or unreadable every host_vars file could look orphaned: don't claim so.
    hosts_all_read = all("hosts.yml" in unit.data for unit in province.units)
    orphans_named: set[Path] = set()
    for vars_file in vars_files(inventory_root):
        file = vars_file.path
        if vars_file.kind == "host_vars" and hosts_all_read and vars_file.name not in known_hosts \
                and vars_file.entry not in orphans_named:
            orphans_named.add(vars_file.entry)
            message = (N_("no unit has a host named '{host}'; rename this folder after an existing host or delete it")
                       if vars_file.entry.is_dir() else
                       N_("no unit has a host named '{host}'; rename this file after an existing host or delete it"))
            report.add(vars_file.entry, (), _(message).format(host=vars_file.name))
        loaded = load_yaml_file(file)
        if loaded.error:
            report.add(file, (), loaded.error.reason, line=loaded.error.line)
            continue
        if file.read_bytes().startswith(b"$ANSIBLE_VAULT"):
            # Validation cannot read it (it could override policy unseen), and Ansible would open it for
            # every host of every unit: each run would need its password. Secrets are per unit.
            report.add(file, (), _("an encrypted file here ({applies_to}) cannot be checked, and every unit's "
                                   "run would need its password; secrets live only in each unit's own vault "
                                   "({vault}, encrypted with the unit's vault identity), the province's in its "
                                   "centre's").format(applies_to=vars_file.describe(),
                                                      vault=_unit_vault_pattern(report, units_dir)))
            continue
        if loaded.data is None:
            continue
        if isinstance(loaded.data, dict):
            for key in map(str, loaded.data):
                if key in UNIT_SECRETS:
                    report.add(file, (key,), _("'{key}' is a unit's secret: it belongs in each unit's own vault "
                                               "({vault}), never in a file Ansible reads for {applies_to}").format(
                                                   key=key, vault=_unit_vault_pattern(report, units_dir),
                                                   applies_to=vars_file.describe()), loaded)
        if not isinstance(loaded.data, dict):
            report.add(file, (), _("a variables file must be a mapping of names to values"), loaded)
            continue
        if vars_file.is_policy:
            if vars_file.name == "all":
                province_keys.update(map(str, loaded.data))
            for key in map(str, loaded.data):
                first = set_in.setdefault((vars_file.name, key), file)
                if first != file:
                    report.add(file, (key,), _("'{key}' is already set in {file}; Ansible would take one of the two "
                                               "silently: set each policy key in one file").format(
                                                   key=key, file=report.name(first)), loaded)
            for path, reason in check_policy_file(vars_file.name, loaded.data):
                if str(path[0]) not in UNIT_SECRETS:  # already refused above, with where it belongs
                    report.add(file, path, reason, loaded)
            if vars_file.name == "all":
                policy.update({str(key): (file, loaded) for key in loaded.data})
        else:
            for key in loaded.data:
                reason = override_refused(str(key))
                if reason:
                    report.add(file, (key,), _("{reason}; {applies_to} may not override it").format(
                        reason=reason, applies_to=vars_file.describe()), loaded)
        if file.name == "addressing.yml" and vars_file.is_policy and vars_file.name == "all":
            issues: list[tuple[YamlPath, str]] = []
            wanted = {key: loaded.data[key] for key in PROVINCE_ADDRESSING if key in loaded.data}
            Record(PROVINCE_ADDRESSING).check(wanted, (), issues)
            for path, reason in issues:
                report.add(file, path, reason, loaded)
    _check_removable_media_exceptions(policy, known_hosts if hosts_all_read else None, report)
    _check_debian_releases(policy, province, report)
    policy_folder = inventory_root / "group_vars" / "all"
    if policy_folder.is_dir():
        for key in missing_required(province_keys):
            report.add(policy_folder, (key.name,), _("'{key}' is not set; every province sets it ({meaning}; "
                                                     "{type})").format(key=key.name, meaning=key.meaning,
                                                                       type=word(TYPE_WORDS, key.type)))


def _check_debian_releases(policy: dict[str, tuple[Path, YamlFile]], province: Province, report: _Report) -> None:
    """Each server's and workstation's Debian release (hosts.yml debian_release, else
    province_debian_release_default) must be one province_debian_releases allows: a host on a
    release the province does not list would get roles nobody meant for it."""
    def value(key: str) -> Any:
        return policy[key][1].data.get(key) if key in policy else None

    releases = value("province_debian_releases")
    if not isinstance(releases, dict) or not releases:
        return  # the policy file's own problem, reported with it
    # A release written as text ("12") is reported with the policy file; it still counts here, so
    # that one slip is not reported again on every host and on the default.
    allowed = sorted({int(release) for release in releases
                      if _is_int(release) or isinstance(release, str) and release.strip().isdigit()})
    if not allowed:
        return  # the policy file's own problem
    listed = ", ".join(map(str, allowed))
    default = value("province_debian_release_default")
    if _is_int(default) and default not in allowed:
        file, loaded = policy["province_debian_release_default"]
        report.add(file, ("province_debian_release_default",),
                   _("{value} is not in province_debian_releases ({releases})").format(value=default,
                                                                                      releases=listed), loaded)
    for unit in province.units:
        for path, host in _entries(unit, "hosts.yml", "hosts"):
            release = host.get("debian_release")
            if "debian_release" in host and release is None:
                report.unit(unit, "hosts.yml", path + ("debian_release",),
                            _("is empty: write the Debian release the host runs ({releases}), or leave the key out "
                              "for province_debian_release_default").format(releases=listed))
            if _is_int(release) and release not in allowed:
                report.unit(unit, "hosts.yml", path + ("debian_release",),
                            _("Debian {value} is not a release the province allows (province_debian_releases: "
                              "{releases})").format(value=release, releases=listed))


def _check_removable_media_exceptions(policy: dict[str, tuple[Path, YamlFile]], known_hosts: set | None,
                                      report: _Report) -> None:
    """A removable media exception must name a workstation profile or a host that exists: a misspelt
    one would allow nothing, without a word (the plays refuse an unknown profile, but only once
    they run)."""
    def values(key: str) -> Any:
        return policy[key][1].data.get(key) if key in policy else None

    profiles = values("province_workstation_profiles")
    known = {"province_removable_media_allowed_profiles": (
                 set(map(str, profiles)) if isinstance(profiles, dict) else None,
                 N_("'{entry}' is not a workstation profile{hint}; the exception would allow nothing (the "
                    "workstation profiles are in province_workstation_profiles: {names})")),
             "province_removable_media_allowed_hosts": (
                 known_hosts, N_("'{entry}' is not a host{hint}; the exception would allow nothing (the hosts are "
                                 "in the units' hosts.yml)"))}
    for key, (names, message) in known.items():
        entries = values(key)
        if names is None or not isinstance(entries, list):
            continue
        file, loaded = policy[key]
        for index, entry in enumerate(entries):
            if isinstance(entry, str) and "{{" not in entry and entry.strip() and entry not in names:
                close = difflib.get_close_matches(entry, sorted(names), n=1, cutoff=0.75)
                hint = did_you_mean_hint(close[0]) if close else ""
                report.add(file, (key, index), _(message).format(entry=entry, hint=hint,
                                                                 names=", ".join(sorted(names))), loaded)


# The device roles each platform has templates for (templates/network/<platform>/<role>.*; `base`
# is what every role of a platform shares).
PLATFORM_ROLES = {platform.name: tuple(sorted({f.name.split(".")[0] for f in platform.iterdir()} - {"base"}))
                  for platform in (paths.TEMPLATES_DIR / "network").iterdir() if platform.is_dir()}

# Where each kind of host lives in a unit's addressing plan (a workstation on the management VLAN
# would reach every switch's management address).
HOST_VLAN_PURPOSE = {"cms_client": "cms_clients", "printer": "printers", "unit_server": "servers",
                     "centre_server": "servers"}
# Those host functions in words ("a {function} belongs on a VLAN with purpose ...").
HOST_FUNCTION_WORDS = {"cms_client": N_("cms client"), "printer": N_("printer"), "unit_server": N_("unit server"),
                       "centre_server": N_("centre server")}

# The group_vars folders whose keys the policy schema governs (inventory/policy-schema.yml).
POLICY_GROUPS = ("all", "lab")
# Extensions Ansible reads a variables file with (its own list, YAML_FILENAME_EXTENSIONS, and none).
VARS_EXTENSIONS = ("", ".yml", ".yaml", ".json")


@dataclass(frozen=True)
class VarsFile:
    """One file Ansible reads variables from: `kind` group_vars or host_vars, `name` the group or
    host it applies to, `is_policy` for the province's own policy folders."""

    path: Path
    kind: str
    name: str
    is_policy: bool
    entry: Path  # the file itself, or the folder it is in (group_vars/NAME/)

    def describe(self) -> str:
        """What the file applies to, in words: "a host (host_vars)", "the group 'x' (group_vars)"."""
        if self.kind == "host_vars":
            return _("a host ({kind})").format(kind=self.kind)
        return _("the group '{group}' ({kind})").format(group=self.name, kind=self.kind)


def vars_files(inventory_root: Path) -> list[VarsFile]:
    """Every file Ansible's host_group_vars plugin reads for an inventory source in
    `inventory_root`: group_vars/ and host_vars/ beside the source and beside the playbooks, each
    entry a file (NAME, NAME.yml, NAME.yaml, NAME.json) or a folder read recursively. Hidden
    entries and editor backups (`~`) are skipped, as Ansible skips them."""
    found = []
    for base in (Path(inventory_root), paths.PROJECT_ROOT / "playbooks"):
        for kind in ("group_vars", "host_vars"):
            folder = base / kind
            if not folder.is_dir():
                continue
            for entry in sorted(folder.iterdir()):
                if entry.name.startswith(".") or entry.name.endswith("~"):
                    continue
                name = entry.stem if entry.suffix in VARS_EXTENSIONS[1:] else entry.name
                is_policy = (kind == "group_vars" and base == Path(inventory_root) and entry.is_dir()
                             and name in POLICY_GROUPS)
                if entry.is_dir():
                    files = sorted(f for f in entry.rglob("*") if f.is_file()
                                   and not any(part.startswith(".") for part in f.relative_to(entry).parts)
                                   and not f.name.endswith("~") and f.suffix in VARS_EXTENSIONS)
                else:
                    files = [entry] if entry.suffix in VARS_EXTENSIONS else []
                found += [VarsFile(f, kind, name, is_policy, entry) for f in files]
    return found


# The toolkit's plays' own settings (play vars): never overridden from outside.
PLAY_PREFIXES = ("servers_", "workstations_", "centre_", "bootstrap_")
# Connection settings a host's entry may carry (an address or port of its own); every other
# ansible_* setting (users, keys, SSH arguments, become) is the province's.
HOST_CONNECTION_KEYS = ("ansible_host", "ansible_port", "ansible_python_interpreter")


def override_refused(key: str) -> str | None:
    """Why a group_vars or host_vars file outside the policy folders may not set `key`, or None.

    Refused: province policy (the schema's keys, derived names, province_*), every role's inputs
    (<role>_*: the playbooks set them from policy), the plays' settings, and Ansible's connection
    and privilege settings other than a host's own address, port and Python."""
    if province_owned(key):
        return _("'{key}' is province policy, set only in group_vars/all/ by the ICT council").format(key=key)
    role = next((name for name in role_names() if key.startswith(f"{name}_")), None)
    if role:
        return _("'{key}' is an input of the {role} role, which the playbooks set from province policy").format(
            key=key, role=role)
    if key.startswith(PLAY_PREFIXES):
        return _("'{key}' is a setting of the toolkit's plays").format(key=key)
    if key.startswith("ansible_") and key not in HOST_CONNECTION_KEYS:
        return _("'{key}' is how Ansible connects and gains privilege, set by the province (automation.yml)").format(
            key=key)
    return None


def role_names() -> list[str]:
    """The toolkit's roles (roles/*), longest first so that a name never hides a longer one."""
    roles = paths.PROJECT_ROOT / "roles"
    return sorted((p.name for p in roles.iterdir() if p.is_dir()), key=len, reverse=True) if roles.is_dir() else []


def province_owned(key: str) -> bool:
    """A key only the province's policy folders may set: declared in the policy schema, computed
    by the inventory plugin, or named province_* (the schema names all of them)."""
    schema = load_schema()
    return key in schema.keys or key in schema.derived or key.startswith("province_")


# Key names that hold secrets: the words, Ansible's own (ansible_ssh_pass, ansible_become_pass) and
# network devices' (SNMP communities, pre-shared keys, API tokens, RADIUS/TACACS keys).
SECRET_KEY = re.compile(r"password|passwd|secret|passphrase|(^|_)pass$|community|(^|_)psk($|_)|token|"
                        r"(radius|tacacs|api|shared|preshared)_key", re.IGNORECASE)
VAULT_REFERENCE = re.compile(r"\{\{\s*vault_\w+\s*\}\}")


def _check_secrets(inventory_root: Path, province: Province, report: _Report) -> None:
    """A plaintext secret anywhere but an encrypted vault file is a problem: the files are committed.
    An inline `!vault` value is a unit's secret in its own files only, encrypted with its identity;
    in group_vars/host_vars (read for every unit's hosts) it is refused like a whole encrypted file."""
    candidates = [(unit.folder / name, loaded, unit.id) for unit in province.units
                  for name, loaded in unit.files.items()]
    candidates += [(vars_file.path, load_yaml_file(vars_file.path), None) for vars_file in vars_files(inventory_root)]
    for file, loaded, unit_id in candidates:
        if loaded.error is None and not file.read_bytes().startswith(b"$ANSIBLE_VAULT"):
            for path in _plaintext_secrets(loaded.data, ()):
                if unit_id is None and str(path[0]) in UNIT_SECRETS:
                    continue  # a unit's secret outside its vault: refused once, with where it belongs
                if str(path[-1]).startswith("vault_"):  # already a vault variable's name: no "vault_vault_" hint
                    report.add(file, path, _("'{key}' holds a plaintext secret; it belongs, encrypted, in the unit's "
                                             "own vault ({vault})").format(
                                                 key=path[-1], vault=_unit_vault_pattern(report, province.units_dir)),
                               loaded)
                    continue
                report.add(file, path, _("'{key}' holds a plaintext secret; move the value into an ansible-vault "
                                         "file and write \"{{{{ vault_{key} }}}}\" here").format(key=path[-1]), loaded)
            for path, value in _inline_vaults(loaded.data, ()):
                header = header_of(value)
                identity = header.identity if header else None
                if unit_id is None:
                    report.add(file, path, _("an encrypted value here is read for every unit's hosts, and every "
                                             "unit's run would need its password; put the secret into the unit's "
                                             "own vault ({vault})").format(
                                                 vault=_unit_vault_pattern(report, province.units_dir)), loaded)
                elif identity != unit_id:
                    report.add(file, path, _inline_vault_identity_reason(identity, unit_id), loaded)


def _inline_vaults(value: Any, path: YamlPath) -> Iterator[tuple[YamlPath, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _inline_vaults(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _inline_vaults(item, path + (index,))
    elif isinstance(value, Vaulted):
        yield path, str(value)


def _unit_vault_pattern(report: _Report, units_dir: Path) -> str:
    """Where a unit's vault lives, as a technician finds it: inventory/units/<unit>/vault.yml."""
    return report.name(Path(units_dir) / "<unit>" / "vault.yml")


def _inline_vault_identity_reason(identity: str | None, unit_id: str) -> str:
    """Why an inline `!vault` value of a unit file does not carry the unit's identity (rekey works on
    whole files only, so the value is encrypted anew)."""
    found = (_("encrypted without a vault identity") if identity is None else
             _("encrypted for the vault identity '{identity}'").format(identity=identity))
    return _("{found}, not this unit's '{unit}'; encrypt the value again with the unit's own: ansible-vault "
             "encrypt_string --vault-id {unit}@prompt --encrypt-vault-id {unit}, or move it into the unit's "
             "vault.yml").format(found=found, unit=unit_id)


def _vault_identity_reason(identity: str | None, unit_id: str) -> str:
    """Why a unit's encrypted file or value does not carry the unit's own vault identity."""
    if identity is None:
        # The old password goes in unlabelled: with vault_id_match (ansible.cfg) a password labelled
        # with the unit id does not open a file that names no identity.
        return _("encrypted without a vault identity; a unit's secrets are encrypted with its own identity "
                 "'{unit}': ansible-vault rekey --vault-id @prompt --new-vault-id {unit}@prompt FILE").format(
                     unit=unit_id)
    # `ansible-vault encrypt` refuses a file that is encrypted already: rekey from the old identity.
    return _("encrypted for the vault identity '{identity}', not this unit's '{unit}': another unit's password "
             "would open it; re-encrypt it with the unit's own: ansible-vault rekey --vault-id {identity}@prompt "
             "--new-vault-id {unit}@prompt FILE").format(identity=identity, unit=unit_id)


def check_unit_vaults(province: Province, passwords: dict[str, str | None], report: _Report | None = None,
                      inventory_root: Path | None = None) -> list[Problem]:
    """The units' vaults (unitctl.inventory.vaults), each in its own folder with its own identity.

    Without a password, from the header alone: a vault.yml that is not encrypted, one without a vault
    identity, one encrypted for another identity. `passwords` maps a unit id to its password, or to
    None when the unit's vault was asked to be opened and this machine has no password for it; each
    vault named there is opened with that password alone, and what it holds is checked: a mapping
    of declared secrets (UNIT_SECRETS), the per-host and per-person ones naming only this unit's own
    hosts and staff (a secret of another unit, or of the centre, does not belong in it)."""
    report = report or _Report(inventory_root or Path(province.units_dir).parent)
    others = {host.get("name"): unit.id for unit in province.units for host in unit.hosts
              if isinstance(host.get("name"), str)}
    others_staff = {person.get("username"): unit.id for unit in province.units for person in unit.staff
                    if isinstance(person.get("username"), str)}
    for unit in province.units:
        path = vault_path(unit.folder)
        if not path.is_file():
            if unit.id in passwords:
                report.add(path, (), _("this unit has no vault to open here"))
            continue
        header = read_header(path)
        if header is None:
            report.add(path, (), _("this unit's vault is not encrypted, so its secrets are in plain text; encrypt "
                                   "it with the unit's own identity: ansible-vault encrypt --vault-id {unit}@prompt "
                                   "--encrypt-vault-id {unit} FILE").format(unit=unit.id))
            continue
        if header.identity != unit.id:
            report.add(path, (), _vault_identity_reason(header.identity, unit.id))
            continue
        if unit.id not in passwords:
            continue
        password = passwords[unit.id]
        if password is None:
            report.add(path, (), _("the vault of unit {unit} cannot be opened: this machine has no password for the "
                                   "vault identity {unit} (a file named {unit} in the folder {variable} names, or "
                                   "the lab's)").format(unit=unit.id, variable="UNITCTL_VAULT_PASSWORD_DIR"))
            continue
        try:
            secrets = _open(path, unit.id, password)
        except ValueError:
            report.add(path, (), _("the vault of unit {unit} cannot be opened with the password of the vault "
                                   "identity {unit}").format(unit=unit.id))
            continue
        _check_vault_contents(unit, path, secrets, others, others_staff, report)
    return report.problems


def _open(path: Path, identity: str, password: str) -> Any:
    from unitctl.inventory.vaults import open_vault  # noqa: PLC0415  (imports Ansible)

    return open_vault(path, identity, password)


def _check_vault_contents(unit: Unit, path: Path, secrets: Any, hosts_of: dict, staff_of: dict,
                          report: _Report) -> None:
    if secrets is None:
        return
    if not isinstance(secrets, dict):
        report.add(path, (), _("a vault must be a mapping of secret names to values"))
        return
    own_hosts = {host.get("name") for host in unit.hosts if isinstance(host.get("name"), str)}
    own_staff = {person.get("username") for person in unit.staff if isinstance(person.get("username"), str)}
    for key, value in secrets.items():
        declared = UNIT_SECRETS.get(str(key))
        if declared is None:
            close = difflib.get_close_matches(str(key), sorted(UNIT_SECRETS), n=1, cutoff=0.75)
            report.add(path, (key,), _("'{key}' is not a secret the toolkit knows{hint} (the secrets a unit's vault "
                                       "holds: {names})").format(key=key, hint=did_you_mean_hint(close[0]) if close
                                                                 else "", names=", ".join(sorted(UNIT_SECRETS))))
            continue
        if declared.shape == "text":
            if isinstance(value, (dict, list)):
                report.add(path, (key,), _("'{key}' is one text, not a list or mapping").format(key=key))
            continue
        if not isinstance(value, dict):
            report.add(path, (key,), _("'{key}' is a mapping (a name of this unit -> its secret)").format(key=key))
            continue
        own, owner_of = (own_hosts, hosts_of) if declared.shape == "by_host" else (own_staff, staff_of)
        for name in value:
            if not _hashable(name) or name in own:
                continue
            owner = owner_of.get(name)
            if owner is not None:
                report.add(path, (key, name), _("'{name}' belongs to unit {owner}: its secret goes into that unit's "
                                                "own vault, not this one").format(name=name, owner=owner))
            elif declared.shape == "by_host":
                report.add(path, (key, name), _("'{name}' is not a host of this unit").format(name=name))
            else:
                report.add(path, (key, name), _("'{name}' is not in this unit's staff.yml").format(name=name))


def _plaintext_secrets(value: Any, path: YamlPath) -> Iterator[YamlPath]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                yield from _plaintext_secrets(item, path + (key,))
            elif SECRET_KEY.search(str(key)) and item not in (None, "") and not isinstance(item, bool) \
                    and not (isinstance(item, Vaulted) and item.lstrip().startswith("$ANSIBLE_VAULT")) \
                    and not VAULT_REFERENCE.fullmatch(str(item).strip()) and not _declared_non_text(str(key)):
                yield path + (key,)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _plaintext_secrets(item, path + (index,))


def _declared_non_text(key: str) -> bool:
    """A policy key declared as a yes/no or a number (province_ssh_password_authentication): its
    value is a setting, never a secret, whatever its name says."""
    declared = load_schema().keys.get(key)
    return declared is not None and declared.type in ("bool", "int", "port")


# --- to-do markers ----------------------------------------------------------------------------

def pending_todos(units_dir: Path, inventory_root: Path | None = None) -> list[Problem]:
    """Every TODO marker left in unit files (values and comments a person still has to fill in)."""
    report = _Report(inventory_root or Path(units_dir).parent)
    for file in sorted(Path(units_dir).glob("*/*.yml")):
        for number, text in todo_lines(file):
            report.add(file, (), text.lstrip("#- ").strip(), line=number)
    return report.problems


def province_summary(units_dir: Path) -> tuple[int, int]:
    province = load_units_dir(units_dir)
    return len(province.units), len(province.all_hosts())


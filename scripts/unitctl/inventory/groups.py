"""How a province becomes Ansible groups and variables (used by the inventory plugin).

Kept apart from the plugin so it is tested without Ansible's inventory machinery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from unitctl.inventory import derived
from unitctl.inventory.derived import unit_group
from unitctl.inventory.load import Province
from unitctl.inventory.vaults import vault_path

# Host functions that are Linux machines Ansible manages over SSH.
LINUX_FUNCTIONS = {"unit_server", "centre_server", "cms_client"}
FUNCTION_GROUPS = {
    "unit_server": "unit_servers",
    "centre_server": "centre_servers",
    "cms_client": "cms_clients",
    "network_device": "network_devices",
    "printer": "printers",
}


@dataclass
class GroupLayout:
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # group -> group vars
    children: dict[str, list[str]] = field(default_factory=dict)  # parent -> child groups
    hosts: dict[str, tuple[list[str], dict[str, Any]]] = field(default_factory=dict)


def province_groups(province: Province, lab: bool = False) -> GroupLayout:
    layout = GroupLayout()
    # Derived data (unitctl.inventory.derived) rides along: province-wide in `all`, per unit in its group.
    layout.groups["all"] = derived.province_vars(province)
    # `lab` exists, empty, in every other province too: the lab-only plays (hosts: centre_servers:&lab)
    # then match nothing without Ansible warning, on every run, of a pattern naming the lab.
    for name in ["linux_hosts", *FUNCTION_GROUPS.values(), "lab"]:
        layout.groups.setdefault(name, {})
    for unit in province.units:
        info = unit.info
        layout.groups[unit_group(unit.id)] = {
            "unit": info,
            "unit_staff": unit.staff,
            "unit_rooms": unit.rooms,
            "unit_addressing": unit.addressing,
            # The unit's own vault, opened at task time by the vars plugin unitctl_unit_vaults.
            "unit_vault_file": str(vault_path(unit.folder.resolve())),
            **derived.unit_vars(unit, province),
        }
        kind_group = f"kind_{info['kind']}"
        layout.groups.setdefault(kind_group, {})
        for host in unit.hosts:
            groups = [unit_group(unit.id), kind_group, FUNCTION_GROUPS[host["function"]]]
            if host["function"] in LINUX_FUNCTIONS:
                groups.append("linux_hosts")
            if host.get("platform"):
                groups.append(host["platform"])
                layout.groups.setdefault(host["platform"], {})
                layout.children.setdefault("network_devices", []).append(host["platform"])
            if lab:
                groups.append("lab")
            layout.hosts[host["name"]] = (
                groups,
                {"ansible_host": host["address"], "unit_id": unit.id, "unit_host": host,
                 **derived.host_vars(unit, host)},
            )
    for parent, children in layout.children.items():
        layout.children[parent] = sorted(set(children))
    return layout

"""Helpers for the CMS workstation checks (test_workstation_*.py): the workstation's inventory
entry, its profile's components, its unit server, and root reads whichever account is used."""

from __future__ import annotations

import pytest

from server_facts import root_output, root_run  # noqa: F401  (re-exported for the checks)
from unit_facts import unit_of

WORKSTATIONS = ("cms_client",)
FIX = "playbooks/workstations.yml"
POLICY = "inventory/group_vars/all/workstations.yml"


def entry_of(config, inventory_host) -> dict:
    unit = unit_of(config, inventory_host.unit_id)
    return next(host for host in unit.hosts if host["name"] == inventory_host.name)


def components(config, inventory_host, policy) -> list[str]:
    profile = entry_of(config, inventory_host).get("profile", "")
    return list(policy["province_workstation_profiles"].get(profile, []))


def require_component(config, inventory_host, policy, component: str) -> None:
    """Skip (not applicable) a check of a component the workstation's profile does not have."""
    if component not in components(config, inventory_host, policy):
        profile = entry_of(config, inventory_host).get("profile", "")
        pytest.skip(f"not applicable: profile {profile} has no {component}")


def unit_server_address(config, inventory_host) -> str:
    unit = unit_of(config, inventory_host.unit_id)
    return sorted((h for h in unit.hosts if h["function"] == "unit_server"), key=lambda h: h["name"])[0]["address"]


def package_installed(host, name: str) -> bool:
    return host.run(f"dpkg-query -W -f='${{Status}}' {name} 2>/dev/null").stdout.strip() == "install ok installed"

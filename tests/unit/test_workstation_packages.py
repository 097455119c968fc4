"""playbooks/workstations.yml keeps, on a workstation, the packages of the components its profile
still has. Its component -> packages map repeats the roles' own package lists: this keeps them equal,
so that a package added to a role is never taken off a workstation that still needs it."""

from __future__ import annotations

import re

import yaml

from unitctl.paths import PROJECT_ROOT

# Each component's role and the defaults that name the packages its `present` installs.
ROLE_PACKAGE_LISTS = {
    "cms_browser": ["cms_browser_packages"],
    "office_printing": ["office_printing_packages", "office_printing_office_packages"],
    "scanning": ["scanning_packages"],
}
# Installed by the role's tasks beside its default list.
ROLE_EXTRA_PACKAGES = {"cms_browser": {"desktop-file-utils"}}


def playbook_map() -> dict[str, set[str]]:
    plays = yaml.safe_load((PROJECT_ROOT / "playbooks" / "workstations.yml").read_text(encoding="utf-8"))
    found = [play["vars"]["workstations_component_packages"] for play in plays
             if "workstations_component_packages" in play.get("vars", {})]
    assert len(found) == 1, "workstations.yml should define workstations_component_packages once"
    return {component: set(packages) if isinstance(packages, list) else set(re.findall(r"'([a-z0-9.+-]+)'", packages))
            for component, packages in found[0].items()}


def role_packages(component: str) -> set[str]:
    defaults = yaml.safe_load((PROJECT_ROOT / "roles" / component / "defaults" / "main.yml").read_text(encoding="utf-8"))
    return {package for name in ROLE_PACKAGE_LISTS[component] for package in defaults[name]} | ROLE_EXTRA_PACKAGES.get(component, set())


def test_every_component_of_a_profile_has_its_packages_listed():
    profiles = yaml.safe_load((PROJECT_ROOT / "inventory" / "group_vars" / "all" / "workstations.yml").read_text(encoding="utf-8"))
    components = {c for profile in profiles["province_workstation_profiles"].values() for c in profile}
    assert components == set(playbook_map()) == set(ROLE_PACKAGE_LISTS)


def test_the_playbooks_map_equals_the_roles_package_lists():
    listed = playbook_map()
    for component in ROLE_PACKAGE_LISTS:
        assert listed[component] == role_packages(component), component

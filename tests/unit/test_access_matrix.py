"""The roles-to-privileges matrix: the table in the docs is the data the role reads, and it agrees
with the archive share's and the workstations' policy."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from unitctl.inventory.schema import STAFF_ROLES

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "inventory" / "group_vars" / "all"
DOCS = ROOT / "roles" / "staff_accounts" / "README.md"
HOST_TYPES = {"unit_server", "centre_server", "cms_client"}


def matrix() -> dict:
    return yaml.safe_load((POLICY / "access.yml").read_text(encoding="utf-8"))["province_access_roles"]


def docs_table() -> dict[str, dict]:
    """The rows of the 'Roles to privileges' table, role -> column -> cell."""
    lines = [line for line in DOCS.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    header = next(line for line in DOCS.read_text(encoding="utf-8").splitlines() if line.startswith("| role |"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    rows = {}
    for line in lines:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == len(columns) and cells[0].strip("`") in STAFF_ROLES:
            rows[cells[0].strip("`")] = dict(zip(columns, cells))
    return rows


def host_list(cell: str) -> list[str]:
    return [] if cell in ("—", "-", "") else [word.strip() for word in cell.split(",")]


def test_every_roster_role_has_a_row_and_nothing_else():
    assert set(matrix()) == set(STAFF_ROLES)
    assert set(docs_table()) == set(STAFF_ROLES)


def test_matrix_values_are_well_formed():
    for role, access in matrix().items():
        assert set(access["login"]) <= HOST_TYPES, role
        assert set(access["sudo"]) <= set(access["login"]) | {"centre_server"}, f"{role}: sudo where no login"
        assert isinstance(access["workstation_admin"], bool), role
        assert access["network_device_access"] in ("none", "read", "admin"), role
        assert access["archive"] in ("none", "read", "write", "admin"), role
        assert access["title_en"] and access["title_fa"], role


def test_docs_table_equals_the_data():
    table = docs_table()
    for role, access in matrix().items():
        row = table[role]
        assert row["title"] == f"{access['title_en']} / {access['title_fa']}", role
        assert host_list(row["login (shell, SSH key) on"]) == access["login"], role
        assert host_list(row["sudo on"]) == access["sudo"], role
        assert row["workstation local admin"] == ("yes" if access["workstation_admin"] else "no"), role
        assert row["network devices"] == access["network_device_access"], role
        assert row["archive share"] == access["archive"], role


def test_archive_rights_agree_with_the_archive_policy():
    archive = yaml.safe_load((POLICY / "archive.yml").read_text(encoding="utf-8"))
    for level in ("admin", "write", "read"):
        expected = sorted(role for role, access in matrix().items() if access["archive"] == level)
        assert sorted(archive[f"province_archive_{level}_roles"]) == expected, level


def test_workstation_admins_agree_with_the_workstation_policy():
    path = POLICY / "workstations.yml"
    if not path.exists():
        return
    workstations = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "province_technician_roles" in workstations:
        expected = sorted(role for role, access in matrix().items() if access["workstation_admin"])
        assert sorted(workstations["province_technician_roles"]) == expected


def test_readme_links_the_matrix():
    assert "roles/staff_accounts/README.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_privileged_roles_need_an_appointment_and_have_privileges():
    from unitctl.inventory.schema import PRIVILEGED_ROLES
    for role, access in matrix().items():
        powerful = access["sudo"] or access["network_device_access"] == "admin"
        assert not powerful or role in PRIVILEGED_ROLES, f"{role} has sudo or network admin but needs no appointment"


def test_network_device_users_are_computed_from_the_matrix():
    assert re.search(r"province_access_roles\[person\.role\]\.network_device_access",
                     (POLICY / "access.yml").read_text(encoding="utf-8"))

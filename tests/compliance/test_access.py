"""Staff access from the roster (roles/staff_accounts, the matrix in group_vars/all/access.yml).

Each check reads the host's unit roster from the inventory the suite runs with, and the accounts,
groups, keys and sudo rules on the host (as root, through sudo when connected otherwise).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from server_facts import root_output, root_run
from unitctl.compliance import check
from unitctl.inventory.load import load_source
from unitctl.inventory.schema import is_placeholder

MANAGED = ("unit_server", "centre_server", "cms_client")
POLICY = "inventory/group_vars/all/access.yml"
FIX = "playbooks/staff.yml"
MARKER = "unitctl-staff"
SUDOERS = "/etc/sudoers.d/unitctl-staff"
ARCHIVE = "/var/backups/departed-staff"


@pytest.fixture(scope="session")
def rosters(request) -> dict[str, list[dict]]:
    """unit id -> roster, from the inventory the suite runs with."""
    source = Path(request.config.option.inventory).resolve()
    return {unit.id: unit.staff for unit in load_source(source).province.units}


def passwd(host) -> dict[str, list[str]]:
    return {line.split(":")[0]: line.split(":") for line in root_output(host, "getent passwd").splitlines()}


def group_members(host, group: str) -> list[str]:
    result = root_run(host, f"getent group {shlex.quote(group)}")
    return [m for m in result.stdout.strip().split(":")[3].split(",") if m] if result.rc == 0 else []


def shadow(host, user: str) -> list[str]:
    return root_output(host, f"getent shadow {shlex.quote(user)}").strip().split(":")


def keys_of(host, home: str) -> list[str]:
    text = root_output(host, f"cat {shlex.quote(home)}/.ssh/authorized_keys {shlex.quote(home)}/.ssh/authorized_keys2 "
                             "2>/dev/null || true")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def sudo_rules(host, user: str) -> str:
    return root_output(host, f"sudo -l -U {shlex.quote(user)} 2>&1 || true")


def has_sudo(host, user: str) -> bool:
    return "may run the following commands" in sudo_rules(host, user)


def locked(host, user: str) -> list[str]:
    """What is still open about an account that should be locked (empty: locked)."""
    entry, account = shadow(host, user), passwd(host)[user]
    problems = []
    if not entry[1].startswith("!"):
        problems.append("password not locked")
    if not entry[7] or int(entry[7]) > 1:
        problems.append("not expired")
    if not account[6].endswith("nologin"):
        problems.append(f"shell {account[6]}")
    if keys_of(host, account[5]):
        problems.append("authorized_keys left")
    return problems


@check(id="ACC-001", title_en="Every staff member of the unit has an account, with a shell only where their role logs in",
       title_fa="هر یک از کارکنان واحد حساب کاربری دارد و فقط در جایی که نقشش اجازه می‌دهد وارد می‌شود",
       severity="high", applies_to=MANAGED, policy=POLICY, fix=FIX)
def test_roster_members_have_accounts(host, inventory_host, rosters, policy):
    accounts, marked = passwd(host), set(group_members(host, MARKER))
    staff_group = set(group_members(host, f"staff-{inventory_host.unit_id}"))
    problems = []
    for person in rosters[inventory_host.unit_id]:
        name = person["username"]
        login = inventory_host.function in policy["province_access_roles"][person["role"]]["login"]
        if name not in accounts:
            problems.append(f"{name}: no account")
            continue
        if name not in marked:
            problems.append(f"{name}: not in {MARKER}")
        shell = accounts[name][6]
        if login and (shell.endswith(("nologin", "false")) or name not in staff_group):
            problems.append(f"{name} ({person['role']}) should log in here: shell {shell}, "
                            f"staff group {'yes' if name in staff_group else 'no'}")
        if not login and (not shell.endswith("nologin") or name in staff_group):
            problems.append(f"{name} ({person['role']}) should not log in here: shell {shell}")
        if shadow(host, name)[7] not in ("", "-1"):
            problems.append(f"{name}: the account has an expiry date")
    assert not problems, "; ".join(problems)


@check(id="ACC-002", title_en="Staff accounts hold their owner's key and only it",
       title_fa="هر حساب فقط کلید SSH صاحب خود را دارد", severity="critical", applies_to=MANAGED,
       policy="inventory/README.md (staff.yml)", fix=FIX)
def test_roster_members_have_only_their_keys(host, inventory_host, rosters, policy):
    accounts = passwd(host)
    problems = []
    for person in rosters[inventory_host.unit_id]:
        name = person["username"]
        if name not in accounts:
            problems.append(f"{name}: no account")
            continue
        login = inventory_host.function in policy["province_access_roles"][person["role"]]["login"]
        wanted = [person["ssh_key"].strip()] if login and not is_placeholder(person["ssh_key"]) else []
        found = keys_of(host, accounts[name][5])
        if found != wanted:
            problems.append(f"{name}: authorized_keys has {len(found)} key(s), "
                            f"{'not exactly their roster key' if wanted else 'expected none here'}")
    assert not problems, "; ".join(problems)


@check(id="ACC-003", title_en="No usable account of another unit's staff",
       title_fa="هیچ حساب فعالی از کارکنان واحدهای دیگر روی این میزبان نیست", severity="critical",
       applies_to=MANAGED, policy="circular 8476, clause 1 note 2 (staff belong to one unit)", fix=FIX)
def test_no_account_of_another_unit(host, inventory_host, rosters):
    accounts = passwd(host)
    others = {p["username"]: unit for unit, roster in rosters.items() if unit != inventory_host.unit_id
              for p in roster}
    open_accounts = [f"{name} (of {others[name]}): {', '.join(problems)}" for name in sorted(set(accounts) & set(others))
                     if (problems := locked(host, name))]
    assert not open_accounts, "accounts of other units' staff are still open: " + "; ".join(open_accounts)


@check(id="ACC-004", title_en="Departed staff are locked, without keys, groups, sudo or running processes, their home archived",
       title_fa="حساب کارکنانی که از فهرست واحد خارج شده‌اند قفل، بدون کلید، دسترسی و فرایند در حال اجرا، و پوشهٔ خانهٔ آنان بایگانی شده است",
       severity="critical", applies_to=MANAGED, policy=POLICY, fix=FIX)
def test_departed_staff_locked(host, inventory_host, rosters):
    roster = {p["username"] for p in rosters[inventory_host.unit_id]}
    departed = sorted(set(group_members(host, MARKER)) - roster)
    staff_group = set(group_members(host, f"staff-{inventory_host.unit_id}"))
    archives = root_output(host, f"ls -1 {ARCHIVE} 2>/dev/null || true").split()
    problems = []
    for name in departed:
        found = locked(host, name)
        if name in staff_group:
            found.append("still in the staff group")
        if has_sudo(host, name):
            found.append("still has sudo")
        if not any(a.startswith(f"{name}-") and a.endswith(".tar.gz") for a in archives):
            found.append(f"no archive of the home in {ARCHIVE}")
        running = root_output(host, f"pgrep --uid {name} --list-full || true").splitlines()
        if running:
            found.append(f"still runs {len(running)} process(es): {'; '.join(running[:3])}")
        if found:
            problems.append(f"{name}: {', '.join(found)}")
    assert not problems, "; ".join(problems)


@check(id="ACC-005", title_en="Sudo only for the roles that have it here (never CMS operators or registry clerks)",
       title_fa="دسترسی sudo فقط برای نقش‌های مجاز؛ کاربران سامانه و متصدیان دفتر کل sudo ندارند",
       severity="critical", applies_to=MANAGED, policy=POLICY, fix=FIX)
def test_sudo_follows_the_matrix(host, inventory_host, rosters, policy):
    matrix = policy["province_access_roles"]
    accounts = passwd(host)
    problems = []
    for person in rosters[inventory_host.unit_id]:
        name, access = person["username"], matrix[person["role"]]
        if name not in accounts:
            problems.append(f"{name}: no account")
            continue
        should = inventory_host.function in access["sudo"] or (
            access["workstation_admin"] and inventory_host.function == "cms_client")
        if has_sudo(host, name) != should:
            problems.append(f"{name} ({person['role']}) {'has no' if should else 'has'} sudo")
    assert not problems, "; ".join(problems)


@check(id="ACC-006", title_en="The sudo rules are valid and the staff drop-in is root's, read-only",
       title_fa="پیکربندی sudo معتبر است و فایل دسترسی کارکنان فقط‌خواندنی و متعلق به root است",
       severity="high", applies_to=MANAGED, policy=POLICY, fix=FIX, controls=("CIS 5.2.1",))
def test_sudoers_valid(host):
    result = root_run(host, "visudo -c")
    assert result.rc == 0, f"visudo -c: {result.stdout.strip()} {result.stderr.strip()}"
    mode = root_output(host, f"stat -c '%U:%G %a' {SUDOERS} 2>/dev/null || echo missing").strip()
    assert mode == "root:root 440", f"{SUDOERS}: {mode}"

"""Security updates (roles/security_updates): none pending longer than the province allows,
unattended-upgrade running and succeeding, no service left on a replaced library."""

from __future__ import annotations

from server_facts import SERVERS, root_output, root_run
from unitctl.compliance import check
from updates_facts import (DEFAULT_MAX_PENDING_DAYS, PENDING_COMMAND, RUNS_COMMAND, pending_problems,
                           services_to_restart, unattended_problems)
from workstation_facts import WORKSTATIONS, package_installed

HOSTS = SERVERS + WORKSTATIONS
POLICY = "inventory/group_vars/all/updates.yml"
FIX = "playbooks/site.yml"  # servers and workstations alike: --limit picks the host's job
CONTROLS = ("CIS 1.2.2.1",)


@check(id="UPD-001", title_en="No security update has been pending longer than the province allows",
       title_fa="هیچ به‌روزرسانی امنیتی بیش از مهلت مجاز استان نصب‌نشده نمانده است", severity="critical",
       applies_to=HOSTS, policy=POLICY, fix=FIX, controls=CONTROLS)
def test_no_security_update_overdue(host, policy):
    max_days = policy.get("province_security_updates_max_pending_days", DEFAULT_MAX_PENDING_DAYS)
    problems = pending_problems(root_output(host, PENDING_COMMAND), int(max_days))
    assert not problems, "; ".join(problems)


@check(id="UPD-002", title_en="Unattended security upgrades ran successfully within two days",
       title_fa="به‌روزرسانی امنیتی خودکار در دو روز گذشته با موفقیت اجرا شده است", severity="high",
       applies_to=HOSTS, policy="roles/base/templates/52unitctl-unattended-upgrades.j2", fix=FIX, controls=CONTROLS)
def test_unattended_upgrade_succeeded_recently(host):
    problems = unattended_problems(root_output(host, RUNS_COMMAND))
    assert not problems, "; ".join(problems)


@check(id="UPD-003", title_en="No service runs on a library an update replaced",
       title_fa="هیچ سرویسی با کتابخانهٔ جایگزین‌شده در به‌روزرسانی کار نمی‌کند", severity="high",
       applies_to=HOSTS, policy="roles/security_updates/defaults/main.yml", fix=FIX, controls=CONTROLS)
def test_no_service_on_replaced_libraries(host):
    assert package_installed(host, "needrestart"), "needrestart is not installed: nothing restarts services after an update"
    # needrestart in list mode: the services it would restart on its own. Those it never restarts on
    # its own (dbus, user managers: "being deferred") wait for a reboot and are not held against the host.
    listing = root_run(host, "LC_ALL=C needrestart -r l </dev/null")
    assert listing.rc == 0, f"needrestart failed ({listing.rc}): {listing.stderr.strip()[-300:]}"
    services = services_to_restart(listing.stdout)
    assert not services, f"services still running replaced libraries (needrestart would restart them): {services}"


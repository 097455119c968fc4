"""Process accounting and system activity history on the servers (roles/accounting)."""

from __future__ import annotations

import pytest

from server_facts import SERVERS, root_output, root_run
from unitctl.compliance import check
from workstation_facts import package_installed

FIX = "playbooks/servers.yml"
POLICY = "roles/accounting/defaults/main.yml"
PACCT = "/var/log/account/pacct"
# sysstat samples every 10 minutes (sysstat-collect.timer): no sample for 30 minutes means it stopped.
SAMPLE_MAX_AGE_S = 30 * 60

# The accounting file's size, a command run, its size again, then the newest records (lastcomm
# lists newest first): the `true` just run must be there and the file must have grown.
_PACCT_PROBE = (f"a=$(stat -c %s {PACCT}); /bin/true; b=$(stat -c %s {PACCT}); echo \"$a $b\"; "
                f"lastcomm -f {PACCT} 2>/dev/null | head -n 20")


@check(id="ACCT-001", title_en="Process accounting records every command run",
       title_fa="حسابرسی فرایندها هر فرمان اجراشده را ثبت می‌کند", severity="medium", applies_to=SERVERS,
       policy=POLICY, fix=FIX)
def test_process_accounting_records_commands(host):
    assert package_installed(host, "acct"), "acct (process accounting) is not installed"
    condition = root_output(host, "systemctl show acct.service -p ConditionResult --value; "
                                  "systemd-detect-virt --container || true").split()
    if condition[:1] == ["no"] and condition[1:2] != ["none"]:
        pytest.skip(f"not applicable in a container ({condition[1]}): the kernel refuses acct() without "
                    "CAP_SYS_PACCT, which the container does not have, so acct.service is skipped by its condition")
    assert root_run(host, "systemctl is-enabled acct.service").stdout.strip() == "enabled", \
        "acct.service is not enabled: accounting stops at the next boot"
    probe = root_run(host, _PACCT_PROBE)
    sizes, records = probe.stdout.splitlines()[:1], probe.stdout.splitlines()[1:]
    before, after = (int(size) for size in (sizes[0].split() if sizes and len(sizes[0].split()) == 2 else ("0", "0")))
    assert after > before, f"{PACCT} did not grow when a command ran: process accounting is off"
    assert any(line.split()[:1] == ["true"] for line in records), \
        f"lastcomm does not list the command just run (/bin/true): {records[:3]}"


@check(id="ACCT-002", title_en="sysstat records the system's activity every 10 minutes",
       title_fa="sysstat فعالیت سامانه را هر ۱۰ دقیقه ثبت می‌کند", severity="low", applies_to=SERVERS,
       policy=POLICY, fix=FIX)
def test_sysstat_records_activity(host):
    assert package_installed(host, "sysstat"), "sysstat is not installed"
    assert root_run(host, "systemctl is-active sysstat-collect.timer").stdout.strip() == "active", \
        "sysstat-collect.timer is not active: no sample is taken"
    # sar's samples of yesterday and today (sadf -d: "host;interval;epoch;CPU;..."; the restart
    # record's interval is -1), and the host's clock.
    output = root_output(host, "date +%s; { sadf -d -U -1 -- -u; sadf -d -U -- -u; } 2>/dev/null || true").splitlines()
    now = int(output[0])
    stamps = [int(fields[2]) for fields in (line.split(";") for line in output[1:] if not line.startswith("#"))
              if len(fields) > 3 and fields[1].isdigit() and fields[2].isdigit()]
    assert stamps, "sar has no sample of today or yesterday"
    assert now - max(stamps) <= SAMPLE_MAX_AGE_S, \
        f"sar's newest sample is {(now - max(stamps)) // 60} minutes old: collection has stopped"

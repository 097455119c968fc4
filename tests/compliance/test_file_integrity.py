"""File integrity (role file_integrity): AIDE's baseline of the province's scope, checked daily on
Debian's dailyaidecheck.timer, each check's verdict in the journal and in a state file."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime, timedelta

from server_facts import root_run

from unitctl.compliance import check

FIX = "playbooks/file_integrity.yml"
HOSTS = ("unit_server", "centre_server", "cms_client")
POLICY = "inventory/group_vars/all/file_integrity.yml"
CONFIG = "/etc/aide/unitctl.conf"
STATE = "/var/lib/unitctl/file-integrity/last-check"
MAX_AGE_DAYS = 2  # province_file_integrity_max_age_days when the province sets none
# Files every server and workstation has, that an intruder changes first; and the audit tools
# (CIS 6.3.3), where installed. A baseline without them, or with them changed, fails FIM-001.
SENTINELS = ("/etc/passwd", "/etc/shadow", "/etc/sudoers", "/etc/ssh/sshd_config", "/usr/sbin/sshd", "/usr/bin/sudo")
AUDIT_TOOLS = ("/usr/sbin/auditctl", "/usr/sbin/auditd", "/usr/sbin/ausearch", "/usr/sbin/aureport",
               "/usr/sbin/autrace", "/usr/sbin/augenrules")
# Verdicts of a last check that found nothing to report (the role's unitctl-file-integrity).
# What differs between Debian releases: the units Debian's dailyaidecheck.service requires, which
# must succeed for the check to start. aide 0.19 (Debian 13) builds a cache first by running a
# snippet the role leaves out; the role's drop-in makes that step a no-op (roles/file_integrity/vars).
REQUIRED_BEFORE_DAILY_CHECK = {12: (), 13: ("dailyaidecheck-buildcache.service",)}
GOOD = {"clean": "no difference", "updated": "only package updates", "accepted": "accepted by a provisioning run",
        "baseline": "baseline made"}


def limited_check(paths) -> str:
    """AIDE's own check limited to these entries: hashes a handful of files, not the scope."""
    pattern = "^(" + "|".join(path.replace(".", "\\.") for path in paths) + ")$"
    return f"aide --config={CONFIG} --check --limit={shlex.quote(pattern)}"


def report_entries(output: str) -> dict[str, list[str]]:
    start = output.find("{")
    report = json.loads(output[start:]) if start >= 0 else {}
    return {kind: sorted(report.get(kind) or {}) for kind in ("added", "removed", "changed")}


@check(id="FIM-001", title_en="AIDE has a baseline of the province's scope that knows the key system files and audit tools",
       title_fa="AIDE خط مبنای محدودهٔ تعیین‌شدهٔ استان را دارد و پرونده‌های کلیدی سامانه و ابزارهای ممیزی را می‌شناسد",
       severity="high", applies_to=HOSTS, policy=POLICY, fix=FIX, controls=("CIS 6.3.1", "CIS 6.3.3"))
def test_baseline_knows_key_files(host):
    """Behaviour: AIDE's own check, limited to /etc/passwd, /etc/shadow, sshd, sudo and the audit
    tools, against the baseline: an entry the baseline lacks is reported added, a changed one changed."""
    installed = root_run(host, "dpkg-query -W -f='${db:Status-Status}' aide")
    assert installed.stdout.strip() == "installed", "AIDE (the aide package) is not installed"
    found = root_run(host, limited_check(SENTINELS + AUDIT_TOOLS))
    output = f"{found.stdout}\n{found.stderr}"
    assert found.rc <= 7, f"AIDE cannot compare with a baseline (exit {found.rc}): {output.strip()[-300:]}"
    entries = report_entries(found.stdout)
    problems = ([f"the baseline lacks {path}" for path in entries["added"]]
                + [f"{path} has changed since the baseline" for path in entries["changed"]]
                + [f"{path} is gone since the baseline" for path in entries["removed"]])
    assert not problems, "; ".join(problems)


def last_check(host) -> dict:
    found = root_run(host, f"cat {STATE}")
    assert found.rc == 0, f"no file integrity check has run here ({STATE} is missing)"
    return json.loads(found.stdout)


@check(id="FIM-002", title_en="The daily file integrity check is scheduled and last ran within the policy's days",
       title_fa="بررسی روزانهٔ یکپارچگی پرونده‌ها زمان‌بندی شده و آخرین بار در مهلت سیاست استان اجرا شده است",
       severity="high", applies_to=HOSTS, policy=POLICY, fix=FIX, controls=("CIS 6.3.2",))
def test_daily_check_recent(host, policy, debian_release):
    days = int(policy.get("province_file_integrity_max_age_days") or MAX_AGE_DAYS)
    units = root_run(host, "echo \"$(systemctl is-enabled dailyaidecheck.timer 2>&1)\"; "
                           "echo \"$(systemctl is-active dailyaidecheck.timer)\"; "
                           "systemctl show -P ExecStart dailyaidecheck.service")
    lines = units.stdout.splitlines() + ["", "", ""]
    assert lines[0] == "enabled" and lines[1] == "active", \
        f"dailyaidecheck.timer is not enabled and active (is-enabled: {lines[0]}; is-active: {lines[1]})"
    assert "unitctl-file-integrity" in lines[2], \
        "dailyaidecheck.service runs Debian's mail report, not the province's check (its drop-in is missing)"
    for unit in REQUIRED_BEFORE_DAILY_CHECK[debian_release]:
        runs = root_run(host, f"systemctl show -P ExecStart {unit}").stdout
        assert "buildcache" not in runs, (f"{unit} runs Debian's cache build, which fails without the snippets the "
                                          "role leaves out: the daily check that requires it never starts")
    state = last_check(host)
    when = datetime.fromisoformat(state["time"])
    assert state["verdict"] != "error", f"the last check ({state['time']}) could not compare: {state.get('error')}"
    assert datetime.now(UTC) - when < timedelta(days=days), \
        f"the last file integrity check was {state['time']} ({state.get('by')}), more than {days} days ago"


@check(id="FIM-003", title_en="The last file integrity check found no change that neither a package update nor a provisioning run explains",
       title_fa="آخرین بررسی یکپارچگی هیچ تغییری نیافته است، جز آنچه به‌روزرسانی بسته‌ها یا اجرای پیکربندی توضیح می‌دهد",
       severity="high", applies_to=HOSTS, policy=POLICY, fix=FIX, controls=("CIS 6.3.2",))
def test_last_check_found_no_unexplained_change(host):
    state = last_check(host)
    if state["verdict"] in GOOD:
        return
    if state["verdict"] == "error":
        raise AssertionError(f"the last check ({state['time']}) could not compare: {state.get('error')}")
    entries = state.get("entries") or []
    named = "; ".join(f"{entry['kind']} {entry['path']}" for entry in entries[:10])
    more = sum(state.get("counts", {}).values()) - min(len(entries), 10)
    raise AssertionError(f"the {state.get('by', 'check')} of {state['time']} found changes: {named}"
                         + (f"; and {more} more" if more > 0 else "")
                         + " (a technician looks, then runs the playbook with -e file_integrity_acknowledge=true)")

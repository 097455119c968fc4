"""The audit daemon (roles/audit) on the servers: the kernel's audit rules, auditd.conf, and the
records in the journal, which the unit servers upload to the centre.

The kernel's audit subsystem is not namespaced: in a container (the lab's hosts) auditd cannot run
and no rule can be loaded, so the checks that need them are not applicable there; the rules' logic
is tested on the rendered files (tests/unit/test_audit_rules.py). The archive share's own record of
who opened or changed a case file (Samba's full_audit) is ARC-008, which the lab proves end to end.
"""

from __future__ import annotations

import re

import pytest
from server_facts import SERVERS, UNIT_SERVERS, container, root_output, root_run

from unitctl.compliance import check

FIX = "playbooks/servers.yml"
POLICY = "inventory/group_vars/all/auditd.yml"
ARCHIVE = "/srv/archive"
# What the loaded rules must record (their keys, -k), on every server; the archive on unit servers.
RULE_KEYS = ("identity", "scope", "user_emulation", "sudo_log_file", "sshd_config", "time-change", "system-locale",
             "privileged", "access", "perm_mod", "mounts", "session", "logins", "delete", "kernel_modules")


def _skip_in_a_container(host) -> None:
    manager = container(host)
    if manager:
        pytest.skip(f"not applicable in a container ({manager}): the kernel's audit subsystem is "
                    "not namespaced, so auditd cannot run and no audit rule can be loaded")


def _conf(host) -> dict[str, str]:
    found = root_run(host, "cat /etc/audit/auditd.conf")
    assert found.rc == 0, "there is no /etc/audit/auditd.conf: auditd is not installed"
    return {key.strip().lower(): value.strip().lower() for key, _, value in
            (line.partition("=") for line in found.stdout.splitlines() if "=" in line and not line.lstrip().startswith("#"))}


@check(id="AUD-001", title_en="auditd keeps the policy's window of audit logs and acts as the policy says when its disk fills",
       title_fa="سرویس ممیزی (auditd) پرونده‌های ممیزی را به اندازهٔ سیاست استان نگه می‌دارد و هنگام پر شدن دیسک طبق سیاست رفتار می‌کند",
       severity="medium", applies_to=SERVERS, policy=POLICY, fix=FIX,
       controls=("CIS 6.2.1.1", "CIS 6.2.2.1"))
def test_audit_log_storage(host, policy):
    assert host.package("auditd").is_installed, "auditd is not installed"
    conf = _conf(host)
    full = policy["province_auditd_disk_full_action"].lower()
    # Rotated, not kept for ever (CIS 6.2.2.2 left out: roles/audit/README.md): bounded on the root disk.
    wanted = {"max_log_file": str(policy["province_auditd_max_log_file_mb"]), "max_log_file_action": "rotate",
              "num_logs": str(policy["province_auditd_num_logs"]),
              "admin_space_left_action": full, "disk_full_action": full,
              # dev-sec package-08's values (its admin and disk-full actions: suspend, the province's default)
              "log_file": "/var/log/audit/audit.log", "log_format": "raw", "space_left": "75",
              "space_left_action": "syslog", "action_mail_acct": "root", "admin_space_left": "50",
              "disk_error_action": "suspend"}
    wrong = {key: f"{conf.get(key, 'unset')} (wanted: {value})" for key, value in wanted.items() if conf.get(key) != value}
    if conf.get("flush") not in ("incremental", "incremental_async"):
        wrong["flush"] = f"{conf.get('flush', 'unset')} (wanted: incremental or incremental_async)"
    assert not wrong, f"auditd.conf: {wrong}"


@check(id="AUD-002", title_en="The audit rules are loaded and locked: identity files, sudo, SSH, time, modules, mounts",
       title_fa="قواعد ممیزی بارگذاری و قفل شده‌اند: پرونده‌های هویتی، sudo، SSH، زمان، ماژول‌های هسته و اتصال (mount) فایل‌سیستم‌ها",
       severity="high", applies_to=SERVERS, policy=POLICY, fix=FIX,
       controls=("CIS 6.2.1.2", "CIS 6.2.1.3", "CIS 6.2.1.4", "CIS 6.2.3.1", "CIS 6.2.3.2", "CIS 6.2.3.3",
                 "CIS 6.2.3.4", "CIS 6.2.3.5", "CIS 6.2.3.6", "CIS 6.2.3.7", "CIS 6.2.3.8", "CIS 6.2.3.9",
                 "CIS 6.2.3.10", "CIS 6.2.3.11", "CIS 6.2.3.12", "CIS 6.2.3.13", "CIS 6.2.3.19", "CIS 6.2.3.20",
                 "CIS 6.2.3.21"))
def test_audit_rules_loaded(host):
    _skip_in_a_container(host)
    service = host.service("auditd")
    assert service.is_running and service.is_enabled, "auditd is not running and enabled"
    status = root_output(host, "auditctl -s; echo; auditctl -l; echo; augenrules --check 2>&1; echo; cat /proc/cmdline")
    enabled = re.search(r"^enabled (\d)", status, re.MULTILINE)
    assert enabled and enabled.group(1) == "2", \
        f"the audit rules are not locked (enabled {enabled.group(1) if enabled else '?'}; the policy wants 2)"
    keys = set(re.findall(r'(?:-k |key=)"?([\w-]+)', status))
    missing = [key for key in RULE_KEYS if key not in keys]
    assert not missing, f"no loaded rule records: {missing}"
    assert "No change" in status, "the rules in /etc/audit/rules.d differ from the merged ones auditd loads"
    if host.file("/etc/default/grub").exists:
        assert "audit=1" in status and "audit_backlog_limit=" in status, \
            "the kernel booted without audit=1 and audit_backlog_limit (reboot after provisioning?)"


@check(id="AUD-003", title_en="Every access to the archive's folders is recorded, and the record is in the journal sent to the centre",
       title_fa="هر دسترسی به پوشه‌های بایگانی ثبت می‌شود و رکورد آن در دفتر رویدادی است که به مرکز استان فرستاده می‌شود",
       severity="critical", applies_to=UNIT_SERVERS, policy=POLICY, fix=FIX)
def test_archive_access_recorded(host):
    _skip_in_a_container(host)
    # The check's own look at the archive (a directory listing: a read) must leave a record, in
    # auditd's log and in the journal (journald's audit socket), under the archive rule's key.
    pid = root_output(host, f"sh -c 'ls {ARCHIVE} >/dev/null & echo $!; wait'").strip()
    found = root_run(host, f"sleep 1; ausearch -k archive -p {pid} --input-logs 2>/dev/null | grep -c 'type=SYSCALL'; "
                           f"journalctl _TRANSPORT=audit _PID={pid} --since=-5min -o cat -q --no-pager | grep -c 'key=\"archive\"'")
    counts = (found.stdout.split() + ["0", "0"])[:2]
    assert counts[0] != "0", f"auditd recorded nothing of a listing of {ARCHIVE} (pid {pid})"
    assert counts[1] != "0", "the record is not in the journal: it will not reach the centre (journald's audit socket is off?)"

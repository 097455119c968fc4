"""The province policy schema: well formed, covering every policy key the toolkit reads, and its
reference page (inventory/POLICY.md) up to date."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from unitctl.paths import INVENTORY_DIR, PROJECT_ROOT
from unitctl.inventory.policy_schema import check_policy_file, load_schema

# Files where the toolkit reads province policy: plays, their group_vars, device templates and
# the compliance suite. `province_trust` is a role, not a key.
READERS = ["playbooks", "templates", "tests/compliance", "inventory/group_vars"]
NOT_KEYS = re.compile(r"^province_trust(_\w+)?$")
POLICY_NAME = re.compile(r"\b(province_[a-z0-9_]+)\b")
QUOTED_POLICY_NAME = re.compile(r"[\"'](province_[a-z0-9_]+)[\"']")  # in Python: policy["province_..."]


def test_every_policy_key_the_toolkit_reads_is_declared():
    schema = load_schema()
    read = set()
    for folder in READERS:
        for path in (PROJECT_ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in (".yml", ".j2", ".py"):
                pattern = QUOTED_POLICY_NAME if path.suffix == ".py" else POLICY_NAME
                read |= set(pattern.findall(path.read_text(encoding="utf-8")))
    undeclared = {name for name in read if not NOT_KEYS.match(name)} - set(schema.keys) - schema.derived
    assert not undeclared, f"read but not declared in inventory/policy-schema.yml: {sorted(undeclared)}"


def test_keys_read_with_a_default_are_declared_optional():
    schema = load_schema()
    for name in ("province_ntp_upstream", "province_dns_upstream", "province_management_sources"):
        assert schema.keys[name].required is False


def test_a_templated_value_is_accepted_whatever_the_type():
    assert check_policy_file("all", {"province_ssh_port": "{{ vault_port }}"}) == []
    assert check_policy_file("all", {"province_ssh_port": True}) == [
        (("province_ssh_port",), "should be a port number (1-65535), but it is bool (True)")]


def test_a_number_below_its_declared_minimum_is_refused():
    assert check_policy_file("all", {"province_security_updates_max_pending_days": 7}) == []
    assert check_policy_file("all", {"province_security_updates_max_pending_days": 0}) == [
        (("province_security_updates_max_pending_days",), "should be at least 1, but it is 0")]


QUALITY = {"min_length": 14, "min_classes": 4, "difok": 2, "max_repeat": 3, "max_sequence": 3, "remember": 24}
AGEING = {"max_days": 365, "min_days": 1, "warn_days": 7, "inactive_days": 45}
LOCKOUT = {"deny": 5, "unlock_time": 900, "root_unlock_time": 60}
NOTICE = "هشدار: فقط کارکنان مجاز.\nWARNING: authorised staff only.\n"
MODULE = ("'{}' is not a kernel module name (as modprobe takes it: lower-case letters, digits, '-' and '_', no "
          "spaces, options or paths)")
STARTUPS = "should be start:rate:full (three whole numbers, such as 10:30:60), but it is '{}'"

# The mistakes a technician or the centre would make in the hardening policy (group_vars/all): each
# is refused by `unitctl validate` (and the inventory plugin) before any host is touched, with its
# path and reason; the roles check again when they run.
MISTAKES = [
    ("updates-days-zero", "province_security_updates_max_pending_days", 0,
     [((), "should be at least 1, but it is 0")]),
    ("updates-days-text", "province_security_updates_max_pending_days", "7",
     [((), "should be a whole number, but it is str ('7')")]),
    ("auditd-file-size-zero", "province_auditd_max_log_file_mb", 0, [((), "should be at least 1, but it is 0")]),
    ("auditd-num-logs-zero", "province_auditd_num_logs", 0, [((), "should be 2 to 999, but it is 0")]),
    ("auditd-num-logs-beyond-auditd", "province_auditd_num_logs", 1000, [((), "should be 2 to 999, but it is 1000")]),
    ("auditd-disk-full-reboot", "province_auditd_disk_full_action", "reboot",
     [((), "should be one of suspend, single, halt, but it is 'reboot'")]),
    ("auditd-disk-full-capitalised", "province_auditd_disk_full_action", "Suspend",
     [((), "should be one of suspend, single, halt, but it is 'Suspend' (did you mean 'suspend'?)")]),
    ("aide-watch-relative", "province_file_integrity_watch", ["/etc", "usr/bin"],
     [((1,), "'usr/bin' is not an absolute path without spaces (it must start with /)")]),
    ("aide-watch-space", "province_file_integrity_watch", ["/srv/case files"],
     [((0,), "'/srv/case files' is not an absolute path without spaces (it must start with /)")]),
    ("aide-watch-empty", "province_file_integrity_watch", [], [((), "should have at least 1 entry, but it has 0")]),
    ("aide-watch-not-a-list", "province_file_integrity_watch", "/etc",
     [((), "should be a list, but it is str ('/etc')")]),
    ("aide-exclude-relative", "province_file_integrity_exclude", ["var/log"],
     [((0,), "'var/log' is not an AIDE expression of a path (it must start with /)")]),
    ("aide-calendar-empty", "province_file_integrity_on_calendar", "",
     [((), "should be one systemd OnCalendar expression (such as '*-*-* 03:15:00'), but it is ''")]),
    ("aide-accept-yes-quoted", "province_file_integrity_accept_package_updates", "yes",
     [((), "should be true or false, but it is str ('yes')")]),
    ("aide-max-age-zero", "province_file_integrity_max_age_days", 0, [((), "should be at least 1, but it is 0")]),
    ("notice-empty", "province_legal_notice", "  \n", [((), "should be the legal notice, but it is empty")]),
    ("notice-english-only", "province_legal_notice", "WARNING: {{ province_judiciary_en }} staff only.\n",
     [((), "should be in Persian and English, but it has no Persian text")]),
    ("notice-persian-only", "province_legal_notice", "هشدار: فقط کارکنان مجاز.\n",
     [((), "should be in Persian and English, but it has no English text")]),
    ("notice-console-escape", "province_legal_notice", NOTICE + "\\s \\r\n",
     [((), "should hold no backslash: the console would read \\s, \\r, \\v, \\m as the operating system and "
           "kernel")]),
    ("notice-os-name", "province_legal_notice", NOTICE + "Debian GNU/Linux 12\n",
     [((), "should not name the operating system ('Debian'): the notice must not tell an attacker what the host "
           "runs (CIS 1.6.2, 1.6.3)")]),
    ("quality-unknown-field", "province_password_quality", {**QUALITY, "minlen": 14},
     [(("minlen",), "'minlen' is not a field of province_password_quality (did you mean 'min_length'?); its fields "
                    "are min_length, min_classes, difok, max_repeat, max_sequence, remember")]),
    ("quality-out-of-range", "province_password_quality", {**QUALITY, "min_length": 6, "min_classes": 5},
     [(("min_length",), "should be 8 to 128, but it is 6"), (("min_classes",), "should be 1 to 4, but it is 5")]),
    ("quality-field-missing-and-text", "province_password_quality",
     {**{k: v for k, v in QUALITY.items() if k != "remember"}, "difok": "2"},
     [(("difok",), "should be a whole number, but it is str ('2')"),
      ((), "lacks remember: every field of province_password_quality must be set (min_length, min_classes, "
           "difok, max_repeat, max_sequence, remember)")]),
    ("ageing-unknown-field", "province_password_ageing", {**AGEING, "expire_days": 3},
     [(("expire_days",), "'expire_days' is not a field of province_password_ageing; its fields are max_days, "
                         "min_days, warn_days, inactive_days")]),
    ("ageing-zero-and-negative", "province_password_ageing", {**AGEING, "max_days": 0, "inactive_days": -1},
     [(("max_days",), "should be 1 to 365, but it is 0"), (("inactive_days",), "should be 1 to 45, but it is -1"),
      (("min_days",), "should be at most max_days (0), but it is 1"),
      (("warn_days",), "should be at most max_days (0), but it is 7")]),
    ("ageing-min-above-max", "province_password_ageing", {**AGEING, "max_days": 30, "min_days": 60},
     [(("min_days",), "should be at most max_days (30), but it is 60")]),
    ("lockout-unknown-field", "province_login_lockout", {**LOCKOUT, "unlock_tme": 900},
     [(("unlock_tme",), "'unlock_tme' is not a field of province_login_lockout (did you mean 'unlock_time'?); its "
                        "fields are deny, unlock_time, root_unlock_time")]),
    ("lockout-out-of-range", "province_login_lockout", {"deny": 0, "unlock_time": 300, "root_unlock_time": 10},
     [(("deny",), "should be 1 to 5, but it is 0"), (("root_unlock_time",), "should be at least 60, but it is 10"),
      (("unlock_time",), "should be 0 (never unlocks by itself) or at least 900 seconds, but it is 300")]),
    ("lockout-not-a-mapping", "province_login_lockout", [5, 900, 60],
     [((), "should be a mapping of keys to values, but it is list ([5, 900, 60])")]),
    ("shell-timeout-zero", "province_shell_timeout", 0, [((), "should be 1 to 900, but it is 0")]),
    ("shell-timeout-an-hour", "province_shell_timeout", 3600, [((), "should be 1 to 900, but it is 3600")]),
    ("ssh-grace-zero", "province_ssh_login_grace_time", 0, [((), "should be 1 to 60, but it is 0")]),
    ("ssh-grace-ten-minutes", "province_ssh_login_grace_time", 600, [((), "should be 1 to 60, but it is 600")]),
    ("ssh-grace-text", "province_ssh_login_grace_time", "30s",
     [((), "should be a whole number, but it is str ('30s')")]),
    ("ssh-auth-tries-zero", "province_ssh_max_auth_tries", 0, [((), "should be 1 to 4, but it is 0")]),
    ("ssh-sessions-twenty", "province_ssh_max_sessions", 20, [((), "should be 1 to 10, but it is 20")]),
    ("ssh-startups-two-parts", "province_ssh_max_startups", "10:30", [((), STARTUPS.format("10:30"))]),
    ("ssh-startups-words", "province_ssh_max_startups", "abc", [((), STARTUPS.format("abc"))]),
    ("ssh-startups-rate-zero", "province_ssh_max_startups", "10:0:60",
     [((), "should have a rate (the middle number, a percentage) of 1 to 100, but it is 0")]),
    ("ssh-startups-start-above-full", "province_ssh_max_startups", "60:30:10",
     [((), "should have start (60) at most full (10)")]),
    ("ssh-alive-interval-zero", "province_ssh_client_alive_interval", 0, [((), "should be at least 1, but it is 0")]),
    ("ssh-alive-count-zero", "province_ssh_client_alive_count_max", 0, [((), "should be at least 1, but it is 0")]),
    ("module-with-space", "province_kernel_modules_unused", ["cramfs", "usb storage"],
     [((1,), MODULE.format("usb storage"))]),
    ("module-capital-and-path", "province_removable_media_modules", ["Udf", "/lib/modules/x.ko"],
     [((0,), MODULE.format("Udf")), ((1,), MODULE.format("/lib/modules/x.ko"))]),
    ("module-not-text", "province_kernel_modules_unused", ["cramfs", 7], [((1,), "should be text, but it is int (7)")]),
    ("media-profiles-not-a-list", "province_removable_media_allowed_profiles", "scanning_station",
     [((), "should be a list, but it is str ('scanning_station')")]),
]


@pytest.mark.parametrize(("key", "value", "expected"), [pytest.param(*case[1:], id=case[0]) for case in MISTAKES])
def test_each_hardening_mistake_is_refused_with_its_path_and_reason(key, value, expected):
    found = check_policy_file("all", {key: value})
    assert sorted(found) == sorted(((key,) + path, reason) for path, reason in expected)


def test_the_province_hardening_policy_is_accepted():
    for name in ("auditd", "file_integrity", "kernel", "login", "ssh", "updates"):
        data = yaml.safe_load((INVENTORY_DIR / "group_vars" / "all" / f"{name}.yml").read_text(encoding="utf-8"))
        assert check_policy_file("all", data) == [], name
    assert check_policy_file("all", {"province_password_quality": QUALITY, "province_password_ageing": AGEING,
                                     "province_login_lockout": {**LOCKOUT, "unlock_time": 0},
                                     "province_legal_notice": NOTICE, "province_ssh_max_startups": "10:30:10"}) == []


def test_a_templated_value_is_left_to_ansible_except_the_text_around_a_notice_template():
    assert check_policy_file("all", {"province_legal_notice": "{{ vault_notice }}",
                                     "province_ssh_max_sessions": "{{ vault_sessions }}",
                                     "province_kernel_modules_unused": ["{{ extra_module }}"],
                                     "province_login_lockout": {**LOCKOUT, "deny": "{{ deny }}"}}) == []
    assert check_policy_file("all", {"province_legal_notice": "{{ province_judiciary_fa }} \\s WARNING"}) == [
        (("province_legal_notice",), "should hold no backslash: the console would read \\s, \\r, \\v, \\m as the "
                                     "operating system and kernel")]


@pytest.mark.parametrize("declaration", [
    {"type": "str", "min": 1}, {"type": "int", "max": "ten"}, {"type": "int", "choices": ["a"]},
    {"type": "str", "choices": []}, {"type": "str", "format": "no_such_format"}, {"type": "list", "items": "nope"},
    {"type": "dict", "rules": "login_lockout"}, {"type": "list", "fields": {"a": {"type": "int"}}},
    {"type": "dict", "fields": {"a": {"type": "int", "max": True}}},
])
def test_a_malformed_declaration_is_refused_naming_the_key(tmp_path, declaration):
    schema = tmp_path / "policy-schema.yml"
    schema.write_text(yaml.safe_dump({"keys": {"province_x": {"meaning": "m", **declaration}}}), encoding="utf-8")
    with pytest.raises(ValueError, match="province_x"):
        load_schema(schema)


def test_the_policy_reference_page_is_generated_from_the_schema():
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "policy_docs.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr

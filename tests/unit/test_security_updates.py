"""Security updates and accounting, offline: the security_upgrade module's record and reports
(roles/security_updates/library/security_upgrade.py), the UPD checks' reading of what a host
shows (tests/compliance/updates_facts.py), and the accounting role's acct condition."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "compliance"))
from updates_facts import pending_problems, services_to_restart, unattended_problems, unattended_runs  # noqa: E402

PATH = ROOT / "roles" / "security_updates" / "library" / "security_upgrade.py"
SPEC = importlib.util.spec_from_file_location("security_upgrade", PATH)
security_upgrade = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(security_upgrade)

DAY = 86400
NOW = 1_796_032_834  # 2026-11-30 13:30:34 in Tehran (+03:30)
TZDATA = {"name": "tzdata", "arch": "all", "installed": "2026b-0+deb12u1", "candidate": "2026f-0+deb12u1"}
APT = {"name": "apt", "arch": "amd64", "installed": "2.6.1", "candidate": "2.6.2"}

# needrestart -r a, as Debian 12's needrestart 3.6 prints it without a terminal (C locale).
NEEDRESTART_AUTO = """Scanning processes...
Scanning linux images...

Restarting services...
 systemctl restart dnsmasq.service smbd.service ssh.service

Service restarts being deferred:
 /etc/needrestart/restart.d/dbus.service
 systemctl restart systemd-logind.service unattended-upgrades.service

No containers need to be restarted.

No user sessions are running outdated binaries.
"""
NEEDRESTART_LIST_CLEAN = """
Services to be restarted:

Service restarts being deferred:
 /etc/needrestart/restart.d/dbus.service
 systemctl restart systemd-logind.service

No containers need to be restarted.
"""
# unattended-upgrade's log, as Debian 12's 2.9.1 writes it (one good run).
UU_GOOD = """2026-11-30 13:27:49,478 INFO Starting unattended upgrades script
2026-11-30 13:27:49,478 INFO Allowed origins are: origin=Debian,codename=bookworm-security,label=Debian-Security
2026-11-30 13:27:59,422 INFO Packages that will be upgraded: apt tzdata
2026-11-30 13:28:39,178 INFO All upgrades installed
"""


def test_a_version_from_a_security_suite_is_a_security_update():
    assert security_upgrade.is_security([{"archive": "oldstable-security", "codename": "bookworm-security"}])
    assert security_upgrade.is_security([{"archive": "bookworm", "codename": "bookworm"},
                                         {"archive": "x", "codename": "bookworm-security"}])
    assert not security_upgrade.is_security([{"archive": "oldstable-updates", "codename": "bookworm-updates"}])


def test_the_record_keeps_the_first_seen_time_while_the_installed_version_is_the_same():
    first = security_upgrade.merge_record({}, [TZDATA], NOW - 9 * DAY)
    assert first["packages"]["tzdata:all"]["first_seen"] == NOW - 9 * DAY
    # A newer candidate for the same installed version: the clock runs on.
    newer = dict(TZDATA, candidate="2026g-0+deb12u1")
    again = security_upgrade.merge_record(first, [newer, APT], NOW)
    assert again["packages"]["tzdata:all"] == {**newer, "first_seen": NOW - 9 * DAY}
    assert again["packages"]["apt:amd64"]["first_seen"] == NOW
    assert again["updated"] == NOW
    # Upgraded (then a new update for it): the clock starts again; no longer pending: dropped.
    later = security_upgrade.merge_record(again, [dict(TZDATA, installed="2026f-0+deb12u1")], NOW + DAY)
    assert later["packages"] == {"tzdata:all": {**TZDATA, "installed": "2026f-0+deb12u1", "first_seen": NOW + DAY}}


def test_the_record_is_written_whole_and_readable(tmp_path):
    path = tmp_path / "state" / "pending.json"
    security_upgrade.write_record(str(path), [APT], now=NOW)
    security_upgrade.write_record(str(path), [APT], now=NOW + 60)
    record = json.loads(path.read_text())
    assert record["updated"] == NOW + 60 and record["packages"]["apt:amd64"]["first_seen"] == NOW
    assert [p.name for p in path.parent.iterdir()] == ["pending.json"]  # no temporary file left


def test_upgrades_are_reported_old_to_new():
    before = {"apt:amd64": "2.6.1", "tzdata:all": "2026b-0+deb12u1", "less:amd64": "590-2"}
    after = {"apt:amd64": "2.6.2", "tzdata:all": "2026f-0+deb12u1", "less:amd64": "590-2", "new:all": "1"}
    changes = security_upgrade.version_changes(before, after)
    assert changes == [{"name": "apt", "arch": "amd64", "old": "2.6.1", "new": "2.6.2"},
                       {"name": "new", "arch": "all", "old": None, "new": "1"},
                       {"name": "tzdata", "arch": "all", "old": "2026b-0+deb12u1", "new": "2026f-0+deb12u1"}]
    text = security_upgrade.summary(changes, ["ssh.service"], ["dbus.service"], False, [])
    assert text.startswith("upgraded: apt 2.6.1 -> 2.6.2, new (new) -> 1, tzdata")
    assert "restarted: ssh.service" in text and "dbus.service" in text
    assert security_upgrade.summary([], [], [], True, [APT]) == "would upgrade: apt 2.6.1 -> 2.6.2"
    assert security_upgrade.summary([], [], [], False, []) == "no security update pending"


def test_needrestart_says_what_it_restarted_and_what_it_deferred():
    restarted, deferred = security_upgrade.parse_needrestart(NEEDRESTART_AUTO)
    assert restarted == ["dnsmasq.service", "smbd.service", "ssh.service"]
    assert deferred == ["systemd-logind.service", "unattended-upgrades.service"]
    assert services_to_restart(NEEDRESTART_LIST_CLEAN) == []
    assert services_to_restart(NEEDRESTART_LIST_CLEAN.replace(
        "Services to be restarted:\n", "Services to be restarted:\n systemctl restart cron.service ssh.service\n")) \
        == ["cron.service", "ssh.service"]


def host_output(record: dict | None, upgradable: str, now: int = NOW, local: str = "2026-11-30 13:30:34") -> str:
    return f"{local} {now}\n@@record\n{json.dumps(record) if record is not None else ''}\n@@upgradable\n{upgradable}"


APT_LIST = ("tzdata/oldstable-security 2026f-0+deb12u1 all [upgradable from: 2026b-0+deb12u1]\n"
            "less/oldstable-updates 590-3 amd64 [upgradable from: 590-2]\n")


def test_upd_001_fails_on_a_host_that_tracks_nothing():
    problems = pending_problems(host_output(None, APT_LIST), 7)
    assert "no record" in problems[0]
    assert "tzdata (all) 2026b-0+deb12u1 -> 2026f-0+deb12u1, since: not recorded" in problems[1]
    assert "less" not in " ".join(problems)  # not a security update


def test_upd_001_names_an_update_pending_longer_than_the_policy_allows():
    record = security_upgrade.merge_record({}, [TZDATA], NOW - 8 * DAY)
    record["updated"] = NOW - 3600
    problems = pending_problems(host_output(record, APT_LIST), 7)
    assert problems == ["security updates pending longer than 7 days or not recorded: tzdata (all) "
                        "2026b-0+deb12u1 -> 2026f-0+deb12u1, pending since 2026-11-22 13:30 (8 days)"]
    assert pending_problems(host_output(record, APT_LIST), 10) == []
    assert pending_problems(host_output(record, ""), 7) == []  # upgraded since: nothing pending


def test_upd_001_fails_when_the_lists_have_not_been_refreshed_for_two_days():
    record = security_upgrade.merge_record({}, [], NOW - 3 * DAY)
    problems = pending_problems(host_output(record, ""), 7)
    assert problems == ["the package lists were last refreshed (and pending updates recorded) at 2026-11-27 13:30: "
                        "more than 2 days ago, so new security updates are not seen"]


def run_output(log: str, now: str = "2026-11-30 14:00:00") -> str:
    return f"{now}\n@@log\n{log}"


def test_upd_002_passes_after_a_successful_run_and_fails_when_it_is_old_or_failed():
    assert unattended_problems(run_output(UU_GOOD)) == []
    assert unattended_problems(run_output(UU_GOOD, "2026-12-03 14:00:00")) == [
        "unattended-upgrade last succeeded 2026-11-30 13:27, more than 2 days ago"]
    assert unattended_problems(run_output("")) == [
        "unattended-upgrade has never run (/var/log/unattended-upgrades/unattended-upgrades.log shows no run)"]
    failed = UU_GOOD.replace("INFO All upgrades installed", "ERROR Installing the upgrades failed!")
    assert unattended_problems(run_output(failed)) == [
        "unattended-upgrade has never run successfully; its last run, 2026-11-30 13:27, logged: Installing the upgrades failed!"]
    # A failure after a success within two days still passes; the runs are told apart.
    later = failed.replace("2026-11-30 13:2", "2026-11-30 13:5")
    runs = unattended_runs(UU_GOOD + later)
    assert [run.succeeded for run in runs] == [True, False]
    assert unattended_problems(run_output(UU_GOOD + later)) == []


def test_acct_is_skipped_by_its_condition_where_the_kernel_refuses_it():
    dropin = (ROOT / "roles" / "accounting" / "templates" / "acct-condition.conf.j2").read_text()
    assert "[Unit]\nConditionCapability=CAP_SYS_PACCT" in dropin
    tasks = (ROOT / "roles" / "accounting" / "tasks" / "main.yml").read_text()
    # The drop-in is written (and systemd reloaded) before the package, whose postinst starts acct.
    assert tasks.index("acct-condition.conf.j2") < tasks.index("daemon_reload") < tasks.index("Install acct and sysstat")

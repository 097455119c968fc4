"""Network devices against the lab's emulated switches (fake-switches, see DESIGN.md).

What the emulator supports is tested here: VLANs and ports pushed, idempotence, drift from a
hand change, per-device failures, roll-back after a rejected command, check mode, and the NET
compliance checks (`unitctl check`/`evaluate`) on pushed and hand-changed switches. What it lacks
(the management plane) is tested offline in tests/unit/test_network_render.py.

Set UNITLAB_ASSUME_UP=1 to use a lab that is already up without `unitctl lab up` (and then
nothing here brings it down either).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import time

import pytest

from lab_helpers import unitctl
from unitctl import paths
from unitctl.network import BackupRepository, audit, backup_one, compare, load_targets, push_one, run_many
from unitctl.network.platforms import strip_volatile
from unitctl.network.session import Session

pytestmark = pytest.mark.lab

EMULATOR_PORTS = [f"FastEthernet0/{n}" for n in range(1, 13)]
# A switch as fake-switches starts it: no VLAN but 1, twelve empty ports.
FRESH = "".join(f"interface {port}\n" for port in EMULATOR_PORTS)


@pytest.fixture(scope="module")
def switches(request):
    if os.environ.get("UNITLAB_ASSUME_UP") != "1":
        request.getfixturevalue("lab_up")
    return {target.name: target for target in load_targets(paths.LAB_INVENTORY)}


def running(target) -> str:
    with Session(target) as session:
        return session.running()


def configure(target, commands: list[str]) -> None:
    """A change by hand, through netmiko, as a technician at the console would make it."""
    with Session(target) as session:
        session.configure(commands)


def reset(target) -> None:
    """Back to the emulator's factory state (the managed sections emptied)."""
    commands = compare(target.platform, running(target), FRESH, target.managed_sections).commands
    if commands:
        configure(target, commands)
    assert compare(target.platform, running(target), FRESH, target.managed_sections).in_sync


def test_push_to_a_fresh_switch_then_nothing_to_change(switches, tmp_path):
    target = switches["court-sw1"]
    reset(target)
    repository = BackupRepository(tmp_path / "backups").ensure()
    first = push_one(target, repository)
    assert first.ok and first.changed, first.message
    assert any(line.startswith("vlan 20") for line in first.lines)
    text = running(target)
    assert "vlan 999\n name dead" in text and "interface Vlan99\n description management" in text
    assert "interface FastEthernet0/2\n description court-ws1\n switchport access vlan 20\n switchport mode access" in text
    assert "interface FastEthernet0/7\n description unused\n switchport access vlan 999\n switchport mode access\n shutdown" in text
    second = push_one(target, repository)
    assert second.ok and not second.changed and second.lines == []
    # the pre-push backup of the fresh switch is in the repository, with no volatile lines
    backup = (repository.file("lab-court", "court-sw1")).read_text()
    assert "Current configuration" not in backup and "vlan 20" in backup


def test_hand_change_is_drift_and_the_next_push_removes_it(switches):
    assert unitctl("net", "push").returncode == 0
    configure(switches["court-sw1"], ["vlan 555", " name rogue", "exit", "interface FastEthernet0/2",
                                      " description moved by hand", " switchport access vlan 30", "exit"])
    drift = unitctl("net", "drift")
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert "court-sw1: differs from intended:" in drift.stdout and "no vlan 555" in drift.stdout
    assert " switchport access vlan 20" in drift.stdout and "pros-sw1: in sync" in drift.stdout
    push = unitctl("net", "push", "--limit", "court-sw1")
    assert push.returncode == 0 and "court-sw1: changed" in push.stdout, push.stdout + push.stderr
    clean = unitctl("net", "drift")
    assert clean.returncode == 0 and "0 of 2 devices differ" in clean.stdout, clean.stdout


def test_check_mode_shows_the_diff_and_changes_nothing(switches):
    target = switches["pros-sw1"]
    assert push_one(target).ok
    configure(target, ["vlan 556", " name rogue", "exit"])
    before = strip_volatile(target.platform, running(target))
    env = dict(os.environ, ANSIBLE_CONFIG=str(paths.PROJECT_ROOT / "ansible.cfg"))
    play = subprocess.run(["ansible-playbook", "playbooks/network.yml", "--check", "--diff", "--limit", "pros-sw1"],
                          cwd=paths.PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert play.returncode == 0, play.stdout + play.stderr
    assert "-vlan 556" in play.stdout and "changed=1" in play.stdout
    assert strip_volatile(target.platform, running(target)) == before
    assert push_one(target).changed


def test_failing_devices_do_not_stop_the_others(switches, tmp_path):
    court, pros = switches["court-sw1"], switches["pros-sw1"]
    wrong_password = dataclasses.replace(pros, settings={**pros.settings, "password": "wrong"})
    # An address on the lab segment where nothing answers: a switch that went away mid-run.
    gone = dataclasses.replace(court, name="court-sw9", host={**court.host, "address": "10.213.23.99"},
                               settings={**court.settings, "timeout_s": 3})
    repository = BackupRepository(tmp_path / "backups").ensure()
    results = {r.device: r for r in run_many(backup_one, [gone, wrong_password, court], workers=3,
                                             repository=repository)}
    assert results["court-sw1"].ok and results["court-sw1"].backup_changed
    assert not results["pros-sw1"].ok and "login to 10.213.33.2 refused" in results["pros-sw1"].message
    assert not results["court-sw9"].ok and "did not answer" in results["court-sw9"].message
    assert repository.file("lab-court", "court-sw1").exists()


def test_rejected_command_rolls_back_to_the_pre_push_backup(switches):
    target = switches["pros-sw1"]
    reset(target)
    configure(target, ["vlan 20", " name old-name", "exit", "interface FastEthernet0/3", " description before", "exit"])
    before = strip_volatile(target.platform, running(target))
    # Managing the port_protection section sends `spanning-tree portfast`, which the emulator rejects.
    rejecting = dataclasses.replace(target, settings={
        **target.settings, "managed_sections": {"ios": ["vlans", "interfaces", "port_protection"]}})
    result = push_one(rejecting)
    assert not result.ok
    assert "rejected a command" in result.message and "No such command" in result.message
    assert "rolled back: the device is as it was before the push" in result.message
    assert strip_volatile(target.platform, running(target)) == before
    assert push_one(target).ok


def test_backup_commits_once_and_only_on_change(switches):
    first = unitctl("net", "backup")
    assert first.returncode == 0, first.stdout + first.stderr
    again = unitctl("net", "backup")
    assert again.returncode == 0 and "no change" in again.stdout, again.stdout
    assert "court-sw1: backed up (unchanged)" in again.stdout


def network_evaluation(tmp_path, *args: str) -> tuple[int, dict]:
    """`unitctl check|evaluate` limited to the network devices' checks (NET-...), and its JSON report."""
    output = tmp_path / f"evaluation-{len(list(tmp_path.glob('evaluation-*')))}"
    run = unitctl(*args, "-k", "network_devices", "--output", str(output))
    assert (output / "evaluation.json").exists(), run.stdout + run.stderr
    return run.returncode, json.loads((output / "evaluation.json").read_text(encoding="utf-8"))


def outcomes(report: dict, host: str) -> dict[str, dict]:
    return {r["check_id"]: r for r in report["results"] if r["host"] == host}


def test_network_checks_pass_or_are_not_applicable_on_the_pushed_lab(switches, tmp_path):
    assert unitctl("net", "push").returncode == 0
    status, report = network_evaluation(tmp_path, "check", "lab-court")
    assert status == 0 and report["status"] == "compliant", report["units"]["lab-court"]["failures"]
    found = outcomes(report, "court-sw1")
    assert {r["unit_id"] for r in found.values()} == {"lab-court"}
    assert all(found[f"NET-00{n}"]["outcome"] == "pass" for n in range(1, 6)), found
    # the management plane, hostname and spanning tree: the emulator cannot hold them
    for check_id in ("NET-006", "NET-007", "NET-008", "NET-009", "NET-010", "NET-011", "NET-012"):
        assert found[check_id]["outcome"] == "not_applicable", found[check_id]
        assert "not managed on court-sw1" in found[check_id]["evidence"]
        assert "fake-switches" in found[check_id]["evidence"]
    assert report["units"]["lab-court"]["score"] == 100.0
    assert not outcomes(report, "pros-sw1")  # another unit's switch is not checked with lab-court


def test_a_stray_vlan_and_an_open_unused_port_fail_until_the_next_push(switches, tmp_path):
    assert unitctl("net", "push").returncode == 0
    configure(switches["court-sw1"], ["vlan 557", " name rogue", "exit", "interface FastEthernet0/7",
                                      " switchport access vlan 20", " no shutdown", "exit"])
    status, report = network_evaluation(tmp_path, "evaluate")
    assert status == 1 and report["status"] == "non_compliant"
    court = outcomes(report, "court-sw1")
    assert court["NET-002"]["outcome"] == "fail" and "no vlan 557" in court["NET-002"]["evidence"]
    assert court["NET-005"]["outcome"] == "fail"
    assert "FastEthernet0/7 is unused but not shut down and not in the dead VLAN 999" in court["NET-005"]["evidence"]
    assert court["NET-003"]["outcome"] == "pass"  # an extra VLAN is drift, not a missing one
    failed = {(f["check_id"], f["host"], f["fix"]) for f in report["units"]["lab-court"]["failures"]}
    assert ("NET-005", "court-sw1", "playbooks/network.yml") in failed
    assert {r["outcome"] for r in outcomes(report, "pros-sw1").values()} <= {"pass", "not_applicable"}
    assert report["units"]["lab-prosecutor"]["score"] == 100.0
    push = unitctl("net", "push", "--limit", "court-sw1")
    assert push.returncode == 0 and "court-sw1: changed" in push.stdout, push.stdout + push.stderr
    status, report = network_evaluation(tmp_path, "check", "lab-court")
    assert status == 0, report["units"]["lab-court"]["failures"]


def test_a_switch_that_does_not_answer_is_unreachable_and_the_others_are_read(switches):
    court = switches["court-sw1"]
    gone = dataclasses.replace(court, name="court-sw9", host={**court.host, "address": "10.213.23.99"},
                               settings={**court.settings, "timeout_s": 3})
    started = time.monotonic()
    found = audit.inspect([gone, court, switches["pros-sw1"]], workers=3)
    assert time.monotonic() - started < 10  # the dead one costs its own timeout, in parallel
    assert not found["court-sw9"].reachable and "did not answer" in found["court-sw9"].message
    assert found["court-sw1"].reachable and found["court-sw1"].remediation == []
    assert found["pros-sw1"].reachable and "hostname pros-sw1" in found["pros-sw1"].running

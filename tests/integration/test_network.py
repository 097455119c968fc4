"""Network devices against the lab's switches: the toolkit's Catalyst 2960-X / IOS 15.2 model on
fake-switches (unitctl.lab.ios_switch, docs/lab-switch.md), which prints and refuses as IOS does.

Every managed section, the management plane included: a push to a fresh switch (staged with its
address on VLAN 1, moved to the management VLAN without losing the session), a second push that
sends nothing, a management VLAN move, drift from a hand change, per-device failures, a real IOS rejection rolled
back to the pre-push config, check mode, backups without a secret, and the NET compliance checks
(`unitctl check`/`evaluate`): all pass on a pushed switch and each fails on its own fault.

Set UNITLAB_ASSUME_UP=1 to use a lab that is already up without `unitctl lab up` (and then
nothing here brings it down either).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import time

import pytest

from lab_helpers import copy_lab_inventory, edit_unit_file, playbook, unitctl
from unitctl import paths
from unitctl.lab import secrets as labsecrets
from unitctl.lab import services as labservices
from unitctl.network import BackupRepository, audit, backup_one, load_targets, push_one, run_many
from unitctl.network.platforms import strip_volatile
from unitctl.network.session import Session

pytestmark = pytest.mark.lab



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
    """Back to a fresh switch as IOS does it: `write erase`, `delete flash:vlan.dat`, `reload`
    (each prompt confirmed). The lab's model then boots its staged config: its name and the
    enable secret the lab knows and its address on VLAN 1, every port empty, VLAN 1 only, VTP
    server."""
    question = r"\[confirm\]|\?\s*$|\[yes/no\]:\s*$"
    with Session(target) as session:
        connection = session.connection
        for command in ("write erase", "delete flash:vlan.dat", "reload"):
            # Each read ends at the switch's question or prompt, not after a quiet spell. A
            # question is answered as a technician would: Enter to confirm or take the default
            # name, "no" to saving the running config before the reload.
            output = connection.send_command(command, expect_string=f"{question}|#\\s*$", read_timeout=20,
                                             cmd_verify=False, strip_prompt=False)
            for _ in range(3):
                if not re.search(question, output):
                    break
                answer = "no" if re.search(r"\[yes/no\]:\s*$", output) else ""
                try:
                    output = connection.send_command(answer, expect_string=f"{question}|#\\s*$", read_timeout=10,
                                                     cmd_verify=False, strip_prompt=False)
                except Exception:  # noqa: BLE001  (the reload ends the session, as on IOS)
                    break
    text = running(target)
    assert f"hostname {target.name}" in text and "vtp mode transparent" not in text, text
    assert not re.search(r"(?m)^vlan \d", text) and "description" not in text, text


def test_push_to_a_fresh_switch_then_nothing_to_change(switches, tmp_path):
    target = switches["court-sw1"]
    reset(target)
    repository = BackupRepository(tmp_path / "backups").ensure()
    first = push_one(target, repository)
    assert first.ok and first.changed, first.message
    assert any(line.startswith("vlan 20") for line in first.lines)
    # IOS's portfast warning is a warning, not a rejection: reported, the push goes on.
    assert any("portfast should only be enabled" in warning for warning in first.warnings), first.warnings
    text = running(target)
    assert "vlan 999\n name dead" in text and "interface Vlan99\n description management" in text
    # staged on VLAN 1, the switch was moved to its management VLAN without losing the session
    assert "interface Vlan1\n no ip address\n shutdown" in text, text
    assert "interface FastEthernet0/2\n description court-ws1\n switchport access vlan 20\n switchport mode access" in text
    assert "interface FastEthernet0/7\n description unused\n switchport access vlan 999\n switchport mode access\n shutdown" in text
    # The management plane as IOS prints it: VTYs split, hidden defaults hidden, secrets hashed.
    assert "line vty 0 4\n" in text and "line vty 5 15\n" in text and "transport input ssh" in text
    assert "ip domain-name lab.internal" in text and "logging trap" not in text and "snmp-server user" not in text
    assert "\nusername netadmin privilege 15 secret 5 $1$" in text.replace(target.settings["user"], "netadmin")
    assert target.settings["password"] not in text and target.settings["enable_secret"] not in text
    with Session(target) as session:
        assert target.settings["snmp_user"] in session.show("show snmp user")
    second = push_one(target, repository)
    assert second.ok and not second.changed and second.lines == [], second.lines
    # the pre-push backup of the fresh switch is in the repository, with no volatile lines
    backup = (repository.file("lab-court", "court-sw1")).read_text()
    assert "Current configuration" not in backup and "hostname court-sw1" in backup
    assert push_one(target, repository).ok  # stored again after the push: the pushed config
    for secret in (target.settings[name] for name in ("password", "enable_secret", "snmp_auth_password")):
        assert secret not in backup


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
    # The lab tests' environment gives the run the lab units' vault identities (the switch's
    # credentials are in its unit's own vault).
    play = playbook("playbooks/network.yml", "--check", "--diff", "--limit", "pros-sw1", timeout=300).result
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
    # A VLAN name IOS refuses (one word only): `% Invalid input detected`, after the management
    # plane and the first VLANs were already sent, so there is something to roll back.
    vlans = [dict(vlan, name="two words") if vlan["id"] == max(v["id"] for v in target.addressing["vlans"])
             else vlan for vlan in target.addressing["vlans"]]
    rejecting = dataclasses.replace(target, addressing={**target.addressing, "vlans": vlans})
    result = push_one(rejecting)
    assert not result.ok
    assert "rejected a command" in result.message and "Invalid input detected" in result.message, result.message
    assert "rolled back: the device is as it was before the push" in result.message, result.message
    assert strip_volatile(target.platform, running(target)) == before
    assert push_one(target).ok


def management_vlan_renumbered(folder, old: int, new: int):
    """A copy of the lab inventory where the court's management VLAN is renumbered (same subnet,
    same switch address), as a technician would edit addressing.yml and hosts.yml."""
    source = copy_lab_inventory(folder)

    def renumber_vlan(data):
        for vlan in data["addressing"]["vlans"]:
            if vlan["id"] == old:
                vlan["id"] = new

    def renumber_on_devices(data):
        for host in data["hosts"]:
            if host.get("vlan") == old:
                host["vlan"] = new
            for port in host.get("ports", []):
                if old in port.get("vlans", []):
                    port["vlans"] = sorted({*port["vlans"], new} - {old})

    edit_unit_file(source, "lab-court", "addressing.yml", renumber_vlan)
    edit_unit_file(source, "lab-court", "hosts.yml", renumber_on_devices)
    return source


def test_a_management_vlan_move_completes_without_losing_the_device(switches, tmp_path):
    """VLAN 99 -> 199 on the switch the toolkit is talking to: the new VLAN, its carrying on the
    uplink and its SVI first, then the address moves in one write, then the old path goes. The
    lab switch drops a session whose path is cut and refuses one with no path at all."""
    target = switches["court-sw1"]
    address = target.host["address"]
    assert push_one(target).ok
    moved = management_vlan_renumbered(tmp_path, 99, 199)
    push = unitctl("net", "push", "-i", str(moved), "--limit", "court-sw1")
    assert push.returncode == 0 and "court-sw1: changed" in push.stdout, push.stdout + push.stderr
    text = running(target)   # a new session to the same address: the device is still there
    assert f"interface Vlan199\n description management\n ip address {address} " in text, text
    assert not re.search(r"(?m)^vlan 99$", text) and "interface Vlan99\n" not in text
    assert re.search(r"(?m)^ switchport trunk allowed vlan 10,20,30,199$", text), text
    again = unitctl("net", "drift", "-i", str(moved), "--limit", "court-sw1")
    assert again.returncode == 0, again.stdout + again.stderr
    # and back with the committed inventory
    assert push_one(target).ok
    assert f"interface Vlan99\n description management\n ip address {address} " in running(target)


def every_lab_secret() -> list[str]:
    """Every value of the lab's vaults: the switches' credentials (not the login name) and the
    services' secrets (archive share, backup and UPS passwords)."""
    found = [value for unit in labsecrets.network_credentials([]).values() for key, value in unit.items()
             if key != "network_user"]
    services = labservices.secrets_path()
    stack = [json.loads(services.read_text())] if services.exists() else []
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and len(item) >= 8:
            found.append(item)
    return found


def test_backup_commits_once_and_only_on_change(switches):
    first = unitctl("net", "backup")
    assert first.returncode == 0, first.stdout + first.stderr
    backups = list((paths.LAB_STATE_DIR / "network-backups").rglob("*.cfg"))
    assert backups, "no backup written"
    secrets_found = [(backup.name, secret[:3] + "...") for backup in backups for secret in every_lab_secret()
                     if secret in backup.read_text()]
    assert not secrets_found, f"a vault value is readable in a backup: {secrets_found}"
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
    assert all(found[f"NET-{n:03d}"]["outcome"] == "pass" for n in range(1, 13)), found
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


# Each management-plane check fails on its own fault, made by hand as a technician would; the
# evidence of each names its fault. All at once: one evaluation, not seven.
FAULTS = {
    "NET-006": (["hostname court-switch"], "court-switch"),
    "NET-007": (["line vty 5 15", " transport input telnet ssh", "exit", "ip http server"], "telnet"),
    "NET-008": ([f"username helpdesk privilege 1 password 0 H{secrets.token_hex(4)}"], "reversible user password"),
    "NET-009": (["no logging host 10.213.10.10"], "logging host 10.213.10.10"),
    "NET-010": (["snmp-server community public RO"], "community"),
    "NET-011": (["no banner login"], "banner"),
    "NET-012": (["spanning-tree mode pvst"], "spanning-tree mode rapid-pvst"),
}


def test_each_management_check_fails_on_its_own_fault(switches, tmp_path):
    target = switches["court-sw1"]
    assert push_one(target).ok
    configure(target, [line for lines, _ in FAULTS.values() for line in lines])
    _, report = network_evaluation(tmp_path, "check", "lab-court")
    found = outcomes(report, "court-sw1")
    for check_id, (_, named) in FAULTS.items():
        assert found[check_id]["outcome"] == "fail", found[check_id]
        assert named in found[check_id]["evidence"], (check_id, found[check_id]["evidence"])
    assert found["NET-002"]["outcome"] == "fail"  # each is drift the next push removes
    assert {found[f"NET-00{n}"]["outcome"] for n in (1, 3, 4, 5)} == {"pass"}
    pushed = push_one(target)
    assert pushed.ok and pushed.changed, pushed.message
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

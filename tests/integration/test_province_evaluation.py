"""The provincial centre's evaluation of the lab province, as the ICT council would get it.

After the lab province converged (conftest's `converged`) and every area's tests put back what
they changed, the province is compliant. One thing is then broken on purpose
in each unit (a service stopped at the centre, a port opened by hand in the prosecutor's office,
a switch changed by hand in the court): the report names exactly those, each with its fix. Running
the fixes it names makes the province compliant again, and the trend shows it. A stopped host is
reported unreachable while the rest are evaluated.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lab_helpers import MACHINES, assert_ok, playbook, sudo_on, unitctl
from unitctl import paths
from unitctl.network import load_targets
from unitctl.network.session import Session

pytestmark = pytest.mark.lab

ALL_HOSTS = tuple(MACHINES)
STRAY_VLAN = "777"
# What each unit gets broken with, and the checks that must then fail (and no other).
BREAKAGES = {
    "lab-centre": ("centre-srv", "systemctl stop prometheus-node-exporter"),
    "lab-prosecutor": ("pros-srv", "nft insert rule inet unitctl_filter input tcp dport 8080 accept"),
}
EXPECTED_FAILURES = {
    ("lab-centre", "NODE-001", "centre-srv"), ("lab-centre", "NODE-002", "centre-srv"),
    ("lab-prosecutor", "FW-005", "pros-srv"),
}
STOPPED_HOST = "pros-ws2"


@pytest.fixture(scope="module")
def lab(converged, lab_plan):
    """The lab province as converged once (conftest's `converged`) and left by the other areas."""
    return {machine.name: machine for machine in lab_plan.machines}


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    """The evaluations of this module, in order, with their own history (for the trend)."""
    return tmp_path_factory.mktemp("evaluation")


def evaluate(reports: Path) -> tuple[subprocess.CompletedProcess, dict]:
    result = unitctl("evaluate", "--output", str(reports), timeout=1200)
    report = json.loads((reports / "evaluation.json").read_text(encoding="utf-8"))
    return result, report


def failures(report: dict) -> set[tuple[str, str, str]]:
    return {(unit_id, failure["check_id"], failure["host"])
            for unit_id, unit in report["units"].items() for failure in unit["failures"]}


def site(*args: str) -> tuple[subprocess.CompletedProcess, dict]:
    """lab_helpers.playbook (playbooks first, then options): the process and its recap."""
    run = playbook(*args, timeout=2400)
    return run.result, run.recap


def court_switch():
    return next(target for target in load_targets(paths.LAB_INVENTORY) if target.name == "court-sw1")


def test_after_provisioning_every_unit_is_compliant(lab, reports):
    result, report = evaluate(reports)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert report["status"] == "compliant" and not failures(report)
    for unit_id, unit in report["units"].items():
        assert unit["score"] == 100.0 and unit["counts"]["pass"] > 0, (unit_id, unit["counts"])
        assert unit["counts"]["unreachable"] == 0, unit_id


def test_what_was_broken_is_named_with_its_fix(lab, reports):
    for host, command in BREAKAGES.values():
        status, output = sudo_on(lab[host], command)
        assert status == 0, f"{host}: {command}: {output}"
    with Session(court_switch()) as session:  # a VLAN added at the console, by hand
        session.configure([f"vlan {STRAY_VLAN}", " name by-hand", "exit"])

    result, report = evaluate(reports)
    assert result.returncode == 1, result.stdout[-4000:] + result.stderr[-2000:]
    found = failures(report)
    switch = {failure for failure in found if failure[2] == "court-sw1"}
    assert switch and all(unit == "lab-court" for unit, _, _ in switch), found
    assert found - switch == EXPECTED_FAILURES, "the report names other failures than those made"
    for unit_id, unit in report["units"].items():
        for failure in unit["failures"]:
            assert failure["fix"] and failure["title_fa"], failure
            # The command printed is the one to copy: the run's inventory named, since ansible.cfg's is the lab's,
            # and the unit's own vault identity, without which the run refuses the unit's hosts.
            assert failure["fix_command"] == (f"ansible-playbook -i inventory/lab.unitctl.yml {failure['fix']} "
                                              f"--limit {failure['host']} "
                                              f"--vault-id {unit_id}@scripts/vault-password-client.py"), failure
            assert f"fix: {failure['fix_command']}" in result.stdout
    drift = [f for u in report["units"].values() for f in u["failures"] if f["host"] == "court-sw1"]
    assert any(f"vlan {STRAY_VLAN}" in f["evidence"] for f in drift), drift
    for unit_id in ("lab-centre", "lab-court", "lab-prosecutor"):
        assert report["units"][unit_id]["score"] < 100.0 and report["units"][unit_id]["trend"] < 0, unit_id


def test_the_fixes_named_make_the_province_compliant_again(lab, reports):
    broken = json.loads((reports / "evaluation.json").read_text(encoding="utf-8"))
    fixes: dict[str, set[str]] = {}
    for unit in broken["units"].values():
        for failure in unit["failures"]:
            fixes.setdefault(failure["fix"], set()).add(failure["host"])
    for fix, hosts in sorted(fixes.items()):
        result, recap = site(fix, "--limit", ",".join(sorted(hosts)))
        assert result.returncode == 0, f"{fix}:\n{result.stdout[-4000:]}"

    result, report = evaluate(reports)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert report["status"] == "compliant" and not failures(report)
    for unit_id in ("lab-centre", "lab-court", "lab-prosecutor"):
        unit = report["units"][unit_id]
        assert unit["score"] == 100.0 and unit["previous_score"] < 100.0 and unit["trend"] > 0, (unit_id, unit)


def test_a_stopped_host_is_unreachable_and_the_rest_evaluated(lab, reports):
    assert_ok(unitctl("lab", "stop", STOPPED_HOST))
    try:
        result, report = evaluate(reports)
        # Nothing failed, but not everything could be checked: "could not evaluate" (exit 2).
        assert result.returncode == 2 and report["status"] == "not_evaluated", result.stdout[-4000:]
        prosecutor = report["units"]["lab-prosecutor"]
        assert prosecutor["unreachable_hosts"] == [STOPPED_HOST]
        stopped = {r["outcome"] for r in report["results"] if r["host"] == STOPPED_HOST}
        assert stopped == {"unreachable"}, stopped
        evaluated = {r["host"] for r in report["results"] if r["outcome"] == "pass"}
        assert evaluated >= set(ALL_HOSTS) - {STOPPED_HOST}, evaluated
        assert report["units"]["lab-court"]["score"] == 100.0
        assert f"unreachable: {STOPPED_HOST}" in result.stdout
    finally:
        assert_ok(unitctl("lab", "up"))  # boots it again, as a fresh host

"""Integration tests run against the built-in lab, booted once per session.

The lab province converges once per session (`converged`): from bare hosts, `playbooks/site.yml`
on the whole lab, with the proofs every role owes recorded on the way (the checks fail on bare
hosts, check mode is clean on bare hosts, the run converges, a second run changes nothing, check
mode is clean on provisioned hosts, the checks pass). Each area's tests then verify what they need
and mutate only what they put back.

The lab is brought down at the end of the session unless UNITLAB_KEEP=1 (handy when iterating);
UNITLAB_ASSUME_UP=1 uses a lab that is already up (then the bare-host proofs are skipped when its
hosts are no longer bare); UNITLAB_ASSUME_CONVERGED=1 with it also skips the convergence runs, for
iterating on one area's tests against a lab converged before (the convergence proofs then fail). Tests marked `lab_last` (bringing the lab down and checking what is
left) run after all others.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from lab_helpers import (AUTOMATION_USER, MACHINES, Run, assert_ok, compliance, lab_fault_report,
                         login_works, playbook, unitctl)
from unitctl import lab
from unitctl.lab import ca as labca
from unitctl.lab import services as labservices

SITE = "playbooks/site.yml"
# The unit whose hosts are also checked with a channel per command, to compare (its server and two
# workstations: every kind of check but the centre's).
COMPARED_UNIT = "lab-court"


def pytest_configure(config):
    config.addinivalue_line("markers", "lab_last: runs after every other test of the session")


# The lab tests follow a unit's life: the lab itself and its switches (bare), the province
# converged once, a unit run with its own vault password alone, then each area on the provisioned
# province, a reboot, the staff, and last the province's evaluation (which stops a host); on
# demand, last, a server upgraded to the next release. A module missing here would run first.
LIFE_ORDER = ("test_lab", "test_network", "test_converge", "test_unit_secrets", "test_servers", "test_results_delivery", "test_hardening_sshlog",
              "test_unit_services", "test_hardening_updates", "test_hardening_audit", "test_hardening_integrity",
              "test_workstations", "test_hardening_kernel", "test_hardening_login", "test_access", "test_reboot",
              "test_province_evaluation", "test_upgrade_release")


def _life_stage(item) -> int:
    module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
    return LIFE_ORDER.index(module) if module in LIFE_ORDER else -1


def pytest_collection_modifyitems(items):
    """Lab tests in the order of LIFE_ORDER, `lab_last` ones at the very end; stable otherwise."""
    items.sort(key=lambda item: (item.get_closest_marker("lab_last") is not None, _life_stage(item)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed lab test also shows any fault of the lab itself found in the hosts' journals."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and item.get_closest_marker("lab") and lab.read_state().get("machines"):
        try:
            faults = lab_fault_report()
        except Exception as error:  # noqa: BLE001  (never hide the test's own failure)
            faults = f"(could not read the lab hosts' journals: {error!r})"
        if faults:
            report.sections.append(("lab faults (not the roles')", faults))


@pytest.fixture(scope="session")
def lab_plan() -> lab.LabPlan:
    return lab.load_plan()


@pytest.fixture(scope="session")
def lab_up(lab_plan):
    """The lab, up; brought down at the end of the session unless UNITLAB_KEEP=1."""
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    if os.environ.get("UNITLAB_ASSUME_UP") != "1":
        assert_ok(unitctl("lab", "up"))
    labservices.ensure_unit_vaults()  # each lab unit's vault: switch, Samba, backup and UPS secrets
    labca.ensure_lab_ca()  # the lab's province CA and the stand-in CMS certificate
    yield lab_plan
    if os.environ.get("UNITLAB_KEEP") != "1" and os.environ.get("UNITLAB_ASSUME_UP") != "1":
        assert_ok(unitctl("lab", "down"))


@dataclass
class Convergence:
    """What converging the lab province once showed. The bare-host fields are None when the
    session started on hosts that were already provisioned."""

    bare_results: list[dict] | None = None  # the compliance suite on the bare hosts (as root)
    # The same on one unit's bare hosts with a channel per command (testinfra's own way), and on the
    # provisioned ones: the remote shells must change no verdict and no evidence.
    bare_results_exec: list[dict] | None = None
    results_exec: list[dict] = field(default_factory=list)
    check_bare: Run | None = None  # site.yml --check --diff on the bare hosts
    bare_after_check: dict[str, bool] = field(default_factory=dict)  # host -> root still logs in
    converge: Run | None = None  # site.yml
    rerun: Run | None = None  # site.yml again
    check_provisioned: Run | None = None  # site.yml --check --diff on the provisioned hosts
    results: list[dict] = field(default_factory=list)  # the compliance suite, provisioned
    phase_seconds: dict[str, float] = field(default_factory=dict)  # phase -> wall time (s)
    # phase -> its parts, which run side by side -> wall time (s)
    part_seconds: dict[str, dict[str, float]] = field(default_factory=dict)


BARE = "bare hosts: checks and check mode"
PROVISIONED = "provisioned hosts: checks and check mode"
EXEC_PART = f"the checks, {COMPARED_UNIT}, a channel per command"

# The convergence of this session, for its time per phase in the summary (pytest_terminal_summary).
_CONVERGENCES: list[Convergence] = []


def _task_times(run: Run) -> list[str]:
    """The TASK TIMES lines that the task_timer callback printed at the end of a run."""
    lines = run.result.stdout.splitlines()
    starts = [number for number, line in enumerate(lines) if line.startswith("TASK TIMES")]
    return [line for line in lines[starts[-1] + 1:] if line.strip()] if starts else []


def pytest_terminal_summary(terminalreporter):
    """The time of each phase of the lab's convergence (the issue asks for it), and the slowest
    tasks of the first provisioning, so a CI log shows where the fixture's time went."""
    for state in _CONVERGENCES:
        terminalreporter.section("lab convergence: time per phase")
        for phase, seconds in state.phase_seconds.items():
            terminalreporter.write_line(f"{seconds:8.1f} s  {phase}")
            for part, part_seconds in state.part_seconds.get(phase, {}).items():
                terminalreporter.write_line(f"{part_seconds:10.1f} s  {part}")
        if state.converge:
            terminalreporter.write_line("slowest tasks of the first provisioning (wall time, all hosts):")
            for line in _task_times(state.converge):
                terminalreporter.write_line(f"  {line.strip()}")


def _timed(state: Convergence, phase: str, part: str, function, *args, **kwargs):
    """function(*args, **kwargs), its wall time recorded as a part of the phase."""
    started = time.monotonic()
    try:
        return function(*args, **kwargs)
    finally:
        state.part_seconds.setdefault(phase, {})[part] = time.monotonic() - started


def _bare(name: str) -> bool:
    return login_works(name, "root") and not login_works(name, AUTOMATION_USER)


@pytest.fixture(scope="session")
def converged(lab_up, tmp_path_factory) -> Convergence:
    """The whole lab province converged once from bare by playbooks/site.yml, with the proofs of
    every role recorded on the way (the tests of test_converge.py and each area assert on them).
    A step that fails is recorded too, and the next ones still run: each test says what failed."""
    folder = tmp_path_factory.mktemp("converge")
    state = Convergence()
    if os.environ.get("UNITLAB_ASSUME_UP") == "1" and os.environ.get("UNITLAB_ASSUME_CONVERGED") == "1":
        return state
    _CONVERGENCES.append(state)
    # The compliance suite and a check-mode run only read the hosts, so each pair runs side by side:
    # the suite waits on one remote command at a time, the playbook on the hosts' work.
    with ThreadPoolExecutor(max_workers=3) as pool:
        started = time.monotonic()
        if all(_bare(name) for name in MACHINES):
            bare_results = pool.submit(_timed, state, BARE, "the checks, all hosts", compliance,
                                       folder / "bare.json", user="root")
            bare_results_exec = pool.submit(_timed, state, BARE, EXEC_PART, compliance, folder / "bare-exec.json", user="root",
                                            units=[COMPARED_UNIT], commands="exec")
            state.check_bare = playbook(SITE, "--check", "--diff")
            state.bare_results = bare_results.result()
            state.bare_results_exec = bare_results_exec.result()
            state.bare_after_check = {name: _bare(name) for name in MACHINES}
            state.phase_seconds[BARE] = time.monotonic() - started
            state.part_seconds.setdefault(BARE, {})["check mode"] = state.check_bare.seconds
        state.converge = playbook(SITE)
        state.phase_seconds["first provisioning"] = state.converge.seconds
        state.rerun = playbook(SITE)
        state.phase_seconds["rerun"] = state.rerun.seconds
        started = time.monotonic()
        results = pool.submit(_timed, state, PROVISIONED, "the checks, all hosts", compliance,
                              folder / "provisioned.json", user=AUTOMATION_USER)
        results_exec = pool.submit(_timed, state, PROVISIONED, EXEC_PART, compliance, folder / "provisioned-exec.json", user=AUTOMATION_USER,
                                   units=[COMPARED_UNIT], commands="exec")
        state.check_provisioned = playbook(SITE, "--check", "--diff")
        state.results = results.result()
        state.results_exec = results_exec.result()
        state.phase_seconds[PROVISIONED] = time.monotonic() - started
        state.part_seconds.setdefault(PROVISIONED, {})["check mode"] = state.check_provisioned.seconds
    return state

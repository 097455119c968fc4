"""Integration tests run against the built-in lab, booted once per session.

The lab is brought down at the end of the session unless UNITLAB_KEEP=1 (handy when iterating).
Tests marked `lab_last` (bringing the lab down and checking what is left) run after all others.
"""

from __future__ import annotations

import os

import pytest

from lab_helpers import assert_ok, lab_fault_report, unitctl
from unitctl import lab


def pytest_configure(config):
    config.addinivalue_line("markers", "lab_last: runs after every other test of the session")


# The lab tests follow a unit's life: the lab itself, its switches, its servers from bare Debian,
# their services, the workstations, the staff on all of them, then the province's evaluation.
# Each file builds on the state the ones before it leave, and the servers' "fails on a fresh
# host" proofs need fresh servers.
LIFE_ORDER = ("test_lab", "test_network", "test_servers", "test_unit_services", "test_workstations",
              "test_access", "test_province_evaluation")


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
    assert_ok(unitctl("lab", "up"))
    yield lab_plan
    if os.environ.get("UNITLAB_KEEP") != "1":
        assert_ok(unitctl("lab", "down"))

"""Integration tests run against the built-in lab, booted once per session.

The lab is brought down at the end of the session unless UNITLAB_KEEP=1 (handy when iterating).
Tests marked `lab_last` (bringing the lab down and checking what is left) run after all others.
"""

from __future__ import annotations

import os

import pytest

from lab_helpers import assert_ok, unitctl
from unitctl import lab


def pytest_configure(config):
    config.addinivalue_line("markers", "lab_last: runs after every other test of the session")


def pytest_collection_modifyitems(items):
    """Move `lab_last` tests to the end, keeping the order of everything else."""
    items.sort(key=lambda item: item.get_closest_marker("lab_last") is not None)


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

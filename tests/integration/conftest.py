"""Integration tests run against the built-in lab, booted once per session.

The lab is brought down at the end of the session unless UNITLAB_KEEP=1 (handy when iterating).
"""

from __future__ import annotations

import os

import pytest

from lab_helpers import assert_ok, unitctl
from unitctl import lab


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

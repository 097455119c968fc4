"""The compliance suite as a whole, offline: every check collects, and every fix can be acted on."""

from __future__ import annotations

import subprocess
import sys

import pytest

from unitctl import paths
from unitctl.compliance import Check


def test_every_check_of_the_suite_collects_and_names_a_playbook_or_a_task(tmp_path):
    """The whole compliance suite collects offline: a check whose fix is neither one existing playbook
    nor a person's task in both languages is refused at import (and would leave a command in the
    report that does not run)."""
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                          str(paths.PROJECT_ROOT / "tests" / "compliance"), "--inventory",
                          str(paths.LAB_INVENTORY)], cwd=paths.PROJECT_ROOT, capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "error" not in run.stdout.splitlines()[-1], run.stdout[-2000:]
    with pytest.raises(ValueError, match="not a playbook of the toolkit"):
        Check(id="X-002", title_en="t", title_fa="ت", severity="high", applies_to=("unit_server",), policy="p",
              fix="playbooks/nowhere.yml")

"""Checks RES-002 and RES-003 (tests/compliance/test_results.py) judged offline: their shell runs
here, as root's command on a unit server would, with an `ssh` on PATH that stands for the centre.
RES-002 must pass against the real intake (roles/results_intake/files/unitctl-results-intake,
bound to the unit as the forced command binds it) and fail against a key that gets a shell or a
centre that cannot be reached; RES-003 reads the spool's waiting and refused files."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "compliance"))
with warnings.catch_warnings():  # the suite's own mark, registered by its conftest, not here
    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
    import test_results as checks  # noqa: E402

INTAKE = ROOT / "roles" / "results_intake" / "files" / "unitctl-results-intake"
UNIT = "lab-court"
POLICY = {"province_centre": {"name": "centre-srv", "address": "192.0.2.10"}, "province_ssh_port": 22,
          "province_unit_results_max_age_hours": 26}

# The centre as sshd with the unit's forced command: the words after ACCOUNT@CENTRE are the client's
# command, the intake runs whatever they are.
INTAKE_SSH = """#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in *@*) shift; break;; *) shift;; esac; done
SSH_ORIGINAL_COMMAND="$*" UNITCTL_RESULTS_DROP_DIR="{drop}" exec "{python}" "{intake}" "{unit}"
"""
# A key without the forced command: the account's shell runs the client's command.
SHELL_SSH = """#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in *@*) shift; break;; *) shift;; esac; done
exec /bin/sh -c "$*"
"""
DOWN_SSH = """#!/bin/sh
echo "ssh: connect to host 192.0.2.10 port 22: Connection timed out" >&2
exit 255
"""


@dataclass
class Ran:
    rc: int
    stdout: str
    stderr: str


class LocalRoot:
    """A host whose root commands run here, under a PATH of the test's own."""

    def __init__(self, path: str):
        self.path = path

    def run_as_root(self, command: str) -> Ran:
        done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=60, check=False,
                              env={"PATH": self.path})
        return Ran(done.returncode, done.stdout, done.stderr)


class Host:
    def __init__(self, path: str):
        self.backend = LocalRoot(path)


@dataclass
class InventoryHost:
    name: str = "court-srv"
    unit_id: str = UNIT


@pytest.fixture
def centre(tmp_path):
    """Make `ssh` one of the centres above; returns the host, the drop folder and the switch."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    drop = tmp_path / "collected"
    (drop / UNIT).mkdir(parents=True)

    def become(text: str) -> None:
        ssh = bin_dir / "ssh"
        ssh.write_text(text.format(drop=drop, python=sys.executable, intake=INTAKE, unit=UNIT))
        ssh.chmod(0o755)

    become(INTAKE_SSH)
    return Host(f"{bin_dir}:/usr/bin:/bin"), drop, become


def test_res_002_passes_against_the_intake_and_stores_nothing(centre):
    host, drop, _ = centre
    checks.test_results_key_runs_the_intake_only(host, InventoryHost(), POLICY)
    assert list((drop / UNIT).iterdir()) == []


def test_res_002_fails_when_the_key_gets_a_shell(centre):
    host, _, become = centre
    become(SHELL_SSH)
    with pytest.raises(AssertionError, match="not confined to the intake"):
        checks.test_results_key_runs_the_intake_only(host, InventoryHost(), POLICY)


def test_res_002_fails_naming_why_the_centre_cannot_be_reached(centre):
    host, _, become = centre
    become(DOWN_SSH)
    with pytest.raises(AssertionError, match="cannot be reached as results-lab-court@192.0.2.10 .*Connection timed out"):
        checks.test_results_key_runs_the_intake_only(host, InventoryHost(), POLICY)


def test_res_002_leaves_the_binding_to_another_unit_to_res_004(centre):
    # The key of lab-court bound to another unit's intake: `id` is refused (64), but the probe's
    # file is still refused for its schema first (65); so RES-002 passes: the binding is RES-004's.
    host, drop, become = centre
    become(INTAKE_SSH.replace('"{unit}"', '"lab-prosecutor"'))
    checks.test_results_key_runs_the_intake_only(host, InventoryHost(), POLICY)


def test_res_003_names_old_waiting_and_refused_files_and_passes_otherwise(centre, tmp_path, monkeypatch):
    host, _, _ = centre
    monkeypatch.setattr(checks, "SPOOL", str(tmp_path / "spool"))
    with pytest.raises(AssertionError, match="there is no spool"):
        checks.test_results_do_not_wait(host, InventoryHost(), POLICY)
    spool = tmp_path / "spool" / UNIT
    spool.mkdir(parents=True)
    fresh, old = spool / "20261130T120000Z.json", spool / "20261128T120000Z.json"
    fresh.write_text("{}")
    (spool / ".20261101T000000Z.json").write_text("{}")  # still being written, whatever its age
    os.utime(spool / ".20261101T000000Z.json", (time.time() - 30 * 86400,) * 2)
    checks.test_results_do_not_wait(host, InventoryHost(), POLICY)
    old.write_text("{}")
    os.utime(old, (time.time() - 27 * 3600,) * 2)
    with pytest.raises(AssertionError, match=r"1 results file\(s\) older than 26 hours .*20261128T120000Z.json"):
        checks.test_results_do_not_wait(host, InventoryHost(), POLICY)
    old.unlink()
    (spool / "refused").mkdir()
    (spool / "refused" / "20261127T120000Z.json").write_text("{}")
    with pytest.raises(AssertionError, match="the centre refused 20261127T120000Z.json"):
        checks.test_results_do_not_wait(host, InventoryHost(), POLICY)

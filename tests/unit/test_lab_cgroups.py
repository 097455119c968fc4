"""The lab's own cgroups and its reading of lab faults, offline (the lab tests show them live)."""

from __future__ import annotations

from pathlib import Path

import pytest

from unitctl.lab import cgroups as labcgroups
from unitctl.lab.machines import LAB_FAULT_PATTERN, Readiness

# /proc/self/mountinfo of a host like CI's: cgroup v1 controllers, name=systemd, unified cgroup2.
HYBRID_MOUNTINFO = """\
25 30 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw
27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
31 25 0:28 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,pids
"""
UNIFIED_MOUNTINFO = """\
25 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
"""


@pytest.mark.parametrize("mountinfo, expected", [
    (HYBRID_MOUNTINFO, ["/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd"]),
    (UNIFIED_MOUNTINFO, ["/sys/fs/cgroup"]),
])
def test_the_hierarchies_systemd_manages_are_found(tmp_path, monkeypatch, mountinfo, expected):
    (tmp_path / "mountinfo").write_text(mountinfo)
    monkeypatch.setattr(labcgroups, "MOUNTINFO", tmp_path / "mountinfo")
    assert labcgroups.hierarchies() == [Path(p) for p in expected]
    assert labcgroups.machine_cgroups("court-srv") == [Path(p) / "unitlab" / "court-srv" for p in expected]


# Journal lines seen in lab hosts when they shared one cgroup (issue: CI red on a clean run).
LAB_FAULTS = [
    "systemd[1]: systemd-user-sessions.service: Failed to attach to cgroup "
    "/system.slice/systemd-user-sessions.service: No such file or directory",
    "systemd[1]: systemd-user-sessions.service: Main process exited, code=exited, status=219/CGROUP",
    "systemd[1]: user@999.service: Failed to kill control group /user.slice/user-999.slice/"
    "user@999.service, ignoring: Input/output error",
]
ROLE_FAULTS = [
    "systemd[1]: cups.service: Main process exited, code=exited, status=1/FAILURE",
    "systemd[1]: Failed to start unitctl-backup.service - Back up the archive.",
    "sshd[712]: error: Bind to port 22 on 0.0.0.0 failed: Address already in use.",
]


@pytest.mark.parametrize("line", LAB_FAULTS)
def test_a_fault_of_the_lab_is_recognised(line):
    assert LAB_FAULT_PATTERN.search(line)


@pytest.mark.parametrize("line", ROLE_FAULTS)
def test_a_fault_of_a_role_is_not_blamed_on_the_lab(line):
    assert not LAB_FAULT_PATTERN.search(line)


@pytest.mark.parametrize("readiness, ready, described", [
    (Readiness("running"), True, "running"),
    (Readiness("degraded", ["cups.service"]), False, "degraded; failed units: cups.service"),
    (Readiness("running", [], "non-root logins refused (/run/nologin exists)"), False,
     "running; non-root logins refused (/run/nologin exists)"),
    (Readiness("starting"), False, "starting"),
])
def test_a_host_is_ready_only_running_with_no_failed_unit_and_logins_open(readiness, ready, described):
    assert readiness.ready is ready
    assert readiness.describe() == described


def _machine_tree(tmp_path: Path, monkeypatch) -> Path:
    """A machine's cgroup tree as a running systemd leaves it, under a fake hierarchy."""
    root = tmp_path / "unified" / "unitlab" / "court-srv"
    for cgroup, procs in [("payload", "101\n"), ("payload/system.slice/cron.service", "140\n"),
                          ("payload/system.slice/systemd-tmpfiles-clean.service", "177\n"),
                          ("supervisor", "100\n")]:
        (root / cgroup).mkdir(parents=True)
        (root / cgroup / "cgroup.procs").write_text(procs)
    monkeypatch.setattr(labcgroups, "hierarchies", lambda: [tmp_path / "unified"])
    return root


def test_the_processes_of_a_machine_are_read_from_its_whole_tree(tmp_path, monkeypatch):
    _machine_tree(tmp_path, monkeypatch)
    assert labcgroups.pids("court-srv") == {100, 101, 140, 177}
    assert labcgroups.pids("court-ws1") == set()


def test_a_cgroup_removed_during_the_walk_is_skipped(tmp_path, monkeypatch):
    """A short-lived service's cgroup removed by the machine's systemd between listing its
    parent and reading it (CI red: a lab boot failed with FileNotFoundError from the walk)."""
    root = _machine_tree(tmp_path, monkeypatch)
    vanishing = root / "payload/system.slice/systemd-tmpfiles-clean.service"
    real_scandir = labcgroups.os.scandir

    def scandir_after_systemd_removed_it(path):
        if Path(path) == vanishing and vanishing.exists():
            (vanishing / "cgroup.procs").unlink()
            vanishing.rmdir()
        return real_scandir(path)

    monkeypatch.setattr(labcgroups.os, "scandir", scandir_after_systemd_removed_it)
    assert labcgroups.pids("court-srv") == {100, 101, 140}

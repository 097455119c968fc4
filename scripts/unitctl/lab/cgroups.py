"""Each lab machine's own control group, on a host where no systemd manages cgroups.

Why this exists. systemd-nspawn run with `--register=no --keep-unit` (there is no systemd on
this host to make a scope for it) leaves the container in the cgroup of whoever started it and,
on a host whose systemd hierarchy is cgroup v1, splits that cgroup into `payload` (the
container) and `supervisor` (nspawn itself). Every lab machine used to be started from the same
cgroup, the root, so all of them shared one `/payload` in the name=systemd and unified
hierarchies, and each machine's systemd created, emptied and removed the *same*
`system.slice/<unit>` cgroups as the others:

- a unit starting in one machine while another machine removed that unit's empty cgroup failed
  with `status=219/CGROUP` ("Failed to attach to cgroup ...: No such file or directory"); when
  that unit was systemd-user-sessions, `/run/nologin` stayed and no one but root could log in;
- a unit stopping in one machine waited for its cgroup to empty while other machines' processes
  of the same unit kept it populated ("State 'stop-sigterm' timed out. Killing."), the 90 s
  stops of upsmon and unitctl-backup and the 2-minute stops of user@.service.

Each machine now starts in its own cgroup, `/unitlab/<machine>`, in every hierarchy that
systemd inside the machine writes to (name=systemd and the unified cgroup2 hierarchy; the v1
resource controllers are mounted read-only in the machine and are left alone). nspawn splits
that one into `payload` and `supervisor` as before, and the machine's cgroup namespace starts
there, so its systemd sees only its own processes. The tree also tells `lab down` exactly
which processes are the machine's, whatever namespace they left.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

LAB_CGROUP = "unitlab"
MOUNTINFO = Path("/proc/self/mountinfo")


def hierarchies() -> list[Path]:
    """Mount points of the cgroup hierarchies systemd manages: the cgroup2 (unified) one and
    the cgroup v1 `name=systemd` one, whichever this host has. Shape: a list of 0 to 2 paths."""
    found = []
    for line in MOUNTINFO.read_text().splitlines():
        # mountinfo(5): ... mount point is field 5; after " - ": fstype, source, super options.
        before, _, after = line.partition(" - ")
        mount_point = Path(before.split()[4])
        fstype, _source, options = (after.split() + ["", "", ""])[:3]
        if fstype == "cgroup2" or (fstype == "cgroup" and "name=systemd" in options.split(",")):
            found.append(mount_point)
    return found


def machine_cgroups(name: str) -> list[Path]:
    """The machine's own cgroup in each managed hierarchy (they need not exist)."""
    return [hierarchy / LAB_CGROUP / name for hierarchy in hierarchies()]


def create(name: str) -> list[Path]:
    """Make the machine's cgroups, clearing a leftover tree first; returns their paths."""
    remove(name)
    cgroups = machine_cgroups(name)
    for cgroup in cgroups:
        cgroup.mkdir(parents=True, exist_ok=True)
    return cgroups


def enter(cgroups: list[Path]) -> None:
    """Move the calling process into the given cgroups (used just before exec of nspawn).

    Raises OSError when a cgroup cannot be joined: a machine must never start in a shared one."""
    for cgroup in cgroups:
        (cgroup / "cgroup.procs").write_text("0\n")  # "0": the writing process itself


def pids(name: str) -> set[int]:
    """Every process in the machine's cgroup trees (an empty set when there are none)."""
    found: set[int] = set()
    for root in machine_cgroups(name):
        for cgroup in _tree(root):
            try:
                found.update(int(pid) for pid in (cgroup / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                continue  # removed while being read
    return found


def _tree(root: Path) -> list[Path]:
    """The cgroup `root` and every cgroup below it, parents before children; [] when `root` is
    gone. A running machine's systemd makes and removes cgroups all the time, so a cgroup that
    vanishes during the walk is skipped (os.walk ignores the error; pathlib's rglob raised
    FileNotFoundError from the vanished directory and failed a lab boot)."""
    return [Path(parent) for parent, _dirs, _files in os.walk(root)]


def kill(name: str, timeout: float = 10) -> set[int]:
    """SIGKILL whatever still runs in the machine's cgroups (a killed run's orphans); wait until
    they are gone. Returns the PIDs that survived the timeout (normally none)."""
    deadline = time.monotonic() + timeout
    remaining = pids(name)
    while remaining:
        for pid in remaining:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
        remaining = pids(name)
    return remaining


def remove(name: str) -> None:
    """Kill what is left in the machine's cgroups and remove them, deepest first."""
    survivors = kill(name)
    if survivors:
        raise OSError(f"processes {sorted(survivors)} of lab machine {name} survived SIGKILL")
    for root in machine_cgroups(name):
        for cgroup in reversed(_tree(root)):  # deepest first
            try:
                cgroup.rmdir()
            except FileNotFoundError:
                pass  # removed meanwhile (by the kernel's release of an empty cgroup, or another lab run)


def leftover_machines() -> set[str]:
    """Names of machines that still have a cgroup (in any hierarchy)."""
    return {cgroup.name for hierarchy in hierarchies()
            if (hierarchy / LAB_CGROUP).is_dir()
            for cgroup in (hierarchy / LAB_CGROUP).iterdir() if cgroup.is_dir()}

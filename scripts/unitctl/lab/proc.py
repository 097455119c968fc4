"""Processes for the lab: commands with timeouts, and long-lived processes known by PID.

A long-lived lab process (a machine's systemd-nspawn, the switch emulator, the package mirror)
is remembered as its PID plus the kernel's start time of that PID, so that a PID reused by an
unrelated process after a reboot or a crash is never mistaken for ours and never signalled.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

DEFAULT_TIMEOUT_S = 60


class LabError(RuntimeError):
    """A lab step failed; the message says which and why."""


def run(cmd: Sequence[str], timeout: float = DEFAULT_TIMEOUT_S, check: bool = True,
        **kwargs) -> subprocess.CompletedProcess:
    """Run a short command to completion, capturing its output as text."""
    try:
        result = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout,
                                **kwargs)
    except subprocess.TimeoutExpired as error:
        raise LabError(f"{' '.join(cmd)} did not finish within {timeout} s") from error
    if check and result.returncode != 0:
        raise LabError(f"{' '.join(cmd)} failed ({result.returncode}): "
                       f"{(result.stderr or result.stdout).strip()}")
    return result


def start_time_of(pid: int) -> int | None:
    """The start time (clock ticks since boot) of a live process, None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name in field 2 may contain spaces; the fields after it are safe to split.
    fields = stat.rsplit(")", 1)[1].split()
    state, start_time = fields[0], int(fields[19])
    if state in ("Z", "X"):
        _reap(pid)
        return None
    return start_time


def _reap(pid: int) -> None:
    """Collect a dead child of this very process (a lab started and stopped in one Python)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


@dataclass(frozen=True)
class LabProcess:
    pid: int
    start_time: int

    @classmethod
    def of(cls, pid: int) -> "LabProcess | None":
        start_time = start_time_of(pid)
        return None if start_time is None else cls(pid, start_time)

    @classmethod
    def from_record(cls, record: dict | None) -> "LabProcess | None":
        if not record:
            return None
        return cls(int(record["pid"]), int(record["start_time"]))

    def record(self) -> dict:
        return {"pid": self.pid, "start_time": self.start_time}

    def alive(self) -> bool:
        return start_time_of(self.pid) == self.start_time

    def listens_on(self, address: str, port: int) -> bool:
        """True when this process holds the TCP socket listening on address:port (or on any
        address at that port), so a stranger on the same port is not taken for ours."""
        return bool(_listening_inodes(self.pid, address, port) & _socket_inodes(self.pid))

    def signal(self, signum: int) -> None:
        if self.alive():
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass


def _listening_inodes(pid: int, address: str, port: int) -> set[str]:
    # /proc/PID/net/tcp lists the sockets of that process's network namespace.
    local = {f"{socket.inet_aton(ip)[::-1].hex().upper()}:{port:04X}"
             for ip in (address, "0.0.0.0")}
    try:
        lines = Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return set()
    listen_state = "0A"
    return {fields[9] for fields in map(str.split, lines)
            if fields[1] in local and fields[3] == listen_state}


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return inodes
    for descriptor in descriptors:
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def spawn(cmd: Sequence[str], log_path: Path, env: dict | None = None,
          before_exec: Callable[[], None] | None = None) -> LabProcess:
    """Start a long-lived process detached from this one, its output going to `log_path`.

    `before_exec` runs in the child just before the command replaces it (to join a cgroup)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        child = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True, env=env,
                                 preexec_fn=before_exec)
    process = LabProcess.of(child.pid)
    if process is None:
        raise LabError(f"{cmd[0]} exited at once; see {log_path}")
    return process


def wait_gone(processes: Sequence[LabProcess], timeout: float) -> list[LabProcess]:
    """Wait until the processes have exited; return those still alive at the deadline."""
    deadline = time.monotonic() + timeout
    remaining = [p for p in processes if p.alive()]
    while remaining and time.monotonic() < deadline:
        time.sleep(0.1)
        remaining = [p for p in remaining if p.alive()]
    return remaining


def stop(processes: Sequence[LabProcess], grace_s: float,
         first_signal: int = signal.SIGTERM) -> None:
    """Ask the processes to exit, wait up to `grace_s`, then kill whatever is left."""
    for process in processes:
        process.signal(first_signal)
    for process in wait_gone(processes, grace_s):
        process.signal(signal.SIGKILL)
    leftover = wait_gone(processes, 5)
    if leftover:
        raise LabError(f"processes {[p.pid for p in leftover]} survived SIGKILL")

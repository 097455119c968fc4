"""Lab machines: systemd-nspawn containers that boot the base root filesystem through an overlay.

Each machine writes only to its own upper directory (deleted by `lab down`, kept by a reboot),
which also carries its identity: hostname, machine id, SSH host key and the lab key authorised
for root. The host has no systemd as PID 1, so nspawn is told not to register with machined nor
to make a scope unit; the machine starts in a cgroup of its own (`labcgroups`) and joins a
network namespace made beforehand (`--network-veth` needs systemd).

A machine is *ready* when systemd says "running" (no unit failed) and a non-root account may
log in (`readiness`); the lab looks inside a machine with nsenter (`machine_run`), so it needs
neither SSH nor an account there, and reads the journal for faults of the lab itself
(`lab_faults`).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from unitctl import paths
from unitctl.lab import cgroups as labcgroups
from unitctl.lab import secrets as labsecrets
from unitctl.lab.net import netns_name
from unitctl.lab.proc import LabError, LabProcess, run, spawn

SSH_CONNECT_TIMEOUT_S = 3


@dataclass(frozen=True)
class Machine:
    name: str
    address: str
    unit_id: str
    release: int = 12  # the Debian major release it boots (its base root filesystem)

    @property
    def netns(self) -> str:
        return netns_name(self.name)

    @property
    def root(self) -> Path:
        return paths.LAB_STATE_DIR / "machines" / self.name

    @property
    def upper(self) -> Path:
        return self.root / "upper"

    @property
    def log(self) -> Path:
        return paths.LAB_STATE_DIR / "logs" / f"{self.name}.log"


def nspawn_command(machine: Machine, base: Path) -> list[str]:
    return [
        "systemd-nspawn", "--quiet", "--boot",
        "--register=no", "--keep-unit", "--settings=no",
        f"--directory={base}", f"--overlay={base}:{machine.upper}:/",
        f"--network-namespace-path=/run/netns/{machine.netns}",
        f"--machine={machine.name}", f"--hostname={machine.name}",
        "--resolv-conf=off", "--timezone=off", "--link-journal=no",
        "--console=passive",
        # Each host has its own network namespace: it may load its own firewall and serve DHCP
        # there. Nothing else is granted (never CAP_SYS_TIME: that would set the host's clock).
        "--capability=CAP_NET_ADMIN",
    ]


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def prepare_upper(machine: Machine, etc_hosts: str) -> None:
    """A fresh upper layer holding the machine's identity and the lab's access to it."""
    remove_upper(machine)
    upper = machine.upper
    _write(upper / "etc/hostname", f"{machine.name}\n")
    # Stable across `lab up`s, distinct per machine.
    _write(upper / "etc/machine-id", hashlib.md5(machine.name.encode()).hexdigest() + "\n", 0o444)
    _write(upper / "etc/hosts", etc_hosts)
    labsecrets.host_public_key(machine.name)
    host_key = labsecrets.host_key_path(machine.name)
    _write(upper / "etc/ssh/ssh_host_ed25519_key", host_key.read_text(), 0o600)
    _write(upper / "etc/ssh/ssh_host_ed25519_key.pub", host_key.with_suffix(".pub").read_text())
    (upper / "root").mkdir(mode=0o700)
    _write(upper / "root/.ssh/authorized_keys", labsecrets.lab_public_key() + "\n", 0o600)
    (upper / "root/.ssh").chmod(0o700)


def remove_upper(machine: Machine) -> None:
    if machine.root.exists():
        shutil.rmtree(machine.root)


def boot(machine: Machine, base: Path) -> LabProcess:
    """Start the machine from its upper layer as it is (fresh or kept), in its own cgroups."""
    cgroups = labcgroups.create(machine.name)
    return spawn(nspawn_command(machine, base), machine.log,
                 before_exec=lambda: labcgroups.enter(cgroups))


def init_pid(machine: Machine) -> int | None:
    """The host PID of the machine's systemd (PID 1 inside), None when it is not running."""
    for pid in sorted(labcgroups.pids(machine.name)):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            # NSpid: the PID in each nested PID namespace, the machine's own last.
            if line.startswith("NSpid:") and line.split()[-1] == "1" and len(line.split()) > 2:
                return pid
    return None


def machine_run(machine: Machine, command: str, timeout: float = 30) -> tuple[int, str]:
    """Run a shell command inside the machine as its root, without SSH (nsenter into all its
    namespaces, as `machinectl shell` would). Returns exit status and output (stdout+stderr).

    Raises LabError when the machine is not running or the command outlives `timeout` (s)."""
    pid = init_pid(machine)
    if pid is None:
        raise LabError(f"{machine.name} is not running")
    result = run(["nsenter", "-t", str(pid), "-a", "--", "/bin/sh", "-c", command],
                 timeout=timeout, check=False)
    return result.returncode, (result.stdout + result.stderr).strip()


# Journal lines that mean the lab failed a host, not the role running on it: systemd inside
# a container hitting a limit of the container (cgroups, capabilities, read-only /sys).
LAB_FAULT_PATTERN = re.compile(
    r"status=219/CGROUP|Failed to attach to cgroup|Failed to (kill|create|migrate to) "
    r"(control group|cgroup)|cgroup.*Input/output error|status=218/CAPABILITIES|"
    r"Failed to set up mount namespacing.*Permission denied")


def lab_faults(machine: Machine, max_lines: int = 20) -> list[str]:
    """Journal lines of the current boot that show a fault of the lab itself (see
    LAB_FAULT_PATTERN), newest last; [] when there are none or the machine is not running."""
    try:
        _, journal = machine_run(machine, "journalctl -b --no-pager -o short-monotonic -q", 60)
    except LabError:
        return []
    return [line for line in journal.splitlines() if LAB_FAULT_PATTERN.search(line)][-max_lines:]


@dataclass
class Readiness:
    """What a lab host must show before tests may use it (`systemctl is-system-running`,
    `systemctl --failed`, and whether a non-root account may log in)."""

    state: str
    failed_units: list[str] = field(default_factory=list)
    login_problem: str = ""

    @property
    def ready(self) -> bool:
        return self.state == "running" and not self.failed_units and not self.login_problem

    def describe(self) -> str:
        parts = [self.state]
        if self.failed_units:
            parts.append(f"failed units: {', '.join(self.failed_units)}")
        if self.login_problem:
            parts.append(self.login_problem)
        return "; ".join(parts)


def _login_problem(machine: Machine, automation_user: str) -> str:
    """Why a non-root account could not log in now, or "" when it can.

    On a provisioned host the automation account really logs in over SSH (the lab key is
    authorised for it); on a bare one, no nologin file may be left (pam_nologin refuses every
    non-root login while /run/nologin or /etc/nologin exists: systemd-user-sessions removes the
    first at the end of boot)."""
    status, _ = machine_run(machine, f"id -u {automation_user}")
    if status == 0:
        try:
            _connect(machine, time.monotonic() + SSH_CONNECT_TIMEOUT_S * 3, automation_user).close()
        except Exception as error:  # noqa: BLE001  (any failure to log in is the answer)
            return f"{automation_user} cannot log in over SSH ({error!r})"
        return ""
    status, found = machine_run(machine, "ls /run/nologin /etc/nologin 2>/dev/null")
    return f"non-root logins refused ({found.split()[0]} exists)" if found else ""


def readiness(machine: Machine, wait_s: float, automation_user: str) -> Readiness:
    """The machine's readiness once systemd has finished starting up (waiting up to `wait_s`)."""
    _, state = machine_run(machine, f"timeout {max(1, int(wait_s))} systemctl is-system-running --wait",
                           wait_s + 15)
    state = state.splitlines()[-1] if state else "unknown"
    _, failed = machine_run(machine, "systemctl --failed --plain --no-legend")
    units = [line.split()[0] for line in failed.splitlines() if line.strip()]
    return Readiness(state, units, _login_problem(machine, automation_user))


def failed_unit_journal(machine: Machine, units: list[str], lines: int = 8) -> list[str]:
    """The last journal lines of each failed unit, to show with a host that is not ready."""
    found = []
    for unit in units:
        _, journal = machine_run(machine, f"journalctl -b -u {unit} --no-pager -q -n {lines}")
        found += [f"  {line}" for line in journal.splitlines()]
    return found


def restart_failed(machine: Machine, units: list[str]) -> None:
    """Start each failed unit once more (after clearing its failed state)."""
    for unit in units:
        machine_run(machine, f"systemctl reset-failed {unit}; systemctl restart --no-block {unit}")


def _connect(machine: Machine, deadline: float, user: str = "root"):
    """An SSH session checking the recorded host key; retried until the deadline."""
    import paramiko  # noqa: PLC0415  (slow import, only needed here)

    while True:
        client = paramiko.SSHClient()
        client.load_host_keys(str(labsecrets.known_hosts_path()))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(machine.address, username=user,
                           key_filename=str(labsecrets.lab_key_path()),
                           timeout=SSH_CONNECT_TIMEOUT_S, banner_timeout=SSH_CONNECT_TIMEOUT_S,
                           auth_timeout=SSH_CONNECT_TIMEOUT_S, allow_agent=False,
                           look_for_keys=False)
            return client
        except (paramiko.BadHostKeyException, paramiko.AuthenticationException):
            client.close()
            raise
        except (OSError, paramiko.SSHException):
            client.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def wait_sshd(machine: Machine, timeout: float) -> None:
    """Wait until the machine's sshd answers with its recorded host key (any login will do)."""
    import paramiko  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    while True:
        try:
            _connect(machine, deadline).close()
            return
        except paramiko.AuthenticationException:
            return  # sshd answered with the right key; root may not log in (a provisioned host)

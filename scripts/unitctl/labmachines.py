"""Lab machines: systemd-nspawn containers that boot the base root filesystem through an overlay.

Each machine writes only to its own upper directory (deleted by `lab down`), which also
carries its identity: hostname, machine id, SSH host key and the lab key authorised for root.
The host has no systemd as PID 1, so nspawn is told not to register with machined nor to make
a scope unit, and it joins a network namespace made beforehand (`--network-veth` needs systemd).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from unitctl import labsecrets, paths
from unitctl.labnet import netns_name
from unitctl.labproc import LabProcess, spawn

SSH_CONNECT_TIMEOUT_S = 3
BOOT_STATES_OK = ("running", "degraded")


@dataclass(frozen=True)
class Machine:
    name: str
    address: str
    unit_id: str

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
    # systemd inside a lab host cannot kill by cgroup on this machine (cgroup v1: "Failed to kill
    # control group ... Input/output error"), so stopping a user's manager after their last logout
    # sometimes waits out its 2-minute stop timeout, and every new login of that user waits with it
    # (SSH timeouts). In the lab, user managers are kept after logout instead.
    _write(upper / "etc/systemd/logind.conf.d/50-unitlab.conf", "[Login]\nUserStopDelaySec=infinity\n")
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
    return spawn(nspawn_command(machine, base), machine.log)


def _connect(machine: Machine, deadline: float):
    """An SSH session as root, checking the recorded host key; retried until the deadline."""
    import paramiko  # noqa: PLC0415  (slow import, only needed here)

    while True:
        client = paramiko.SSHClient()
        client.load_host_keys(str(labsecrets.known_hosts_path()))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(machine.address, username="root",
                           key_filename=str(labsecrets.lab_key_path()),
                           timeout=SSH_CONNECT_TIMEOUT_S, banner_timeout=SSH_CONNECT_TIMEOUT_S,
                           auth_timeout=SSH_CONNECT_TIMEOUT_S, allow_agent=False,
                           look_for_keys=False)
            return client
        except paramiko.BadHostKeyException:
            raise
        except (OSError, paramiko.SSHException):
            client.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _exec(client, command: str, timeout: float) -> str:
    _, stdout, _ = client.exec_command(command, timeout=timeout)
    return stdout.read().decode().strip()


def wait_booted(machine: Machine, timeout: float) -> tuple[str, list[str]]:
    """Wait until the machine answers SSH and systemd has finished booting.

    Returns the system state (`systemctl is-system-running`) and the failed units, if any."""
    deadline = time.monotonic() + timeout
    client = _connect(machine, deadline)
    try:
        remaining = max(1.0, deadline - time.monotonic())
        state = _exec(client, f"timeout {remaining:.0f} systemctl is-system-running --wait",
                      remaining + 5)
        failed = []
        if state != "running":
            failed = _exec(client, "systemctl --failed --plain --no-legend", 15).splitlines()
        return state, [line.split()[0] for line in failed if line.strip()]
    finally:
        client.close()

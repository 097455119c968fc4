"""Helpers for the lab tests: the real `unitctl` command and SSH to lab hosts."""

from __future__ import annotations

import subprocess
import sys

import paramiko

from unitctl import labsecrets
from unitctl.labmachines import Machine

LAB_COMMAND_TIMEOUT_S = 900


def unitctl(*args: str, timeout: float = LAB_COMMAND_TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run the real `unitctl` command, as a technician would."""
    return subprocess.run([sys.executable, "-m", "unitctl.cli", *args], capture_output=True,
                          text=True, timeout=timeout)


def assert_ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def ssh_client(address: str, known_hosts: str | None = None) -> paramiko.SSHClient:
    """A root session on a lab host; the host key must match the lab's known_hosts."""
    client = paramiko.SSHClient()
    client.load_host_keys(known_hosts or str(labsecrets.known_hosts_path()))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(address, username="root", key_filename=str(labsecrets.lab_key_path()),
                   timeout=10, allow_agent=False, look_for_keys=False)
    return client


def run_on(machine: Machine, command: str, timeout: float = 120) -> tuple[int, str]:
    """Run a command on a lab host; returns its exit status and output."""
    client = ssh_client(machine.address)
    try:
        _, stdout, stderr = client.exec_command(command, timeout=timeout)
        output = stdout.read().decode() + stderr.read().decode()
        return stdout.channel.recv_exit_status(), output.strip()
    finally:
        client.close()

"""Helpers for the lab tests: the real `unitctl` command and SSH to lab hosts."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import paramiko

from unitctl import lab, labmachines, labsecrets, paths
from unitctl.compliance import checked_client
from unitctl.labmachines import Machine

LAB_COMMAND_TIMEOUT_S = 900
# The account Ansible and the compliance suite connect as once a host is provisioned.
AUTOMATION_USER = "unitctl"
ROOT = paths.PROJECT_ROOT
# One host's line of ansible-playbook's PLAY RECAP.
RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)", re.MULTILINE)


def recap_of(stdout: str) -> dict[str, dict[str, int]]:
    """Each host's ok, changed, unreachable and failed counts from the PLAY RECAP."""
    return {m["host"]: {key: int(m[key]) for key in ("ok", "changed", "unreachable", "failed")}
            for m in RECAP.finditer(stdout)}


def unitctl(*args: str, timeout: float = LAB_COMMAND_TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run the real `unitctl` command, as a technician would."""
    return subprocess.run([sys.executable, "-m", "unitctl.cli", *args], capture_output=True,
                          text=True, timeout=timeout)


def assert_ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def ssh_client(address: str, known_hosts: str | None = None, user: str = "root") -> paramiko.SSHClient:
    """A session on a lab host (root by default); the host key must match the lab's known_hosts."""
    return checked_client(address, user, str(labsecrets.lab_key_path()),
                          Path(known_hosts) if known_hosts else labsecrets.known_hosts_path())


def run_on(machine: Machine, command: str, timeout: float = 120) -> tuple[int, str]:
    """Run a command on a lab host; returns its exit status and output."""
    client = ssh_client(machine.address)
    try:
        _, stdout, stderr = client.exec_command(command, timeout=timeout)
        output = stdout.read().decode() + stderr.read().decode()
        return stdout.channel.recv_exit_status(), output.strip()
    finally:
        client.close()


def sudo_on(machine: Machine, command: str, timeout: float = 120) -> tuple[int, str]:
    """Run a command as root on a provisioned lab host, where root may no longer log in: through
    the automation account's sudo."""
    client = ssh_client(machine.address, user=AUTOMATION_USER)
    try:
        _, stdout, stderr = client.exec_command("sudo -n /bin/sh -c " + shlex.quote(command), timeout=timeout)
        output = stdout.read().decode() + stderr.read().decode()
        return stdout.channel.recv_exit_status(), output.strip()
    finally:
        client.close()


def environment() -> dict[str, str]:
    """ansible-playbook's environment in the lab tests: the project's config and Python."""
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env.setdefault("ANSIBLE_VAULT_PASSWORD_FILE", str(labsecrets.vault_password_path()))
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env["ANSIBLE_FORCE_COLOR"] = "0"
    return env


def failed_tasks(stdout: str) -> str:
    """Each failed or unreachable result of a playbook run, under the task it belongs to."""
    lines, task, found = stdout.splitlines(), "", []
    for line in lines:
        if line.startswith("TASK ["):
            task = line
        elif line.startswith(("fatal:", "failed:")) or line.startswith("unreachable"):
            found.append(f"{task}\n{line[:1500]}")
    return "\n".join(found)


def lab_fault_report() -> str:
    """For a failed lab test: the journal lines of every running lab host that show a fault of
    the lab itself (a unit refused its cgroup, a container limit), so nobody hunts for it in the
    roles; "" when there are none."""
    report = []
    for machine in lab.load_plan().machines:
        lines = labmachines.lab_faults(machine)
        if lines:
            report.append(f"LAB FAULT on {machine.name} (the lab's, not the role's); its journal:")
            report += [f"  {line}" for line in lines]
    return "\n".join(report)


def assert_clean(result: subprocess.CompletedProcess, recap: dict, hosts, changed_zero: bool) -> None:
    """The run succeeded on every one of `hosts` (and changed nothing, when asked)."""
    hosts = hosts.split(",") if isinstance(hosts, str) else list(hosts)
    failures = failed_tasks(result.stdout)
    tail = f"{failures}\n--- end of the output ---\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
    assert result.returncode == 0, tail
    for host in hosts:
        assert host in recap, f"{host} not in the recap\n{tail}"
        assert recap[host]["failed"] == 0 and recap[host]["unreachable"] == 0, tail
        if changed_zero:
            assert recap[host]["changed"] == 0, f"{host} changed {recap[host]['changed']} tasks\n" + "\n".join(
                line for line in result.stdout.splitlines() if line.startswith("changed:"))

"""Helpers for the lab tests: the real `unitctl` and `ansible-playbook` commands, the compliance
suite, and SSH to lab hosts. Names and addresses come from the lab inventory (inventory/lab/),
never written in a test."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import paramiko
import pytest
import yaml

from unitctl import paths
from unitctl import lab
from unitctl.lab import machines as labmachines
from unitctl.lab import secrets as labsecrets
from unitctl.cli.evaluate import DEFAULT_WORKERS
from unitctl.compliance import checked_client
from unitctl.inventory import vaults
from unitctl.inventory.load import load_units_dir
from unitctl.lab.machines import Machine

LAB_COMMAND_TIMEOUT_S = 900
PLAYBOOK_TIMEOUT_S = 2400
COMPLIANCE_TIMEOUT_S = 900
ROOT = paths.PROJECT_ROOT
PLAN = lab.load_plan()
# The account Ansible and the compliance suite connect as once a host is provisioned.
AUTOMATION_USER = PLAN.automation_user
MACHINES: dict[str, Machine] = {machine.name: machine for machine in PLAN.machines}
# Checks that Debian itself satisfies on a bare host of a release, left out of the proofs that every
# check fails on a bare host: Debian 13's login.defs sets HOME_MODE 0700 and a bare machine has no
# account with a home open to others (LOGIN-005, CIS 7.2.9).
HOLDS_WHEN_BARE_BY_RELEASE: dict[int, frozenset[str]] = {13: frozenset({"LOGIN-005"})}


def holds_when_bare(name: str) -> frozenset[str]:
    """The checks a bare lab host of its Debian release already passes (HOLDS_WHEN_BARE_BY_RELEASE)."""
    return HOLDS_WHEN_BARE_BY_RELEASE.get(MACHINES[name].release, frozenset())
SWITCHES = {switch.name: switch for switch in PLAN.switches}
# One host's line of ansible-playbook's PLAY RECAP.
RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)", re.MULTILINE)


def address(name: str) -> str:
    """A lab host's or switch's address, from the lab inventory."""
    return MACHINES[name].address if name in MACHINES else SWITCHES[name].address


def hosts_of(function: str, unit_id: str | None = None) -> list[str]:
    """Lab hosts with this function (unit_server, centre_server, cms_client), of one unit or all."""
    found = []
    for unit in load_units_dir(paths.LAB_UNITS_DIR).units:
        if unit_id in (None, unit.id):
            found += [host["name"] for host in unit.hosts if host.get("function") == function]
    return sorted(found)


def recap_of(stdout: str) -> dict[str, dict[str, int]]:
    """Each host's ok, changed, unreachable and failed counts from the PLAY RECAP."""
    return {m["host"]: {key: int(m[key]) for key in ("ok", "changed", "unreachable", "failed")}
            for m in RECAP.finditer(stdout)}


def unitctl(*args: str, timeout: float = LAB_COMMAND_TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run the real `unitctl` command, as a technician would."""
    return subprocess.run([sys.executable, "-m", "unitctl.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, UNITCTL_INVENTORY=str(paths.LAB_INVENTORY)))


def assert_ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def environment() -> dict[str, str]:
    """ansible-playbook's environment in the lab tests: the project's config and Python."""
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["ANSIBLE_ROLES_PATH"] = str(ROOT / "roles")  # also for plays a test writes elsewhere
    # Every lab unit's vault identity (the suite converges the whole lab province); a test that proves
    # a unit runs with its own password alone sets its own list (unit_identity_list).
    env.setdefault("ANSIBLE_VAULT_IDENTITY_LIST", unit_identity_list(*lab_unit_ids()))
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["UNITCTL_INVENTORY"] = str(paths.LAB_INVENTORY)  # the lab, whatever inventory this checkout is set to
    return env


def lab_unit_ids() -> list[str]:
    return [unit.id for unit in load_units_dir(paths.LAB_UNITS_DIR).units]


def unit_identity_list(*unit_ids: str) -> str:
    """ANSIBLE_VAULT_IDENTITY_LIST for these units' vaults, each through the password client."""
    return ",".join(f"{unit_id}@{vaults.CLIENT}" for unit_id in unit_ids)


def unit_vault(unit_id: str) -> dict:
    """A lab unit's vault as Ansible reads it, opened with that unit's own password."""
    return vaults.open_vault(labsecrets.unit_vault_path(unit_id), unit_id, labsecrets.vault_password(unit_id))


@dataclass
class Run:
    """One ansible-playbook run: the process, each host's recap counts, and its wall time (s)."""

    result: subprocess.CompletedProcess
    recap: dict[str, dict[str, int]]
    seconds: float


def playbook(*playbooks_and_args: str, inventory: Path | None = None,
             timeout: float = PLAYBOOK_TIMEOUT_S, env: dict[str, str] | None = None) -> Run:
    """ansible-playbook with the project's configuration; playbooks are paths from the project root.
    `env` changes the environment (a test's own vault identities)."""
    command = [str(Path(sys.executable).parent / "ansible-playbook"), *playbooks_and_args]
    if inventory:
        command += ["-i", str(inventory)]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env={**environment(), **(env or {})}, capture_output=True,
                            text=True, timeout=timeout)
    return Run(result, recap_of(result.stdout), time.monotonic() - started)


def compliance(output: Path, user: str | None = None, units: list[str] | None = None,
               inventory: Path | None = None, keyword: str | None = None, commands: str = "shell",
               env: dict[str, str] | None = None) -> list[dict]:
    """The compliance suite as a technician runs it; returns its results (the JSON it writes).

    Checks are chosen by their own metadata (the host functions they apply to), so every check
    file is run; `keyword` narrows to some checks by pytest's -k where a test needs only those.
    A whole run checks several hosts at once, as `unitctl check` does (pytest-xdist workers).
    `commands="exec"` runs every command on an SSH channel of its own, as plain testinfra does,
    instead of through the suite's remote shells (unitctl.remote_shell)."""
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "compliance"),
            "--compliance-json", str(output), "--commands", commands]
    if not keyword:
        args += ["-n", str(DEFAULT_WORKERS)]
    if user:
        args += ["--ssh-user", user]
    for unit in units or []:
        args += ["--unit", unit]
    if inventory:
        args += ["--inventory", str(inventory)]
    if keyword:
        args += ["-k", keyword]
    # One hash seed for every run, so that a set in a check's evidence (pytest's explanation of a
    # failed `assert a <= b` lists its items in iteration order) reads the same in two runs that
    # are compared (test_converge: remote shells against a channel per command).
    run = subprocess.run(args, cwd=ROOT, env={**environment(), "PYTHONHASHSEED": "0", **(env or {})},
                         capture_output=True, text=True, timeout=COMPLIANCE_TIMEOUT_S)
    assert output.exists(), f"the compliance suite wrote no results:\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}"
    return json.loads(output.read_text())["results"]


def not_failing_when_bare(converged, host: str, prefixes: tuple[str, ...], holds: set[str] = frozenset()) -> dict:
    """The checks (ids starting with PREFIXES) that did not fail on HOST when it was bare, with
    their outcomes: none may pass there, except those in HOLDS and those that do not apply to it.
    Skips the test when the session started on provisioned hosts."""
    if converged.bare_results is None:
        pytest.skip("the lab's hosts were already provisioned when the session started")
    outcomes: dict[str, set] = {}
    for result in converged.bare_results:
        if result["host"] == host and result["check_id"].startswith(prefixes):
            outcomes.setdefault(result["check_id"], set()).add(result["outcome"])
    assert outcomes, f"no check ran on {host}"
    return {check: states for check, states in outcomes.items()
            if "fail" not in states and states != {"not_applicable"} and check not in holds}


def not_passing(results: list[dict], hosts=None) -> list[str]:
    """Results (of `hosts`, or all) that are neither pass nor not applicable, one line each.
    BASE-008 is "skipped" where /proc/sys is read-only (the lab's containers)."""
    return [f"{r['check_id']}@{r['host']}: {r['outcome']} {r['evidence'][:300]}" for r in results
            if (hosts is None or r["host"] in hosts) and r["outcome"] not in ("pass", "not_applicable")
            and not (r["check_id"] == "BASE-008" and r["outcome"] == "skipped")]


def ssh_client(host_address: str, known_hosts: str | None = None, user: str = "root",
               key: Path | None = None) -> paramiko.SSHClient:
    """A session on a lab host (root by default); the host key must match the lab's known_hosts."""
    return checked_client(host_address, user, str(key or labsecrets.lab_key_path()),
                          Path(known_hosts) if known_hosts else labsecrets.known_hosts_path())


def login_works(name: str, user: str) -> bool:
    """True when `user` logs in to the lab host `name` with the lab key."""
    try:
        ssh_client(address(name), user=user).close()
        return True
    except (paramiko.SSHException, OSError):
        return False


def _exec(client: paramiko.SSHClient, command: str, timeout: float,
          stdin: bytes | None = None) -> tuple[int, str]:
    channel_in, stdout, stderr = client.exec_command(command, timeout=timeout)
    if stdin is not None:
        channel_in.write(stdin)
        channel_in.channel.shutdown_write()
    output = stdout.read().decode(errors="replace") + stderr.read().decode(errors="replace")
    return stdout.channel.recv_exit_status(), output.strip()


def run_on(machine: Machine, command: str, timeout: float = 120) -> tuple[int, str]:
    """Run a command as root on a bare lab host (root logs in); exit status and output."""
    client = ssh_client(machine.address)
    try:
        return _exec(client, command, timeout)
    finally:
        client.close()


def sudo_on(machine: Machine, command: str, timeout: float = 120, stdin: bytes | None = None) -> tuple[int, str]:
    """Run a command as root on a provisioned lab host, where root may no longer log in: through
    the automation account's sudo."""
    client = ssh_client(machine.address, user=AUTOMATION_USER)
    try:
        return _exec(client, "sudo -n /bin/sh -c " + shlex.quote(command), timeout, stdin)
    finally:
        client.close()


def as_user(machine: Machine, command: str, user: str = AUTOMATION_USER, key: Path | None = None,
            timeout: float = 120) -> tuple[int, str]:
    """Run a command as `user` (the automation account by default) without sudo."""
    client = ssh_client(machine.address, user=user, key=key)
    try:
        return _exec(client, command, timeout)
    finally:
        client.close()


def as_root(machine: Machine, command: str, timeout: float = 120) -> tuple[int, str]:
    """A command as root whatever the host's state: sudo on a provisioned host, root on a bare one."""
    return sudo_on(machine, command, timeout) if login_works(machine.name, AUTOMATION_USER) \
        else run_on(machine, command, timeout)


def wait_for(predicate, seconds: float, what: str):
    """Poll `predicate` each second until it returns something true; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"not seen within {seconds:.0f} s: {what}")


def copy_lab_inventory(folder: Path) -> Path:
    """A copy of the lab inventory (units, group_vars, source) for a test to edit; returns the
    copy's source file. The committed inventory is never edited."""
    root = folder / "inventory"
    shutil.copytree(ROOT / "inventory" / "lab", root / "lab")
    shutil.copytree(ROOT / "inventory" / "group_vars", root / "group_vars")
    shutil.copy(ROOT / "inventory" / "lab.unitctl.yml", root / "lab.unitctl.yml")
    return root / "lab.unitctl.yml"


def edit_unit_file(source: Path, unit_id: str, file_name: str, change) -> None:
    """Apply `change(data)` to one unit file of a copied inventory (see copy_lab_inventory)."""
    path = source.parent / "lab" / "units" / unit_id / file_name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def failed_tasks(stdout: str) -> str:
    """Each failed or unreachable result of a playbook run, under the task it belongs to."""
    lines, task, found = stdout.splitlines(), "", []
    for line in lines:
        if line.startswith("TASK ["):
            task = line
        elif line.startswith(("fatal:", "failed:")) or line.startswith("unreachable"):
            found.append(f"{task}\n{line[:1500]}")
    return "\n".join(found)


def changed_tasks(stdout: str, host: str, but_roles: tuple[str, ...] = ()) -> list[str]:
    """The tasks ("role : name") of a playbook run that reported a change on HOST, once each, in
    order; those of BUT_ROLES left out (file_integrity: it follows what the rest of the run did)."""
    task, found = "", []
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            task = line[len("TASK ["):line.rfind("]")]
        elif line.startswith(f"changed: [{host}]") and task not in found and not task.startswith(
                tuple(f"{role} : " for role in but_roles)):
            found.append(task)
    return found


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


def assert_run_clean(run: Run, hosts, changed_zero: bool) -> None:
    assert_clean(run.result, run.recap, hosts, changed_zero)


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

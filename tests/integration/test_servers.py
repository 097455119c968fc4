"""The servers' baseline from fresh lab hosts (playbooks/server_base.yml, which servers.yml imports).

In order (pytest runs a module's tests in order): the compliance checks fail on fresh hosts;
`--check --diff` runs clean on them; the real run converges; a second run changes nothing;
`--check --diff` runs clean on the provisioned hosts; the checks pass; then end to end: a log line
written on court-srv reaches the centre's collector, a CMS workstation gets time from court-srv;
and a role input of the wrong type (or missing) stops the role at its start, changing nothing.

Set UNITLAB_ASSUME_UP=1 to run against a lab that is already up (the session's `lab up` is
then not called).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import paramiko
import pytest

from unitctl import labsecrets

from lab_helpers import assert_clean, environment, recap_of, run_on

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
# The baseline of every server (servers.yml imports it first, then the unit services).
SERVERS_PLAYBOOK = [str(ROOT / "playbooks" / "server_base.yml")]
LIMIT = "court-srv,centre-srv"
UNITS = ["lab-court", "lab-centre"]
AUTOMATION_USER = "unitctl"
ADDRESSES = {"court-srv": "10.213.20.10", "centre-srv": "10.213.10.10", "court-ws1": "10.213.21.11"}
CHECK_PREFIXES = ("BASE-", "AUTO-", "SSH-00", "FW-", "TIME-", "LOG-", "NODE-")
MY_CHECKS = "test_base.py or test_ssh.py or test_firewall.py or test_time.py or test_logging.py or test_node_exporter.py"
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def lab(request):
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    if os.environ.get("UNITLAB_ASSUME_UP") != "1":
        request.getfixturevalue("lab_up")


def playbook(*args: str, playbooks=SERVERS_PLAYBOOK, timeout: float = 900) -> tuple[subprocess.CompletedProcess, dict]:
    started = time.monotonic()
    result = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), *playbooks, *args],
                            cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=timeout)
    elapsed = time.monotonic() - started
    recap = recap_of(result.stdout)
    recap["_seconds"] = elapsed
    return result, recap


def compliance(tmp_path: Path, user: str) -> list[dict]:
    output = tmp_path / f"compliance-{user}.json"
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "compliance"),
            "--ssh-user", user, "--compliance-json", str(output), "-k", MY_CHECKS]
    for unit in UNITS:
        args += ["--unit", unit]
    subprocess.run(args, cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=600)
    results = json.loads(output.read_text())["results"]
    return [r for r in results if r["check_id"].startswith(CHECK_PREFIXES) and r["host"] in ("court-srv", "centre-srv")]


def login_works(address: str, user: str) -> bool:
    client = paramiko.SSHClient()
    client.load_host_keys(str(labsecrets.known_hosts_path()))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(address, username=user, key_filename=str(labsecrets.lab_key_path()), timeout=10,
                       allow_agent=False, look_for_keys=False)
        return True
    except (paramiko.SSHException, OSError):
        return False
    finally:
        client.close()


def run_as_automation(address: str, command: str, timeout: float = 60) -> tuple[int, str]:
    """A command on a provisioned server, as the automation account (root may not log in there)."""
    client = paramiko.SSHClient()
    client.load_host_keys(str(labsecrets.known_hosts_path()))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(address, username=AUTOMATION_USER, key_filename=str(labsecrets.lab_key_path()), timeout=10,
                   allow_agent=False, look_for_keys=False)
    try:
        _, stdout, stderr = client.exec_command(command, timeout=timeout)
        output = stdout.read().decode() + stderr.read().decode()
        return stdout.channel.recv_exit_status(), output.strip()
    finally:
        client.close()


@pytest.fixture(scope="module")
def fresh(lab):
    """True when court-srv was never provisioned (root may still log in, the automation account not)."""
    return login_works(ADDRESSES["court-srv"], "root") and not login_works(ADDRESSES["court-srv"], AUTOMATION_USER)


def test_checks_fail_on_fresh_hosts(fresh, tmp_path):
    if not fresh:
        pytest.skip("court-srv was already provisioned in this lab")
    results = [r for r in compliance(tmp_path, "root") if r["host"] == "court-srv"]
    assert results, "no check ran"
    outcomes: dict[str, set] = {}
    for r in results:
        outcomes.setdefault(r["check_id"], set()).add(r["outcome"])
    # Centre-only checks are "not applicable" on court-srv; every other check must fail there.
    not_failing = {check: states for check, states in outcomes.items()
                   if "fail" not in states and states != {"not_applicable"}}
    assert not not_failing, f"checks that did not fail on a fresh host: {not_failing}"


def test_check_mode_is_clean_on_fresh_hosts(fresh):
    if not fresh:
        pytest.skip("court-srv was already provisioned in this lab")
    result, recap = playbook("--limit", "court-srv", "--check", "--diff")
    TIMINGS["check_fresh"] = recap["_seconds"]
    assert_clean(result, recap, "court-srv", changed_zero=False)
    assert login_works(ADDRESSES["court-srv"], "root"), "check mode changed the host"


def test_converge(lab):
    result, recap = playbook("--limit", LIMIT)
    TIMINGS["converge"] = recap["_seconds"]
    assert_clean(result, recap, LIMIT, changed_zero=False)


def test_second_run_changes_nothing(lab):
    result, recap = playbook("--limit", LIMIT)
    TIMINGS["rerun"] = recap["_seconds"]
    assert_clean(result, recap, LIMIT, changed_zero=True)


def test_check_mode_is_clean_on_provisioned_hosts(lab):
    result, recap = playbook("--limit", LIMIT, "--check", "--diff")
    assert_clean(result, recap, LIMIT, changed_zero=True)


def test_checks_pass_on_provisioned_hosts(lab, tmp_path):
    results = compliance(tmp_path, AUTOMATION_USER)
    assert results, "no check ran"
    # BASE-008 is "skipped" where /proc/sys is read-only (the lab's containers); it still fails
    # there when the file is wrong.
    bad = [(r["check_id"], r["host"], r["outcome"], r["evidence"][:300]) for r in results
           if r["outcome"] not in ("pass", "not_applicable")
           and not (r["check_id"] == "BASE-008" and r["outcome"] == "skipped")]
    assert not bad, bad


def test_root_cannot_log_in_and_automation_can(lab):
    for name in ("court-srv", "centre-srv"):
        assert not login_works(ADDRESSES[name], "root"), f"root may still log in on {name}"
        assert login_works(ADDRESSES[name], AUTOMATION_USER)


def test_log_line_reaches_the_centre_collector(lab):
    token = f"unitctl-e2e-{uuid.uuid4().hex[:12]}"
    status, output = run_as_automation(ADDRESSES["court-srv"], f"logger -t unitctl-test {token}")
    assert status == 0, output
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, output = run_as_automation(
            ADDRESSES["centre-srv"], f"sudo -n grep -h {token} /var/log/units/court-srv/syslog.log")
        if status == 0 and token in output:
            return
        time.sleep(1)
    pytest.fail(f"the line {token} did not reach /var/log/units/court-srv/syslog.log on centre-srv: {output}")


def test_workstation_gets_time_from_the_unit_server(lab):
    query = ("python3 -c \"import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(3); "
             "s.sendto(b'\\x23'+bytes(47),(sys.argv[1],123)); d=s.recv(48); print(d[0]>>6, d[1])\" "
             + ADDRESSES["court-srv"])
    workstation = ADDRESSES["court-ws1"]
    # A bare workstation is reached as root; one a workstation play has provisioned, as the automation account.
    if login_works(workstation, AUTOMATION_USER):
        status, output = run_as_automation(workstation, query)
    else:
        status, output = run_on(_machine("court-ws1"), query)
    assert status == 0, output
    leap, stratum = (int(value) for value in output.split())
    assert leap != 3, f"court-srv answers unsynchronised (stratum {stratum})"
    assert 2 <= stratum <= 15, f"stratum {stratum}"


def _machine(name: str):
    from unitctl import lab as lab_module  # noqa: PLC0415
    return {machine.name: machine for machine in lab_module.load_plan().machines}[name]


@pytest.mark.parametrize(("role", "role_vars", "message"), [
    ("ssh_server", {"ssh_server_port": "twenty-two", "ssh_server_allow_groups": ["unitctl"]},
     "ssh_server_port"),
    ("log_forwarding", {"log_forwarding_port": 514}, "missing required arguments: log_forwarding_target"),
])
def test_bad_role_input_stops_at_the_start(lab, tmp_path, role, role_vars, message):
    play = tmp_path / "bad-input.yml"
    play.write_text(json.dumps([{
        "name": "Bad input", "hosts": "court-srv", "gather_facts": False, "become": True,
        "roles": [{"role": role, "vars": role_vars}],
    }]))
    before = run_as_automation(ADDRESSES["court-srv"], "sudo -n sha256sum /etc/ssh/sshd_config /etc/rsyslog.d/*.conf")
    env = environment()
    env["ANSIBLE_ROLES_PATH"] = str(ROOT / "roles")
    result = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), str(play)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Validating arguments against arg spec" in output, output
    assert message in output, output
    recap = recap_of(result.stdout)
    assert recap["court-srv"]["changed"] == 0 and recap["court-srv"]["failed"] == 1, output
    after = run_as_automation(ADDRESSES["court-srv"], "sudo -n sha256sum /etc/ssh/sshd_config /etc/rsyslog.d/*.conf")
    assert before == after, "the host changed"


def test_report_timings():
    """Not a check: prints the measured times (converge, rerun) for the record."""
    print("server provisioning timings (s):", {key: round(value, 1) for key, value in TIMINGS.items()})

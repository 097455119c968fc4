"""The built-in lab itself: real machines, real switches (emulated), a real mirror, isolated.

The last test brings the lab down and checks that nothing of it is left; it is marked
`lab_last` so that it runs after every other test of the session (see conftest.py).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import paramiko
import pytest
from netmiko import ConnectHandler

from unitctl import paths
from unitctl import lab
from unitctl.lab import cgroups as labcgroups
from unitctl.lab import machines as labmachines
from unitctl.lab import secrets as labsecrets
from unitctl.lab import net as labnet
from unitctl.lab.proc import LabProcess, run

from lab_helpers import assert_ok, run_on, ssh_client, unit_vault, unitctl

pytestmark = pytest.mark.lab

PLAN = lab.load_plan()
MACHINES = {machine.name: machine for machine in PLAN.machines}
SWITCHES = {switch.name: switch for switch in PLAN.switches}


@pytest.mark.parametrize("name", MACHINES)
def test_host_answers_ssh_as_itself_with_its_recorded_key(lab_up, name):
    machine = MACHINES[name]
    status, output = run_on(machine, "hostname; ip -4 -o addr show dev eth0")
    hostname, address_line = output.splitlines()
    assert hostname == name
    assert f"inet {machine.address}/16" in address_line


@pytest.mark.parametrize("name", MACHINES)
def test_host_has_booted_systemd_with_no_failed_unit(lab_up, name):
    _, state = run_on(MACHINES[name], "systemctl is-system-running")
    _, failed = run_on(MACHINES[name], "systemctl --failed --plain --no-legend")
    assert (state, failed) == ("running", "")
    assert run_on(MACHINES[name], "ls /run/nologin /etc/nologin")[0] != 0, "non-root logins refused"


def test_each_host_has_its_own_cgroups(lab_up):
    """No two machines share a cgroup: each systemd manages only its own (the cause of the
    lab's old 219/CGROUP failures and stop timeouts, see unitctl.lab.cgroups)."""
    seen = {}
    for name, machine in MACHINES.items():
        init = labmachines.init_pid(machine)
        cgroups = Path(f"/proc/{init}/cgroup").read_text()
        systemd_line = next(line for line in cgroups.splitlines() if ":name=systemd:" in line)
        assert systemd_line.endswith(f"/{labcgroups.LAB_CGROUP}/{name}/payload/init.scope"), cgroups
        # Inside, systemd sees its own cgroup as the root.
        assert run_on(machine, "cat /proc/1/cgroup")[1].count(":/init.scope") == 2
        seen[name] = labcgroups.pids(name)
    for name, pids in seen.items():
        others = set().union(*(p for n, p in seen.items() if n != name))
        assert pids and not pids & others


BROKEN_UNIT = """\
[Unit]
Description=A unit that fails on purpose (lab test)
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart={command}
[Install]
WantedBy=multi-user.target
"""


def _install_unit(machine, name: str, command: str) -> None:
    text = BROKEN_UNIT.format(command=command)
    status, output = run_on(machine, f"cat > /etc/systemd/system/{name} <<'EOF'\n{text}EOF\n"
                                     f"systemctl daemon-reload && systemctl enable {name}")
    assert status == 0, output


def test_reboot_restarts_a_unit_that_failed_at_boot_once(lab_up):
    """A unit that fails at boot but starts when tried again: `reboot` (like `up`) names it,
    restarts it, and declares the host ready only then."""
    machine = MACHINES["court-ws2"]
    # Fails on the first start after every boot (/run is empty at boot), starts the second time.
    _install_unit(machine, "unitlab-flaky.service",
                  "/bin/sh -c 'test -e /run/unitlab-flaky || { touch /run/unitlab-flaky; exit 1; }'")
    try:
        output = assert_ok(unitctl("lab", "reboot", "court-ws2"))
        assert "court-ws2: not ready (degraded; failed units: unitlab-flaky.service); " \
               "restarting unitlab-flaky.service" in output
        assert "court-ws2: ready after" in output and "rebooting it" not in output
        assert run_on(machine, "systemctl is-active unitlab-flaky.service") == (0, "active")
    finally:
        run_on(machine, "systemctl disable --now unitlab-flaky.service; "
                        "rm /etc/systemd/system/unitlab-flaky.service; systemctl daemon-reload; "
                        "systemctl reset-failed")


def test_a_host_with_a_unit_that_keeps_failing_is_refused_loudly(lab_up):
    """A unit failing after its restart and after a reboot: the command fails, naming the host,
    the unit and its journal lines, and leaves the host running to be looked at."""
    machine = MACHINES["court-ws2"]
    _install_unit(machine, "unitlab-broken.service", "/bin/sh -c 'echo broken on purpose; exit 3'")
    result = unitctl("lab", "reboot", "court-ws2")
    try:
        assert result.returncode == 1, result.stdout
        assert "restarting unitlab-broken.service" in result.stdout
        assert "rebooting it" in result.stdout
        assert "court-ws2: NOT READY (degraded; failed units: unitlab-broken.service)" in result.stdout
        assert "broken on purpose" in result.stdout  # the unit's own journal lines
        assert "FAILED: not ready: court-ws2" in result.stdout
    finally:
        run_on(machine, "systemctl disable unitlab-broken.service; "
                        "rm /etc/systemd/system/unitlab-broken.service")
    output = assert_ok(unitctl("lab", "reboot", "court-ws2"))
    assert "court-ws2: ready after" in output


def test_reboot_keeps_the_disk_and_renews_the_kernel_state(lab_up):
    machine = MACHINES["court-ws1"]
    # A file on disk, and a route: kernel state of this boot only.
    assert run_on(machine, "echo kept > /var/lib/unitlab-reboot-test && "
                           "ip route add 192.0.2.0/24 dev eth0")[0] == 0
    _, boot_before = run_on(machine, "cat /proc/sys/kernel/random/boot_id")
    assert_ok(unitctl("lab", "reboot", "court-ws1"))
    assert run_on(machine, "cat /var/lib/unitlab-reboot-test") == (0, "kept")
    assert run_on(machine, "cat /proc/sys/kernel/random/boot_id")[1] != boot_before  # a new boot
    assert "192.0.2.0/24" not in run_on(machine, "ip route")[1]
    _, state = run_on(machine, "systemctl is-system-running")
    assert state == "running"
    run_on(machine, "rm /var/lib/unitlab-reboot-test")


def test_unknown_host_key_is_refused(lab_up, tmp_path):
    empty_known_hosts = tmp_path / "known_hosts"
    empty_known_hosts.write_text("")
    machine = PLAN.machines[0]
    with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
        ssh_client(machine.address, known_hosts=str(empty_known_hosts))


@pytest.mark.parametrize("name", SWITCHES)
def test_switch_shows_version_after_enable(lab_up, name):
    # The switch credentials as Ansible reads them: from its unit's own vault, with its unit's password.
    credentials = unit_vault(SWITCHES[name].unit)
    device = {
        "device_type": "cisco_ios", "host": SWITCHES[name].address, "fast_cli": True,
        "username": credentials["vault_network_user"],
        "password": credentials["vault_network_password"],
        "secret": credentials["vault_network_enable_secret"],
        # host key checking stays on: the switch's key is in the lab's known_hosts
        "ssh_strict": True, "system_host_keys": False, "alt_host_keys": True,
        "alt_key_file": str(labsecrets.known_hosts_path()),
    }
    with ConnectHandler(**device) as connection:
        connection.enable()
        assert connection.find_prompt() == f"{name}#"
        assert "Cisco IOS Software" in connection.send_command("show version")


def test_host_has_no_route_out_of_the_lab(lab_up):
    machine = MACHINES["court-ws1"]
    # Only asks the routing table; nothing is sent.
    status, output = run_on(machine, "ip route get 1.1.1.1")
    assert status != 0, output
    assert "unreachable" in output
    assert run_on(machine, "ip route show default") == (0, "")


def test_host_services_other_than_the_mirror_are_out_of_reach(lab_up):
    """A service of the host listening on every address is not reachable from the lab."""
    with socket.socket() as listener:
        listener.bind(("0.0.0.0", 0))
        listener.listen()
        port = listener.getsockname()[1]
        probe = "timeout 3 bash -c 'echo > /dev/tcp/{address}/{port}'"
        status, _ = run_on(MACHINES["court-ws1"], probe.format(address=labnet.MIRROR_ADDRESS, port=port))
        assert status != 0, f"a lab host reached the host's port {port}"
    status, output = run_on(MACHINES["court-ws1"],
                            probe.format(address=labnet.MIRROR_ADDRESS, port=labnet.MIRROR_PORT))
    assert status == 0, output


def test_apt_works_through_the_lab_mirror(lab_up):
    machine = MACHINES["court-srv"]
    _, sources = run_on(machine, "cat /etc/apt/sources.list")
    assert f"http://{labnet.MIRROR_ADDRESS}:3142/debian" in sources
    status, output = run_on(machine, "apt-get update", timeout=300)
    assert status == 0, output
    assert "Err:" not in output


def test_status_says_everything_is_up(lab_up):
    output = assert_ok(unitctl("lab", "status"))
    assert "DOWN" not in output
    assert all(name in output for name in (*MACHINES, *SWITCHES))


def test_second_up_changes_nothing(lab_up):
    before = lab.read_state()
    output = assert_ok(unitctl("lab", "up"))
    assert "already up" in output
    assert lab.read_state() == before


def _dead_process_record() -> dict:
    finished = subprocess.Popen(["true"])
    record = {"pid": finished.pid, "start_time": 1}
    finished.wait()
    return record


def test_up_clears_leftovers_of_an_interrupted_run(lab_up):
    state = lab.read_state()
    # court-ws1: its nspawn killed outright, leaving its namespace, veth and overlay behind.
    LabProcess.from_record(state["machines"]["court-ws1"]).signal(signal.SIGKILL)
    # court-ws2: still running, but the state file lost track of it (a dead PID instead).
    orphans = [p for p in map(LabProcess.of, labnet.netns_pids("ulab-court-ws2")) if p]
    state["machines"]["court-ws2"].update(_dead_process_record())
    lab.write_state(state)
    assert "ulab-court-ws1" in labnet.namespaces()

    output = assert_ok(unitctl("lab", "up"))

    assert "clearing leftover namespace ulab-court-ws1" in output
    assert orphans and not any(p.alive() for p in orphans), "orphan container left running"
    for name in ("court-ws1", "court-ws2"):
        assert run_on(MACHINES[name], "hostname") == (0, name)
    assert_ok(unitctl("lab", "status"))


def _lab_processes() -> list[str]:
    """Command lines of running processes that belong to the lab (by their arguments)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or not LabProcess.of(int(proc.name)):
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "/run/netns/ulab-" in cmdline or "unitctl.lab.switches" in cmdline \
                or str(paths.LAB_STATE_DIR / "mirror") in cmdline:
            found.append(cmdline)
    return found


@pytest.mark.lab_last
@pytest.mark.skipif(os.environ.get("UNITLAB_KEEP") == "1", reason="UNITLAB_KEEP=1 keeps the lab")
def test_down_leaves_nothing_behind(lab_up):
    recorded = lab.read_state()
    assert_ok(unitctl("lab", "down"))

    assert labnet.namespaces() == []
    assert labnet.links() == []
    assert labnet.GUARD_TABLE not in run(["nft", "list", "tables"], timeout=15).stdout
    records = [*recorded["machines"].values(), recorded["switches"], recorded["mirror"]]
    assert not [r for r in records if LabProcess.from_record(r).alive()]
    assert _lab_processes() == []
    mounts = Path("/proc/mounts").read_text()
    assert str(paths.LAB_STATE_DIR) not in mounts
    assert not (paths.LAB_STATE_DIR / "machines").exists()
    # What makes the next `up` fast and stable stays.
    assert labsecrets.lab_key_path().exists() and labsecrets.credentials_path().exists()
    assert unitctl("lab", "status").returncode != 0
    assert lab.read_state() == {}

"""The built-in lab: the lab province's units booted as real machines on this one host.

`up` boots every Linux host of `inventory/lab/units/` as a systemd-nspawn machine and serves every
IOS switch from the switch emulator, all on the lab bridge (see `labnet` for the addressing),
with the lab's package mirror on the bridge address. UNITLAB_UNITS_DIR names another folder of
units to boot instead (paths.LAB_UNITS_DIR), such as a province of `unitctl lab generate`. `down` removes all of it but the caches
and the lab's keys and secrets. `status` says what answers.

What is running is recorded in a JSON state file (PIDs with their start times, namespaces,
links), so `up` can tell a healthy lab (and leave it alone) from the leftovers of an interrupted
run (which it clears: stale namespaces, links, processes and overlay directories).
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import shutil
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from unitctl import paths
from unitctl.files import write_atomic
from unitctl.lab import base as labbase
from unitctl.lab import cgroups as labcgroups
from unitctl.lab import machines as labmachines
from unitctl.lab import mirror as labmirror
from unitctl.lab import net as labnet
from unitctl.lab import secrets as labsecrets
from unitctl.lab import services as labservices
from unitctl.lab import switches as labswitches
from unitctl.inventory.load import load_units_dir
from unitctl.lab.machines import Machine, Readiness, boot, prepare_upper, remove_upper
from unitctl.lab.proc import LabError, LabProcess, stop
from unitctl.inventory.policy import load_policy

LINUX_FUNCTIONS = ("unit_server", "centre_server", "cms_client")
EMULATED_PLATFORMS = ("ios",)
# Bounded waits of a boot: sshd answering, then systemd done starting (is-system-running).
BOOT_TIMEOUT_S = 120
STARTUP_TIMEOUT_S = 120
MACHINE_STOP_GRACE_S = 30
SERVICE_STOP_GRACE_S = 5


@dataclass(frozen=True)
class Switch:
    name: str
    address: str
    netmask: str | None = None   # of the management VLAN's subnet: the switch is staged with it
    gateway: str | None = None   # the management VLAN's gateway, staged as its default gateway
    unit: str = ""               # its unit's id: the switch takes that unit's credentials


@dataclass(frozen=True)
class LabPlan:
    """What the lab inventory asks the lab to run."""

    machines: tuple[Machine, ...]
    switches: tuple[Switch, ...]
    # The non-root account whose login proves a provisioned host ready (province policy).
    automation_user: str = "unitctl"


def say(message: str) -> None:
    print(f"lab: {message}", flush=True)


def load_plan(units_dir: Path | None = None) -> LabPlan:
    units_dir = Path(units_dir or paths.LAB_UNITS_DIR)
    if not units_dir.is_dir():
        raise LabError(f"the lab's folder of units {units_dir} does not exist"
                       + (" (UNITLAB_UNITS_DIR)" if units_dir == paths.LAB_UNITS_DIR != paths.DEFAULT_LAB_UNITS_DIR
                          else ""))
    province = load_units_dir(units_dir)
    policy = load_policy(paths.INVENTORY_DIR, province, lab=True)
    default_release = policy.get("province_debian_release_default", labbase.DEFAULT_RELEASE)
    machines, switches = [], []
    for unit, host in province.all_hosts():
        if host.get("function") in LINUX_FUNCTIONS:
            machines.append(Machine(host["name"], host["address"], unit.id,
                                    int(host.get("debian_release") or default_release)))
        elif host.get("function") == "network_device":
            if host.get("platform") in EMULATED_PLATFORMS:
                switches.append(Switch(host["name"], host["address"], *_management_vlan(unit, host), unit=unit.id))
    if any(machine.netns == labswitches.netns() for machine in machines):
        raise LabError(f"a lab host may not be named {labswitches.NETNS_SUFFIX!r}")
    return LabPlan(tuple(machines), tuple(switches),
                   policy.get("province_automation_user", "unitctl"))


def _management_vlan(unit, host: dict) -> tuple[str | None, str | None]:
    """The netmask and gateway of the VLAN a device's address is in (its management VLAN)."""
    for vlan in unit.vlans:
        if vlan.get("id") == host.get("vlan") and vlan.get("subnet"):
            return str(ipaddress.ip_network(vlan["subnet"], strict=False).netmask), vlan.get("gateway")
    return None, None


# --- state --------------------------------------------------------------------------------

def state_path() -> Path:
    return paths.LAB_STATE_DIR / "state.json"


def read_state() -> dict:
    try:
        return json.loads(state_path().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def write_state(state: dict) -> None:
    write_atomic(state_path(), (json.dumps(state, indent=2, sort_keys=True) + "\n").encode())


@contextmanager
def lab_lock():
    """One lab command at a time on this machine."""
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, systemd-nspawn)")
    paths.LAB_STATE_DIR.mkdir(parents=True, exist_ok=True)
    with (paths.LAB_STATE_DIR / "lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise LabError("another `unitctl lab` command is running") from error
        yield


# --- health -------------------------------------------------------------------------------

def _process(record: dict | None) -> LabProcess | None:
    process = LabProcess.from_record(record)
    return process if process is not None and process.alive() else None


def mirror_healthy(state: dict) -> bool:
    process = _process(state.get("mirror"))
    return process is not None and labmirror.listening(process)


def switches_healthy(state: dict, plan: LabPlan) -> bool:
    record = state.get("switches") or {}
    if not plan.switches:
        return not record
    return (_process(record) is not None
            and record.get("names") == [switch.name for switch in plan.switches]
            and all(labnet.ssh_answers(switch.address) for switch in plan.switches))


def machine_healthy(state: dict, machine: Machine) -> bool:
    record = state.get("machines", {}).get(machine.name)
    return (_process(record) is not None and record.get("address") == machine.address
            and labnet.ssh_answers(machine.address))


# --- up -----------------------------------------------------------------------------------

def up() -> int:
    with lab_lock():
        plan = load_plan()
        if paths.LAB_UNITS_DIR != paths.DEFAULT_LAB_UNITS_DIR:
            say(f"the units of {paths.LAB_UNITS_DIR} (UNITLAB_UNITS_DIR), not the lab province's own")
        return _up(plan)


def _up(plan: LabPlan) -> int:
    started = time.monotonic()
    state = read_state()
    keep_mirror = mirror_healthy(state)
    keep_switches = switches_healthy(state, plan)
    healthy = {m.name for m in plan.machines if machine_healthy(state, m)}
    recorded = set(state.get("machines", {}))
    if keep_mirror and keep_switches and healthy == recorded == {m.name for m in plan.machines}:
        labnet.ensure_guard()  # cheap, and a host firewall reload may have dropped it
        say(f"already up: {len(plan.machines)} hosts, {len(plan.switches)} switches, mirror")
        return 0
    _stop_unhealthy(state, plan, keep_mirror, keep_switches, healthy)
    _clear_leftovers(plan, keep_switches, healthy)
    bases = {release: labbase.ensure_base(say, release) for release in sorted({m.release for m in plan.machines})}
    _write_access_files(plan)
    labnet.ensure_bridge()
    if not keep_mirror:
        state["mirror"] = labmirror.start().record()
        write_state(state)
        say(f"mirror listening on {labmirror.MIRROR_ADDRESS}:{labmirror.PORT}")
    if not keep_switches:
        _start_switches(state, plan)
    pending = [m for m in plan.machines if m.name not in healthy]
    failed = _boot_machines(state, pending, bases, _etc_hosts(plan), plan.automation_user)
    if not failed:
        say(f"up in {time.monotonic() - started:.1f} s")
    return _verdict(failed)


def _verdict(failed: list[str]) -> int:
    if not failed:
        return 0
    say(f"FAILED: not ready: {', '.join(failed)} (see above; boot logs in "
        f"{paths.LAB_STATE_DIR / 'logs'})")
    return 1


def _stop_unhealthy(state: dict, plan: LabPlan, keep_mirror: bool, keep_switches: bool,
                    healthy: set[str]) -> None:
    """Stop recorded processes that are alive but not answering, or no longer planned."""
    machines = state.setdefault("machines", {})
    doomed = [_process(record) for name, record in machines.items() if name not in healthy]
    stop([p for p in doomed if p], MACHINE_STOP_GRACE_S)
    for name in [name for name in machines if name not in healthy]:
        del machines[name]
    if not keep_switches:
        _stop_service(state.pop("switches", None))
    if not keep_mirror:
        _stop_service(state.pop("mirror", None))
        orphan = labmirror.orphan()
        if orphan:
            stop([orphan], SERVICE_STOP_GRACE_S)
    write_state(state)


def _stop_service(record: dict | None) -> None:
    process = _process(record)
    if process:
        stop([process], SERVICE_STOP_GRACE_S)


def _clear_leftovers(plan: LabPlan, keep_switches: bool, healthy: set[str]) -> None:
    """Delete lab namespaces, links and overlays that no healthy component is using."""
    keep = {labnet.netns_name(name) for name in healthy}
    if keep_switches and plan.switches:
        keep.add(labswitches.netns())
    for netns in labnet.namespaces():
        if netns not in keep:
            say(f"clearing leftover namespace {netns}")
            _kill_namespace(netns)
    keep_links = {labnet.BRIDGE} | {labnet.link_name(ns.removeprefix("ulab-")) for ns in keep}
    for link in labnet.links():
        if link not in keep_links:
            labnet.delete_link(link)
    for name in labcgroups.leftover_machines() - healthy:
        labcgroups.remove(name)
    for machine in plan.machines:
        if machine.name not in healthy:
            remove_upper(machine)


def _kill_namespace(netns: str) -> None:
    """Kill what still runs in a lab namespace (a killed run's orphans), then delete it."""
    processes = [p for p in map(LabProcess.of, labnet.netns_pids(netns)) if p]
    stop(processes, grace_s=0)
    labnet.delete_namespace(netns)


def _write_access_files(plan: LabPlan) -> None:
    """Keys, known_hosts, and each unit's vault (switch credentials and service secrets, each unit
    with its own vault password), as Ansible will read them."""
    labsecrets.lab_public_key()
    entries = [(m.name, m.address, labsecrets.host_public_key(m.name)) for m in plan.machines]
    entries += [(s.name, s.address, labsecrets.host_public_key(s.name)) for s in plan.switches]
    labsecrets.write_known_hosts(entries)
    labservices.ensure_unit_vaults()


def _start_switches(state: dict, plan: LabPlan) -> None:
    if not plan.switches:
        return
    labnet.create_namespace(labswitches.NETNS_SUFFIX, [s.address for s in plan.switches])
    process = labswitches.start(
        [{"name": s.name, "address": s.address, "netmask": s.netmask, "gateway": s.gateway,
          "host_key": str(labsecrets.host_key_path(s.name)), "unit": s.unit} for s in plan.switches],
        labsecrets.credentials_path())
    state["switches"] = {**process.record(), "names": [s.name for s in plan.switches],
                         "netns": labswitches.netns(),
                         "link": labnet.link_name(labswitches.NETNS_SUFFIX)}
    write_state(state)
    say(f"switches answering: {', '.join(s.name for s in plan.switches)}")


def _etc_hosts(plan: LabPlan) -> str:
    lines = ["127.0.0.1\tlocalhost"]
    lines += [f"{host.address}\t{host.name}" for host in (*plan.machines, *plan.switches)]
    return "\n".join(lines) + "\n"


def _boot_machines(state: dict, machines: list[Machine], bases: dict[int, Path],
                   etc_hosts: str | None, automation_user: str) -> list[str]:
    """Boot the machines at once (fresh when `etc_hosts` is given, else from the disk they
    have) and bring each to readiness; returns the names of those that did not get there.
    `bases`: Debian major release -> its base root filesystem (a machine boots its release's)."""
    if not machines:
        return []
    processes = {}
    for machine in machines:
        labnet.create_namespace(machine.name, [machine.address])
        if etc_hosts is not None:
            prepare_upper(machine, etc_hosts)
        processes[machine.name] = _start(state, machine, bases[machine.release])
    say(f"booting {len(machines)} hosts: {', '.join(m.name for m in machines)}")
    started = time.monotonic()
    failed = []
    with ThreadPoolExecutor(max_workers=len(machines)) as pool:
        futures = {m.name: pool.submit(_bring_ready, m, processes[m.name], bases[m.release], automation_user)
                   for m in machines}
        for machine in machines:
            try:
                process, ready, log = futures[machine.name].result()
            except Exception as error:  # noqa: BLE001  (report every host, then fail)
                say(f"{machine.name}: did not come up: {_describe_error(error)}")
                failed.append(machine.name)
                continue
            for line in log:
                say(f"{machine.name}: {line}")
            _record(state, machine, process, bases[machine.release])
            if ready.ready:
                say(f"{machine.name}: ready after {time.monotonic() - started:.1f} s")
            else:
                failed.append(machine.name)
                say(f"{machine.name}: NOT READY ({ready.describe()}); it is left running to be "
                    f"looked at. Its journal:")
                for line in labmachines.failed_unit_journal(machine, ready.failed_units):
                    print(line, flush=True)
                for line in labmachines.lab_faults(machine):
                    print(f"  lab fault: {line}", flush=True)
    return failed


def _describe_error(error: BaseException) -> str:
    """An unexpected error in one line, with the file name it concerns and the place in the
    lab's code it came from (repr() of an OSError leaves the file name out)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{where}"


def _start(state: dict, machine: Machine, base: Path) -> LabProcess:
    process = boot(machine, base)
    _record(state, machine, process, base)
    return process


def _record(state: dict, machine: Machine, process: LabProcess, base: Path) -> None:
    # The base is recorded: a host upgraded in place (playbooks/upgrade_release.yml) keeps booting
    # its disk over the base it was made from, whatever release its inventory names since.
    state["machines"][machine.name] = {
        **process.record(), "address": machine.address, "netns": machine.netns,
        "link": labnet.link_name(machine.name), "upper": str(machine.upper), "base": str(base)}
    write_state(state)


def _bring_ready(machine: Machine, process: LabProcess, base: Path,
                 automation_user: str) -> tuple[LabProcess, Readiness, list[str]]:
    """Wait for the machine to be ready; if it is not: restart its failed units once, then
    reboot it once (same disk). Returns its process, its last readiness and what was done."""
    log: list[str] = []
    ready = _await_ready(machine, automation_user)
    if ready.ready:
        return process, ready, log
    if ready.failed_units:
        log.append(f"not ready ({ready.describe()}); restarting {', '.join(ready.failed_units)}")
        for line in labmachines.lab_faults(machine):
            log.append(f"  lab fault: {line}")
        labmachines.restart_failed(machine, ready.failed_units)
        ready = _await_ready(machine, automation_user)
        if ready.ready:
            return process, ready, log
    log.append(f"not ready ({ready.describe()}); rebooting it")
    process = _reboot(machine, process, base)
    return process, _await_ready(machine, automation_user), log


def _await_ready(machine: Machine, automation_user: str) -> Readiness:
    labmachines.wait_sshd(machine, BOOT_TIMEOUT_S)
    return labmachines.readiness(machine, STARTUP_TIMEOUT_S, automation_user)


def _reboot(machine: Machine, process: LabProcess, base: Path) -> LabProcess:
    """Power the machine off cleanly and boot it again from the same disk."""
    _power_off(machine, process)
    _renew_namespace(machine)
    return boot(machine, base)


def _renew_namespace(machine: Machine) -> None:
    """A new network namespace for a machine that boots again: as on a real restart, nothing
    the old boot loaded into the kernel (firewall rules, sysctls, routes) is still there."""
    labnet.delete_namespace(machine.netns)
    labnet.create_namespace(machine.name, [machine.address])


def _power_off(machine: Machine, process: LabProcess | None) -> None:
    """Stop the machine (nspawn turns SIGTERM into an orderly shutdown inside) and remove its
    cgroups, killing whatever is left in them."""
    if process is not None:
        stop([process], MACHINE_STOP_GRACE_S)
    labcgroups.remove(machine.name)


# --- down ---------------------------------------------------------------------------------

def down() -> int:
    with lab_lock():
        return _down()


def _down() -> int:
    started = time.monotonic()
    state = read_state()
    machines = [p for p in map(_process, state.get("machines", {}).values()) if p]
    if machines:
        say(f"powering off {len(machines)} hosts")
        stop(machines, MACHINE_STOP_GRACE_S)
    _stop_service(state.get("switches"))
    _stop_service(state.get("mirror"))
    orphan_mirror = labmirror.orphan()
    if orphan_mirror:
        stop([orphan_mirror], SERVICE_STOP_GRACE_S)
    for netns in labnet.namespaces():
        _kill_namespace(netns)
    for link in labnet.links():
        labnet.delete_link(link)
    for name in labcgroups.leftover_machines():
        labcgroups.remove(name)
    labnet.remove_guard()
    _remove_runtime_files()
    say(f"down in {time.monotonic() - started:.1f} s")
    return 0


def _remove_runtime_files() -> None:
    """Everything `up` makes afresh; the caches, keys, secrets and logs stay."""
    for directory in (paths.LAB_STATE_DIR / "machines", labmirror.state_dir()):
        if directory.exists():
            shutil.rmtree(directory)
    for path in (labswitches.config_path(), state_path()):
        path.unlink(missing_ok=True)


# --- one host -----------------------------------------------------------------------------

def _one_host(plan: LabPlan, name: str) -> Machine:
    machines = {m.name: m for m in plan.machines}
    if name not in machines:
        raise LabError(f"no lab host {name} (lab hosts: {', '.join(machines)})")
    return machines[name]


def stop_host(name: str) -> int:
    """Power off one lab host, to rehearse an outage; `up` boots it again as a new machine."""
    with lab_lock():
        machine = _one_host(load_plan(), name)
        process = _process(read_state().get("machines", {}).get(name))
        if process is None:
            say(f"{name}: already down")
            return 0
        _power_off(machine, process)
        say(f"{name}: powered off; `unitctl lab up` boots it again, fresh")
        return 0


def reboot_host(name: str) -> int:
    """Reboot one lab host keeping its disk, as a real server restarts: an orderly shutdown,
    then a boot from the same upper layer, brought to readiness as `up` does. Exit status 1
    when the host does not come back ready (its failed units and journal are printed)."""
    with lab_lock():
        plan = load_plan()
        machine = _one_host(plan, name)
        state = read_state()
        process = _process(state.get("machines", {}).get(name))
        if process is None or not machine.upper.is_dir():
            raise LabError(f"{name} is not running; `unitctl lab up` boots it")
        say(f"{name}: rebooting (disk kept)")
        _power_off(machine, process)
        labnet.delete_namespace(machine.netns)
        recorded = state["machines"][name].get("base")
        base = Path(recorded) if recorded else labbase.ensure_base(say, machine.release)
        failed = _boot_machines(state, [machine], {machine.release: base}, None, plan.automation_user)
        return _verdict(failed)


# --- status -------------------------------------------------------------------------------

def status() -> int:
    plan, state = load_plan(), read_state()
    rows = [("mirror", f"{labmirror.MIRROR_ADDRESS}:{labmirror.PORT}", mirror_healthy(state))]
    rows += [(m.name, m.address, machine_healthy(state, m)) for m in plan.machines]
    switches_up = _process(state.get("switches")) is not None
    rows += [(s.name, s.address, switches_up and labnet.ssh_answers(s.address))
             for s in plan.switches]
    for name, address, is_up in rows:
        print(f"{name:<14} {address:<18} {'up' if is_up else 'DOWN'}")
    return 0 if all(is_up for _, _, is_up in rows) else 1

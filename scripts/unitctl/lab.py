"""The built-in lab: the lab province's units booted as real machines on this one host.

`up` boots every Linux host of `inventory/lab/units/` as a systemd-nspawn machine and serves every
IOS switch from the switch emulator, all on the lab bridge (see `labnet` for the addressing),
with the lab's package mirror on the bridge address. `down` removes all of it but the caches
and the lab's keys and secrets. `status` says what answers.

What is running is recorded in a JSON state file (PIDs with their start times, namespaces,
links), so `up` can tell a healthy lab (and leave it alone) from the leftovers of an interrupted
run (which it clears: stale namespaces, links, processes and overlay directories).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from unitctl import labbase, labmirror, labnet, labsecrets, labservices, labswitches, paths
from unitctl.inventory import load_units_dir
from unitctl.labmachines import (BOOT_STATES_OK, Machine, boot, prepare_upper, remove_upper,
                                 wait_booted)
from unitctl.labproc import LabError, LabProcess, stop

LINUX_FUNCTIONS = ("unit_server", "centre_server", "cms_client")
EMULATED_PLATFORMS = ("ios",)
BOOT_TIMEOUT_S = 120
MACHINE_STOP_GRACE_S = 30
SERVICE_STOP_GRACE_S = 5


@dataclass(frozen=True)
class Switch:
    name: str
    address: str


@dataclass(frozen=True)
class LabPlan:
    """What the lab inventory asks the lab to run."""

    machines: tuple[Machine, ...]
    switches: tuple[Switch, ...]


def say(message: str) -> None:
    print(f"lab: {message}", flush=True)


def load_plan(units_dir: Path | None = None) -> LabPlan:
    province = load_units_dir(units_dir or paths.LAB_UNITS_DIR)
    machines, switches = [], []
    for unit, host in province.all_hosts():
        if host.get("function") in LINUX_FUNCTIONS:
            machines.append(Machine(host["name"], host["address"], unit.id))
        elif host.get("function") == "network_device":
            if host.get("platform") in EMULATED_PLATFORMS:
                switches.append(Switch(host["name"], host["address"]))
    if any(machine.netns == labswitches.netns() for machine in machines):
        raise LabError(f"a lab host may not be named {labswitches.NETNS_SUFFIX!r}")
    return LabPlan(tuple(machines), tuple(switches))


# --- state --------------------------------------------------------------------------------

def state_path() -> Path:
    return paths.LAB_STATE_DIR / "state.json"


def read_state() -> dict:
    try:
        return json.loads(state_path().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def write_state(state: dict) -> None:
    temporary = state_path().with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    temporary.replace(state_path())


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
        return _up(load_plan())


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
    base = labbase.ensure_base(say)
    _write_access_files(plan)
    labnet.ensure_bridge()
    if not keep_mirror:
        state["mirror"] = labmirror.start().record()
        write_state(state)
        say(f"mirror listening on {labmirror.MIRROR_ADDRESS}:{labmirror.PORT}")
    if not keep_switches:
        _start_switches(state, plan)
    pending = [m for m in plan.machines if m.name not in healthy]
    for machine in pending:  # a rebooted lab host is a new machine: Ansible must not trust old facts
        (paths.PROJECT_ROOT / ".ansible" / "facts" / machine.name).unlink(missing_ok=True)
    failed = _boot_machines(state, pending, base, _etc_hosts(plan))
    if failed:
        say(f"FAILED to boot: {', '.join(failed)} (logs in {paths.LAB_STATE_DIR / 'logs'})")
        return 1
    say(f"up in {time.monotonic() - started:.1f} s")
    return 0


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
    for machine in plan.machines:
        if machine.name not in healthy:
            remove_upper(machine)


def _kill_namespace(netns: str) -> None:
    """Kill what still runs in a lab namespace (a killed run's orphans), then delete it."""
    processes = [p for p in map(LabProcess.of, labnet.netns_pids(netns)) if p]
    stop(processes, grace_s=0)
    labnet.delete_namespace(netns)


def _write_access_files(plan: LabPlan) -> None:
    """Keys, known_hosts, switch credentials and their vault file, as Ansible will read them."""
    labsecrets.lab_public_key()
    entries = [(m.name, m.address, labsecrets.host_public_key(m.name)) for m in plan.machines]
    entries += [(s.name, s.address, labsecrets.host_public_key(s.name)) for s in plan.switches]
    labsecrets.write_known_hosts(entries)
    credentials = labsecrets.network_credentials()
    labsecrets.ensure_vault_file(credentials)
    labservices.ensure_services_vault()


def _start_switches(state: dict, plan: LabPlan) -> None:
    if not plan.switches:
        return
    labnet.create_namespace(labswitches.NETNS_SUFFIX, [s.address for s in plan.switches])
    process = labswitches.start(
        [{"name": s.name, "address": s.address,
          "host_key": str(labsecrets.host_key_path(s.name))} for s in plan.switches],
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


def _boot_machines(state: dict, machines: list[Machine], base: Path,
                   etc_hosts: str) -> list[str]:
    """Boot the machines at once and wait for them all; returns the names that failed."""
    if not machines:
        return []
    for machine in machines:
        labnet.create_namespace(machine.name, [machine.address])
        prepare_upper(machine, etc_hosts)
        process = boot(machine, base)
        state["machines"][machine.name] = {
            **process.record(), "address": machine.address, "netns": machine.netns,
            "link": labnet.link_name(machine.name), "upper": str(machine.upper)}
        write_state(state)
    say(f"booting {len(machines)} hosts: {', '.join(m.name for m in machines)}")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(machines)) as pool:
        futures = {m.name: pool.submit(wait_booted, m, BOOT_TIMEOUT_S) for m in machines}
        failed = []
        for name, future in futures.items():
            try:
                system_state, failed_units = future.result()
            except Exception as error:  # noqa: BLE001  (report every host, then fail)
                say(f"{name}: did not come up: {error!r}")
                failed.append(name)
                continue
            detail = f" (failed units: {', '.join(failed_units)})" if failed_units else ""
            say(f"{name}: {system_state} after {time.monotonic() - started:.1f} s{detail}")
            if system_state not in BOOT_STATES_OK:
                failed.append(name)
    return failed


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

def stop_host(name: str) -> int:
    """Power off one lab host, to rehearse an outage; `up` boots it again as a new machine."""
    with lab_lock():
        plan = load_plan()
        names = [m.name for m in plan.machines]
        if name not in names:
            raise LabError(f"no lab host {name} (lab hosts: {', '.join(names)})")
        process = _process(read_state().get("machines", {}).get(name))
        if process is None:
            say(f"{name}: already down")
            return 0
        stop([process], MACHINE_STOP_GRACE_S)
        say(f"{name}: powered off; `unitctl lab up` boots it again, fresh")
        return 0


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

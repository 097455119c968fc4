"""Wiring for the compliance suite: which hosts, how to reach them, what each check found.

    pytest tests/compliance                                  # the lab province (or UNITCTL_INVENTORY's,
                                                             # or the one `unitctl use` set)
    pytest tests/compliance --unit lab-court                 # one unit
    pytest tests/compliance --inventory inventory/qom.unitctl.yml --ssh-user me
    pytest tests/compliance --hosts=paramiko://court-srv --ssh-config=...  # plain testinfra
    pytest tests/compliance --backend ansible                # through Ansible (slow, for comparison)

Network devices (test_network_devices.py) are checked from their running configs, read once per
run through unitctl.network (network_facts.py), not through testinfra.

Host keys are always checked against a known_hosts file; testinfra's own paramiko backend would
only warn about an unknown key.

`--backend ansible` sends the same checks through testinfra's ansible backend instead, every
command an `ansible` ad-hoc run on the inventory (the project's ansible.cfg, the vault password
client, become as the inventory says, host keys checked by OpenSSH against the lab's known_hosts).
It is there to compare (tests/benchmarks/bench_evaluation.py), not for evaluations: it is tens of
times slower. testinfra's shortcut (an ssh:// host made from `ansible-inventory --list`) is not
used: ansible-core 2.19 lists templated and unsafe-marked values it cannot read
(`ansible_host` as `{"__ansible_unsafe": ...}`, key paths with `{{ unitlab_state_dir }}`), so the
backend runs with testinfra's `force_ansible`.
"""

from __future__ import annotations

import getpass
import os
import re
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import network_facts
import paramiko
import pytest

from unitctl import compliance_progress, remote_shell
from unitctl.compliance import (
    Check,
    Result,
    checked_client,
    lab_known_hosts,
    network_hosts,
    target_hosts,
    write_results,
    write_ssh_config,
)
from unitctl.inventory.choice import InventoryChoiceError, choose
from unitctl.inventory.load import load_source
from unitctl.paths import LAB_INVENTORY, LAB_STATE_DIR, PROJECT_ROOT
from unitctl.inventory.policy import load_policy


class HostUnreachable(Exception):
    """The host did not answer SSH: its checks are reported unreachable, never passed."""


def pytest_addoption(parser):
    group = parser.getgroup("unitctl compliance")
    group.addoption("--inventory", default=None,
                    help="inventory source (*.unitctl.yml; default: UNITCTL_INVENTORY, else the one `unitctl use` "
                         "set, else the lab's)")
    group.addoption("--unit", action="append", default=[], help="check only this unit (repeatable)")
    group.addoption("--only-host", action="append", default=[],
                    help="check only this host (inventory name; repeatable)")
    group.addoption("--ssh-user", default=None, help="SSH user (lab: root)")
    group.addoption("--known-hosts", default=None, help="known_hosts file (lab: the lab's own)")
    group.addoption("--compliance-json", default=None, help="write the results here as JSON")
    group.addoption("--backend", choices=("paramiko", "ansible"), default="paramiko",
                    help="paramiko (default) or testinfra's ansible backend, every command an `ansible` run "
                         "(slow; for comparison)")
    group.addoption("--commands", choices=("shell", "exec"), default="shell",
                    help="paramiko backend: shell (default) runs a host's commands through one long-lived shell per "
                         "account (unitctl.remote_shell); exec opens a channel per command as testinfra does (slower; "
                         "for comparison)")
    group.addoption("--progress", action="store_true",
                    help="one line per host as its checks finish (counts, elapsed), instead of a dot per check")


def pytest_configure(config):
    config.addinivalue_line("markers", "compliance_check(check): a compliance check with its metadata")
    try:  # the same choice as unitctl's: --inventory, UNITCTL_INVENTORY, the checkout's setting, the lab
        config.option.inventory = str(choose(config.option.inventory, LAB_INVENTORY).path)
    except InventoryChoiceError as error:
        raise pytest.UsageError(str(error)) from error
    source = load_source(config.option.inventory)
    is_lab, province = source.lab, source.province
    only = set(config.option.only_host)
    targets = [target for target in target_hosts(province, config.option.unit or None)
               if not only or target.name in only]
    devices = [device for device in network_hosts(province, config.option.unit or None)
               if not only or device.name in only]
    config.stash[TARGETS] = {target.name: target for target in targets + devices}
    config.stash[NETWORK_DEVICES] = [device.name for device in devices]
    network_facts.configure(config)
    config.stash[FALLBACK_USERS] = ["root"] if is_lab and not config.option.ssh_user else []
    config.stash[KNOWN_HOSTS] = Path(
        config.option.known_hosts or (lab_known_hosts() if is_lab else Path.home() / ".ssh" / "known_hosts")
    )
    config.pluginmanager.register(ResultRecorder(config), "unitctl-compliance-results")
    if config.option.progress:
        compliance_progress.register(config, _check_target)
    if config.option.hosts is None and config.option.backend == "ansible":
        config.option.ansible_inventory = str(source.path)
        config.option.force_ansible = True
        os.environ.setdefault("ANSIBLE_CONFIG", str(PROJECT_ROOT / "ansible.cfg"))
        # testinfra calls `ansible` and `ansible-inventory` by name: the ones beside this interpreter
        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        config.option.hosts = ",".join(f"ansible://{target.name}" for target in targets)
    if config.option.hosts is None:  # hosts come from the inventory, unless named with --hosts
        identity = LAB_STATE_DIR / "ssh" / "id_ed25519" if is_lab else None
        # The lab connects as the automation account, as Ansible does; a bare lab host has only root.
        user = config.option.ssh_user or ("unitctl" if is_lab else getpass.getuser())
        ssh_config = Path(tempfile.mkdtemp(prefix="unitctl-compliance-")) / "ssh_config"
        config.option.ssh_config = str(write_ssh_config(ssh_config, targets, user, identity))
        config.option.hosts = ",".join(f"paramiko://{target.name}" for target in targets)


TARGETS = pytest.StashKey[dict]()
NETWORK_DEVICES = pytest.StashKey[list]()
KNOWN_HOSTS = pytest.StashKey[Path]()
FALLBACK_USERS = pytest.StashKey[list]()


@pytest.fixture(scope="module")
def host(_testinfra_host, request):
    """testinfra's host, connected with host key checking on."""
    backend = _testinfra_host.backend
    if backend.NAME == "paramiko" and not _connected(backend):
        cfg = {}
        if backend.ssh_config:
            parsed = paramiko.SSHConfig.from_path(backend.ssh_config).lookup(backend.host.name)
            cfg = {"hostname": parsed.get("hostname", backend.host.name),
                   "user": backend.host.user or parsed.get("user"),
                   "key": (parsed.get("identityfile") or [backend.ssh_identity_file])[0]}
        users = [cfg.get("user") or backend.host.user] + request.config.stash[FALLBACK_USERS]
        errors = []
        for user in users:
            try:
                backend.__dict__["client"] = checked_client(
                    cfg.get("hostname", backend.host.name), user,
                    cfg.get("key") or backend.ssh_identity_file, request.config.stash[KNOWN_HOSTS],
                )
                break
            except paramiko.AuthenticationException as error:  # try the next account
                errors.append(f"{user}: {error}")
            except Exception as error:  # refused, timeout, unknown host key: the host is unreachable
                raise HostUnreachable(f"{backend.host.name}: {type(error).__name__}: {error}") from error
        else:
            raise HostUnreachable(f"{backend.host.name}: no account accepted the key ({'; '.join(errors)})")
    if backend.NAME == "paramiko" and request.config.option.commands == "shell":
        remote_shell.route_testinfra_backend(backend)
    return _testinfra_host


def _connected(backend) -> bool:
    """A live connection from an earlier module: one connection per host per process, not one per module."""
    client = backend.__dict__.get("client")  # never testinfra's own, unchecked, connect
    transport = client.get_transport() if client is not None else None
    return transport is not None and transport.is_active()


def pytest_unconfigure(config):
    network_facts.unconfigure(config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist: workers share the controller's folder for the network devices' facts."""
    network_facts.configure_node(node)


def pytest_generate_tests(metafunc):
    """A test taking `network_device` runs once per network device of the units checked."""
    if "network_device" in metafunc.fixturenames:
        names = metafunc.config.stash[NETWORK_DEVICES]
        metafunc.parametrize("network_device", names, ids=names, indirect=True)


@pytest.fixture
def network_device(request):
    """What the device's running config shows (unitctl.network.audit.DeviceFacts)."""
    facts = network_facts.device_facts(request.config, request.param, request.config.option.unit)
    if not facts.reachable:
        raise HostUnreachable(f"{facts.device}: {facts.message}")
    return facts


def _target_of(item):
    params = item.callspec.params if hasattr(item, "callspec") else {}
    if isinstance(params.get("network_device"), str):
        return item.config.stash[TARGETS].get(params["network_device"])
    testinfra_host = params.get("_testinfra_host")
    if testinfra_host is None:
        return None
    spec = testinfra_host.backend.host  # the ansible backend keeps the inventory name, the others a HostSpec
    return item.config.stash[TARGETS].get(spec if isinstance(spec, str) else spec.name)


def _check_target(item) -> tuple[str, str] | None:
    """(unit id, host) of a compliance check, None for any other item: what has a result."""
    target = _target_of(item) if item.get_closest_marker("compliance_check") else None
    return (target.unit_id, target.name) if target is not None else None


@pytest.fixture(autouse=True)
def _only_where_it_applies(request):
    marker = request.node.get_closest_marker("compliance_check")
    target = _target_of(request.node)
    if marker and target and target.function not in marker.args[0].applies_to:
        pytest.skip(f"not applicable: {marker.args[0].id} does not apply to a {target.function}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("compliance_check")
    target = _target_of(item)
    if marker is None or target is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        meta: Check = marker.args[0]
        if call.excinfo is not None and call.excinfo.errisinstance(HostUnreachable):
            state = "unreachable"
        elif report.skipped:
            state = "not_applicable" if "not applicable" in str(report.longrepr) else "skipped"
        elif report.passed:
            state = "pass"
        elif report.when == "call" and call.excinfo is not None and call.excinfo.errisinstance(AssertionError):
            state = "fail"
        else:
            state = "error"
        evidence = "" if report.passed else (call.excinfo.exconly() if call.excinfo else str(report.longrepr))
        report.user_properties.append(("compliance", {
            "check": asdict(meta), "host": target.name, "unit_id": target.unit_id, "outcome": state,
            "evidence": evidence, "seconds": round(report.duration, 3),
        }))


class ResultRecorder:
    """Gathers what every check found (on the controller, also under pytest-xdist)."""

    def __init__(self, config):
        self.config = config
        self.found: list[dict] = []
        self.facts: dict[str, dict[str, dict]] = {}

    def pytest_runtest_logreport(self, report):
        self.found += [value for key, value in report.user_properties if key == "compliance"]
        for key, value in report.user_properties:
            if key == "fact":
                self.facts.setdefault(value["unit_id"], {}).setdefault(value["host"], {})[value["name"]] = value["value"]

    def pytest_sessionfinish(self, session):
        path = self.config.option.compliance_json
        if not path or hasattr(self.config, "workerinput"):  # workers report to the controller
            return
        if self.config.option.collectonly:  # the checks' own descriptions, nothing run (unitctl evaluate --collect)
            markers = (item.get_closest_marker("compliance_check") for item in session.items)
            write_results(Path(path), {marker.args[0].id: marker.args[0] for marker in markers if marker}, [], {})
            return
        checks = {entry["check"]["id"]: Check(**entry["check"]) for entry in self.found}
        results = [Result(entry["check"]["id"], entry["host"], entry["unit_id"], entry["outcome"],
                          entry["evidence"], entry["seconds"]) for entry in self.found]
        write_results(Path(path), checks, results, self.facts)


@pytest.fixture
def inventory_host(request):
    """The inventory's entry for the host under test."""
    target = _target_of(request.node)
    if target is None:
        pytest.skip("the host is not in the inventory (named with --hosts)")
    return target


@pytest.fixture
def debian_release(host) -> int:
    """The Debian major release the host runs (12 bookworm, 13 trixie), read from the host's
    /etc/os-release (VERSION_ID, os-release(5)). Checks whose evidence differs between releases
    keep what differs in one table keyed by this number.
    Raises AssertionError when the host is not a numbered Debian release (testing, sid)."""
    text = host.file("/etc/os-release").content_string
    found = re.search(r'^VERSION_ID="?([0-9]+)', text, re.MULTILINE)
    assert found, "/etc/os-release names no Debian release number (VERSION_ID): not a Debian stable release"
    return int(found.group(1))


@pytest.fixture(scope="session")
def policy(request):
    """Province policy (group_vars/all, and group_vars/lab in the lab), rendered."""
    source = load_source(request.config.option.inventory)
    return load_policy(source.root, source.province, lab=source.lab)


@pytest.fixture
def record_fact(request):
    """Record something a check observed (e.g. the UPS state) for the evaluation report."""
    target = _target_of(request.node)

    def record(name: str, value) -> None:
        if target is not None:
            request.node.user_properties.append(
                ("fact", {"unit_id": target.unit_id, "host": target.name, "name": name, "value": value}))

    return record

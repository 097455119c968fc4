"""The network devices' running configs for the NET checks, read once per suite run.

The first check that needs a device reads every device the run covers, concurrently
(unitctl.network.audit.inspect: the `network_workers` bound and each device's `network_timeout_s`,
credentials from the vault as `unitctl net` has them), and writes the secret-masked facts to a
folder private to the run. Under pytest-xdist the controller makes that folder and hands it to
its workers; a file lock makes the other workers wait for the first one's reading instead of
connecting again. A run whose checks are all deselected (`-k`) never connects to a device.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import tempfile
from pathlib import Path

import pytest

from unitctl.network.audit import DeviceFacts

NETWORK_DIR = pytest.StashKey[str]()
OWN_DIR = pytest.StashKey[bool]()
WORKER_INPUT = "unitctl_network_dir"
_READ: dict[str, dict[str, DeviceFacts]] = {}  # folder -> facts, per process


def configure(config) -> None:
    """The run's private folder: made by the controller (or a lone process), inherited by workers."""
    workerinput = getattr(config, "workerinput", None) or {}
    if WORKER_INPUT in workerinput:
        config.stash[NETWORK_DIR] = workerinput[WORKER_INPUT]
    else:
        config.stash[NETWORK_DIR] = tempfile.mkdtemp(prefix="unitctl-network-")
        config.stash[OWN_DIR] = True


def configure_node(node) -> None:
    node.workerinput[WORKER_INPUT] = node.config.stash[NETWORK_DIR]


def unconfigure(config) -> None:
    if config.stash.get(OWN_DIR, False):
        shutil.rmtree(config.stash[NETWORK_DIR], ignore_errors=True)


def device_facts(config, name: str, unit_ids: list[str]) -> DeviceFacts:
    folder = config.stash[NETWORK_DIR]
    if folder not in _READ:
        _READ[folder] = _read_or_inspect(Path(folder), config.option.inventory, unit_ids)
    facts = _READ[folder].get(name)
    if facts is None:
        raise LookupError(f"{name} is not among the network devices of {config.option.inventory}")
    return facts


def _read_or_inspect(folder: Path, inventory: str, unit_ids: list[str]) -> dict[str, DeviceFacts]:
    data = folder / "devices.json"
    with open(folder / "lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not data.exists():
            from unitctl.network.audit import inspect  # noqa: PLC0415  (imports Ansible and netmiko)
            from unitctl.inventory.derived import unit_group  # noqa: PLC0415
            from unitctl.network.targets import load_targets  # noqa: PLC0415

            # Only these units' devices, so that only their vaults' passwords are asked for.
            limit = ":".join(unit_group(unit_id) for unit_id in unit_ids) or None
            targets = [target for target in load_targets(Path(inventory).resolve(), limit)
                       if not unit_ids or target.unit_id in unit_ids]
            found = {name: facts.as_dict() for name, facts in inspect(targets).items()}
            partial = data.with_suffix(".part")
            partial.write_text(json.dumps(found, ensure_ascii=False), encoding="utf-8")
            partial.chmod(0o600)
            partial.rename(data)
        raw = json.loads(data.read_text(encoding="utf-8"))
    return {name: DeviceFacts.from_dict(entry) for name, entry in raw.items()}

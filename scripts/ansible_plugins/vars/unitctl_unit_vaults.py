"""Ansible vars plugin: each unit's own vault, opened only for the hosts a run reaches.

A unit's secrets are one whole-file ansible-vault in its folder (`<unit>/vault.yml`, vault identity
= unit id: unitctl.inventory.vaults). Ansible decrypts a whole-file vault when it loads it, so where
and when it is loaded decides which passwords a run needs:

- this plugin runs at task time (stage `task`), that is for the hosts whose variables a run asks
  for (those in play, a delegated-to host, `hostvars[...]`), never while the inventory is parsed
  (ansible-inventory --list opens no vault);
- it gives the unit's variables to the unit's group (`unit_<id>`), from the file the inventory
  plugin names in `unit_vault_file`, and opens it only when the run was given a password for that
  unit's identity. A unit whose password the run was not given keeps its vault closed: its
  variables are absent, `unit_vault_state` is `locked`, and nothing is asked for or decrypted.
  playbooks/connect.yml refuses a host in play whose unit's vault is locked, naming the identity.
  A task delegated to the centre, or a template reading another unit's host through hostvars,
  therefore never needs that unit's password;
- a password given for the identity that does not open the vault stops the run, naming the unit.

Enabled in ansible.cfg (vars_plugins_enabled); Ansible's own host_group_vars is unchanged.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ansible.errors import AnsibleError
from ansible.inventory.group import Group
from ansible.plugins.vars import BaseVarsPlugin
from ansible.utils.display import Display

DOCUMENTATION = """
name: unitctl_unit_vaults
short_description: each unit's own vault, for the hosts a run reaches, with that unit's identity only
description:
  - Loads C(vault.yml) of a unit folder (named by the inventory plugin unitctl_province in the unit
    group's C(unit_vault_file)) as that group's variables, only when the run holds a vault secret
    whose identity is the unit id (the vault's header names it); otherwise the vault stays closed.
options:
  stage:
    description: when the plugin runs; C(task) keeps vaults closed while the inventory is parsed
    default: task
    choices: [task]
    type: str
    ini:
      - {section: vars_unitctl_unit_vaults, key: stage}
"""

display = Display()
_VAULT_HEADER = b"$ANSIBLE_VAULT;"
# Ansible asks for a host's variables at every task, and a process may live longer than one run (a
# test session, a tool loading the inventory before and after the lab writes the vaults). So the
# file is looked at each time with one stat(2), and what is read from it is kept per version of it.
# (vault file, inode, mtime, size) -> its identity from the header, or None.
_IDENTITIES: dict[tuple[str, int, int, int], str | None] = {}
_REPORTED: set[str] = set()
# (vault file, inventory or playbook folder) -> whether the file's real path lies under that folder.
_UNDER: dict[tuple[str, str], bool] = {}


def _version(path: str) -> tuple[str, int, int, int] | None:
    """The vault file and which version of it is there now; None when there is no such file."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (path, info.st_ino, info.st_mtime_ns, info.st_size) if stat.S_ISREG(info.st_mode) else None


def _identity_in_header(version: tuple[str, int, int, int]) -> str | None:
    if version not in _IDENTITIES:
        with open(version[0], "rb") as handle:
            first = handle.readline(512).strip()
        parts = first.split(b";")
        _IDENTITIES[version] = parts[3].decode() if first.startswith(_VAULT_HEADER) and len(parts) > 3 else None
    return _IDENTITIES[version]


def _under(vault_file: str, path: str) -> bool:
    """Whether the vault file's real path lies under the inventory (or playbook) folder `path`."""
    key = (vault_file, path)
    if key not in _UNDER:
        _UNDER[key] = Path(vault_file).resolve().is_relative_to(Path(path).resolve())
    return _UNDER[key]


def _secret_identities(loader) -> set[str]:
    # DataLoader keeps the run's secrets in its VaultLib (set by CLI.setup_vault_secrets).
    vault = getattr(loader, "_vault", None)
    return {str(vault_id) for vault_id, _secret in (getattr(vault, "secrets", None) or [])}


class VarsModule(BaseVarsPlugin):
    REQUIRES_ENABLED = True

    def get_vars(self, loader, path, entities, cache=True):
        super().get_vars(loader, path, entities)
        data = {}
        for entity in entities if isinstance(entities, list) else [entities]:
            if not isinstance(entity, Group):
                continue
            vault_file = entity.vars.get("unit_vault_file")
            unit_id = entity.vars.get("unit", {}).get("id") if isinstance(entity.vars.get("unit"), dict) else None
            if not vault_file or not unit_id:
                continue
            version = _version(str(vault_file))
            if version is None or not _under(str(vault_file), path):
                continue
            data.update(self._unit_vault(loader, version, str(unit_id)))
        return data

    def _unit_vault(self, loader, version: tuple[str, int, int, int], unit_id: str) -> dict:
        vault_file = version[0]
        identity = _identity_in_header(version)
        if identity != unit_id or unit_id not in _secret_identities(loader):
            # Another identity's file is refused by validation (unitctl.inventory.validate) before
            # any play; without this unit's password the vault is not touched at all.
            if vault_file not in _REPORTED:
                _REPORTED.add(vault_file)
                display.vvv(f"unitctl_unit_vaults: {unit_id}: vault {vault_file} stays closed "
                            f"(this run has no password for the vault identity {unit_id})")
            return {"unit_vault_state": "locked"}
        try:
            secrets = loader.load_from_file(vault_file, cache="all", unsafe=True)
        except AnsibleError as error:
            raise AnsibleError(f"the vault of unit {unit_id} ({vault_file}) does not open with the password given "
                               f"for the vault identity {unit_id}: {error}") from error
        if secrets is None:
            secrets = {}
        if not isinstance(secrets, dict):
            raise AnsibleError(f"the vault of unit {unit_id} ({vault_file}) does not hold a mapping of variables")
        if f"opened:{vault_file}" not in _REPORTED:
            _REPORTED.add(f"opened:{vault_file}")
            display.vvv(f"unitctl_unit_vaults: {unit_id}: opened vault {vault_file}")
        return {**secrets, "unit_vault_state": "opened"}

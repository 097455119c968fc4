"""Network devices of an inventory source, with their settings, as Ansible itself sees them.

`unitctl net` reads the inventory through Ansible's own inventory and variable managers, so
group_vars precedence (province policy, then the lab's overrides) and vault decryption are
exactly those of `ansible-playbook playbooks/network.yml`. Every variable named `network_*`
becomes a setting. A secret whose vault variable is not available (the sample province has no
vault here) becomes `<masked>`: rendering works offline, pushing refuses.
"""

from __future__ import annotations

import os
from pathlib import Path

from unitctl import paths
from unitctl.inventory.derived import unit_group
from unitctl.network.platforms import MASK
from unitctl.network.render import SECRET_SETTINGS, Target

PREFIX = "network_"
_VAULT_SECRETS: list = []


def load_targets(source: str | Path, limit: str | None = None) -> list[Target]:
    """The `network_devices` hosts of an inventory source (optionally `--limit`ed)."""
    os.environ.setdefault("ANSIBLE_CONFIG", str(paths.PROJECT_ROOT / "ansible.cfg"))
    from ansible import constants  # noqa: PLC0415  (Ansible is slow to import; only when needed)
    from ansible.cli import CLI  # noqa: PLC0415
    from ansible.inventory.manager import InventoryManager  # noqa: PLC0415
    from ansible.parsing.dataloader import DataLoader  # noqa: PLC0415
    from ansible.plugins.loader import init_plugin_loader  # noqa: PLC0415
    from ansible.vars.manager import VariableManager  # noqa: PLC0415

    from ansible.plugins.vars import host_group_vars  # noqa: PLC0415

    # Ansible keeps, per process, which group_vars/host_vars files exist: a file made since the
    # first load (the lab's vault, written by `unitctl lab up`) would never be read.
    host_group_vars.FOUND.clear()
    loader = DataLoader()
    if not _VAULT_SECRETS:  # Ansible allows setting these up once per process
        init_plugin_loader()  # lookups such as ansible.builtin.env live behind the collection loader
        password_files = [constants.DEFAULT_VAULT_PASSWORD_FILE] if constants.DEFAULT_VAULT_PASSWORD_FILE else []
        _VAULT_SECRETS.extend(CLI.setup_vault_secrets(
            loader, vault_ids=constants.DEFAULT_VAULT_IDENTITY_LIST, vault_password_files=password_files))
    loader.set_vault_secrets(_VAULT_SECRETS)
    inventory = InventoryManager(loader=loader, sources=[str(source)])
    if limit:
        inventory.subset(limit)
    variables = VariableManager(loader=loader, inventory=inventory)
    targets = []
    for host in inventory.get_hosts("network_devices"):
        host_vars = variables.get_vars(host=host, include_hostvars=False)
        group = inventory.groups[unit_group(host_vars["unit_id"])]
        targets.append(Target(
            name=host.name, unit_id=host_vars["unit_id"], host=host_vars["unit_host"],
            unit=host_vars.get("unit", {}), addressing=host_vars.get("unit_addressing", {}),
            unit_hosts=[member.vars["unit_host"] for member in group.get_hosts()],
            settings=_settings(loader, host_vars)))
    return targets


def _settings(loader, host_vars: dict) -> dict:
    from ansible.errors import AnsibleUndefinedVariable  # noqa: PLC0415
    from ansible.template import Templar  # noqa: PLC0415

    templar = Templar(loader=loader, variables=host_vars)
    settings = {}
    for name in sorted(name for name in host_vars if name.startswith(PREFIX)):
        key = name[len(PREFIX):]
        try:
            settings[key] = _plain(templar.template(host_vars[name]))
        except AnsibleUndefinedVariable:
            if key in SECRET_SETTINGS or key == "user":
                settings[key] = MASK
            # any other undefined setting stays missing: the template names it
    return settings


def _plain(value):
    """Ansible's tagged strings, lists and dicts as plain Python values."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value

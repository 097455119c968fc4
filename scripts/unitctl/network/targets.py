"""Network devices of an inventory source, with their settings, as Ansible itself sees them.

`unitctl net` reads the inventory through Ansible's own inventory and variable managers, so
group_vars precedence (province policy, then the lab's overrides) and vault decryption are
exactly those of `ansible-playbook playbooks/network.yml`. Every variable named `network_*`
becomes a setting. Device credentials are each unit's own (its vault, unitctl.inventory.vaults):
only the identities of the units whose devices are loaded are asked for, through the password
client (and a unit this machine has no password for keeps its vault closed). A secret whose vault
variable is not available (the sample province has no vaults; a closed vault) becomes `<masked>`:
rendering works offline, pushing refuses.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from unitctl import paths
from unitctl.inventory import vaults
from unitctl.inventory.derived import unit_group
from unitctl.network.platforms import MASK
from unitctl.network.render import SECRET_SETTINGS, Target

PREFIX = "network_"
# The vault secrets of this process (Ansible's vault context is set up once per process), and
# the identities already asked for.
_VAULT_SECRETS: list = []
_ASKED: set[str] = set()


def load_targets(source: str | Path, limit: str | None = None) -> list[Target]:
    """The `network_devices` hosts of an inventory source (optionally `--limit`ed)."""
    os.environ.setdefault("ANSIBLE_CONFIG", str(paths.PROJECT_ROOT / "ansible.cfg"))
    from ansible.inventory.manager import InventoryManager  # noqa: PLC0415
    from ansible.parsing.dataloader import DataLoader  # noqa: PLC0415
    from ansible.plugins.loader import init_plugin_loader  # noqa: PLC0415
    from ansible.vars.manager import VariableManager  # noqa: PLC0415

    from ansible.parsing.vault import VaultSecretsContext  # noqa: PLC0415
    from ansible.plugins.vars import host_group_vars  # noqa: PLC0415

    # Ansible keeps, per process, which group_vars/host_vars files exist: a file made since the
    # first load would never be read.
    host_group_vars.FOUND.clear()
    loader = DataLoader()
    if VaultSecretsContext.current(optional=True) is None:
        init_plugin_loader()  # lookups such as ansible.builtin.env live behind the collection loader
        VaultSecretsContext.initialize(VaultSecretsContext(_VAULT_SECRETS))
    inventory = InventoryManager(loader=loader, sources=[str(source)])
    if limit:
        inventory.subset(limit)
    devices = inventory.get_hosts("network_devices")
    _ask_for_identities(loader, inventory, sorted({host.vars.get("unit_id") for host in devices} - {None}))
    loader.set_vault_secrets(_VAULT_SECRETS)
    variables = VariableManager(loader=loader, inventory=inventory)
    targets = []
    for host in devices:
        host_vars = variables.get_vars(host=host, include_hostvars=False)
        group = inventory.groups[unit_group(host_vars["unit_id"])]
        targets.append(Target(
            name=host.name, unit_id=host_vars["unit_id"], host=host_vars["unit_host"],
            unit=host_vars.get("unit", {}), addressing=host_vars.get("unit_addressing", {}),
            unit_hosts=[member.vars["unit_host"] for member in group.get_hosts()],
            settings=_settings(loader, host_vars)))
    return targets


def _ask_for_identities(loader, inventory, unit_ids: list[str]) -> None:
    """Add the vault secrets of these units' identities, each asked for once per process: an entry
    of ANSIBLE_VAULT_IDENTITY_LIST (ansible.cfg or the environment) naming the identity, else the
    password client. A unit without a vault file, or whose password this machine lacks, is left
    closed (its secrets are masked); nothing is asked for any other unit."""
    from ansible import constants  # noqa: PLC0415
    from ansible.cli import CLI  # noqa: PLC0415
    from ansible.errors import AnsibleError  # noqa: PLC0415

    given = {slug.split("@", 1)[0]: slug for slug in constants.DEFAULT_VAULT_IDENTITY_LIST or [] if "@" in slug}
    for unit_id in unit_ids:
        group = inventory.groups.get(unit_group(unit_id))
        vault_file = group.vars.get("unit_vault_file") if group else None
        if unit_id in _ASKED or not vault_file or not Path(vault_file).is_file():
            continue
        password = vaults.password_file(unit_id)
        if unit_id not in given and password is None:
            continue  # this machine has no password for it (yet): the unit's secrets stay masked
        problem = vaults.exposure(password) if unit_id not in given else None
        if problem:
            print(vaults.refusal(unit_id, problem), file=sys.stderr)  # as the client would refuse it
            continue
        slug = given.get(unit_id, f"{unit_id}@{vaults.CLIENT}")
        _ASKED.add(unit_id)  # asked once per process, answered or not (no second prompt)
        try:
            _VAULT_SECRETS.extend(CLI.setup_vault_secrets(loader, vault_ids=[slug], initialize_context=False))
        except AnsibleError:
            continue  # the client found no password after all: masked as well


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

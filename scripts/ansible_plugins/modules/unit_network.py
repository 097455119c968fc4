#!/usr/bin/python
"""Ansible module: bring one network device to its intended config (see unitctl.network)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: unit_network
short_description: Push the intended config of a switch or router, safely
description:
  - Renders the device's intended config from the inventory (templates/network/), compares its
    managed sections with the running config (hier_config for IOS) and sends only the
    remediation, with an error pattern; then saves, reads back and verifies. On any failure the
    managed sections are put back as they were before the push.
  - The running config is first stored in the backup repository (settings.backup_repository).
  - In check mode nothing is sent; with --diff the managed sections before and after are shown.
  - Runs on the controller (connection local) with the project's Python, which holds unitctl.
options:
  device: {description: The device's entry in its unit's hosts.yml (unit_host)., type: dict, required: true}
  unit: {description: The unit (unit.yml)., type: dict, required: true}
  addressing: {description: The unit's addressing plan (unit_addressing)., type: dict, required: true}
  unit_hosts: {description: Every host entry of the unit., type: list, elements: dict, required: true}
  settings:
    description: Every network_* variable but the secrets, without the prefix.
    type: dict
    required: true
  secrets:
    description:
      - The secret network_* variables, without the prefix (from the vault). Kept out of logs and
        of every result (no_log); a secret not given renders masked and a push refuses to send it.
    type: dict
    default: {}
    suboptions:
      password: {description: The device user's password., type: str}
      enable_secret: {description: The enable secret., type: str}
      snmp_auth_password: {description: The SNMPv3 user's authentication password., type: str}
      snmp_priv_password: {description: The SNMPv3 user's privacy password., type: str}
  backup: {description: Store the running config in the backup repository first., type: bool, default: true}
"""

RETURN = r"""
commands: {description: The remediation (secrets masked)., type: list, returned: always}
"""

from ansible.module_utils.basic import AnsibleModule

# The settings that are secrets (unitctl.network.render.SECRET_SETTINGS; a unit test keeps the
# two equal): each a no_log suboption of `secrets`, so Ansible masks its value in every log,
# result and error message. `settings` holds none of them and is logged as it is.
SECRET_OPTIONS = ("password", "enable_secret", "snmp_auth_password", "snmp_priv_password")
ARGUMENT_SPEC = {
    "device": {"type": "dict", "required": True},
    "unit": {"type": "dict", "required": True},
    "addressing": {"type": "dict", "required": True},
    "unit_hosts": {"type": "list", "elements": "dict", "required": True},
    "settings": {"type": "dict", "required": True, "no_log": False},
    "secrets": {"type": "dict", "default": {}, "no_log": True,
                "options": {name: {"type": "str", "no_log": True} for name in SECRET_OPTIONS}},
    "backup": {"type": "bool", "default": True},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        from unitctl.network import BackupRepository, Target, commit_backups, push_one
        from unitctl.network.compare import UnsafeCommand
        from unitctl.network.render import MissingVariable
        from unitctl.network.session import DeviceError
    except ImportError as error:
        module.fail_json(msg=f"unitctl is not importable ({error}): run with the project's Python "
                             f"(ansible_python_interpreter: ansible_playbook_python)")
    params = module.params
    secrets = {name: value for name, value in (params["secrets"] or {}).items() if value is not None}
    target = Target(name=params["device"]["name"], unit_id=params["unit"]["id"], host=params["device"],
                    unit=params["unit"], addressing=params["addressing"], unit_hosts=params["unit_hosts"],
                    settings={**params["settings"], **secrets})
    repository = None
    if params["backup"] and not module.check_mode:
        repository = BackupRepository(params["settings"]["backup_repository"]).ensure()
    try:
        result = push_one(target, repository, check=module.check_mode)
    except (MissingVariable, DeviceError, UnsafeCommand) as error:
        module.fail_json(msg=str(error))
    if repository is not None:
        commit_backups(repository, [result], "before push")
    for warning in result.warnings:  # the device took a line but remarked on it (IOS %Warning)
        module.warn(f"{target.name}: {warning}")
    comparison = result.comparison
    outcome = {
        "commands": result.lines,
        "changed": result.changed if not module.check_mode else bool(comparison and comparison.commands),
        "diff": {"before": comparison.before, "after": comparison.after,
                 "before_header": f"{target.name} (running, managed sections)",
                 "after_header": f"{target.name} (intended, managed sections)"} if comparison else {},
    }
    if not result.ok:
        module.fail_json(msg=result.message, **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()

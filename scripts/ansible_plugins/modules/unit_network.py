#!/usr/bin/python
"""Ansible module: bring one network device to its intended config (see unitctl.network)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: unit_network
short_description: Push the intended config of a switch or router, safely
description:
  - Renders the device's intended config from the inventory (C(templates/network/)), compares its
    managed sections with the running config (hier_config for IOS, path and properties for
    RouterOS) and sends only the remediation, with the platform's error patterns; then saves, reads
    the device back and verifies. On any failure the managed sections are put back as they were
    before the push.
  - The running config is first stored in the backup repository (C(settings.backup_repository)),
    unless O(backup=false).
  - In check mode the device is read but nothing is sent or saved and no backup is made; the
    result says whether a push would change it and, with C(--diff), shows the managed sections
    before and after.
  - Runs on the controller with the project's Python, which holds unitctl and netmiko; the play
    sets C(connection) to C(local) and C(ansible_python_interpreter) to the playbook's own Python.
  - C(playbooks/network.yml) is the playbook that uses it; C(unitctl net diff) and C(unitctl net
    push) do the same without Ansible.
extends_documentation_fragment:
  - action_common_attributes
attributes:
  check_mode:
    support: full
    details: The device is read (running config and the show commands of the managed sections); nothing is sent, saved or backed up.
  diff_mode:
    support: full
    details: The managed sections as running (secrets masked) and as intended.
  platform:
    platforms: posix
    details: The module runs on the controller and reaches Cisco IOS and MikroTik RouterOS devices over SSH (netmiko).
options:
  device:
    description:
      - The device's entry in its unit's C(hosts.yml) (the inventory variable C(unit_host)), with its name, platform and address.
    type: dict
    required: true
  unit:
    description:
      - The device's unit as in its C(unit.yml) (the inventory variable C(unit)).
    type: dict
    required: true
  addressing:
    description:
      - The unit's addressing plan, its C(addressing.yml) (the inventory variable C(unit_addressing)).
    type: dict
    required: true
  unit_hosts:
    description:
      - Every host entry of the unit (each host's C(unit_host)), for the ports and addresses the config names.
    type: list
    elements: dict
    required: true
  settings:
    description:
      - Every C(network_*) variable but the secrets, without the C(network_) prefix, for instance C(backup_repository), C(managed_sections), C(timeout_s).
      - It holds no secret and is logged as it is.
    type: dict
    required: true
  secrets:
    description:
      - The secret C(network_*) variables, without the prefix (from the vault).
      - Kept out of logs and of every result (no_log); a secret not given renders masked, and a push refuses to send it.
    type: dict
    default: {}
    suboptions:
      password:
        description:
          - The device user's password (C(network_password)).
        type: str
      enable_secret:
        description:
          - The enable secret (C(network_enable_secret)).
        type: str
      snmp_auth_password:
        description:
          - The SNMPv3 user's authentication password (C(network_snmp_auth_password)).
        type: str
      snmp_priv_password:
        description:
          - The SNMPv3 user's privacy password (C(network_snmp_priv_password)).
        type: str
  backup:
    description:
      - Store the running config in the backup repository (C(settings.backup_repository), a git repository, one commit per run) before anything is sent.
    type: bool
    default: true
notes:
  - A device that cannot be reached, refuses the login or rejects a command fails its own task; the other devices carry on.
  - A template variable missing from the inventory fails the task before any connection, naming it.
"""

EXAMPLES = r"""
# playbooks/network.yml runs it on the controller for every device of the unit (hosts: network_devices,
# connection: local). unit_host, unit, unit_addressing and unit_group are what the inventory plugin
# gives each device; device_settings and device_secrets stand for the two dicts that playbook builds
# from every network_* variable (settings without the secrets, and the secrets), prefix removed.

- name: Show what a push would change on the unit's switch, changing nothing
  unit_network:
    device: "{{ unit_host }}"
    unit: "{{ unit }}"
    addressing: "{{ unit_addressing }}"
    unit_hosts: "{{ groups[unit_group] | map('extract', hostvars, 'unit_host') | list }}"
    settings: "{{ device_settings }}"
    secrets: "{{ device_secrets }}"
  check_mode: true
  diff: true

- name: Back up the switch's running config, then push the remediation, save and verify
  unit_network:
    device: "{{ unit_host }}"
    unit: "{{ unit }}"
    addressing: "{{ unit_addressing }}"
    unit_hosts: "{{ groups[unit_group] | map('extract', hostvars, 'unit_host') | list }}"
    settings: "{{ device_settings }}"
    secrets:
      password: "{{ network_password }}"
      enable_secret: "{{ network_enable_secret }}"
      snmp_auth_password: "{{ network_snmp_auth_password }}"
      snmp_priv_password: "{{ network_snmp_priv_password }}"
    backup: true
  register: network_push

- name: Show the lines that were sent (secrets masked)
  ansible.builtin.debug:
    var: network_push.commands

- name: Push to a switch restaged from its factory config, with nothing worth backing up
  unit_network:
    device: "{{ unit_host }}"
    unit: "{{ unit }}"
    addressing: "{{ unit_addressing }}"
    unit_hosts: "{{ groups[unit_group] | map('extract', hostvars, 'unit_host') | list }}"
    settings: "{{ device_settings }}"
    secrets: "{{ device_secrets }}"
    backup: false
"""

RETURN = r"""
commands:
  description:
    - The remediation, in the order it is (or in check mode would be) sent, secrets masked.
    - "On RouterOS, running lines that no command removes follow as C(# not intended, remove by hand: LINE), for a person to look at."
    - Empty when the managed sections are already as intended.
  type: list
  elements: str
  returned: always
  sample:
    - interface GigabitEthernet0/5
    - " switchport access vlan 30"
    - " exit"
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

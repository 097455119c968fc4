"""Ansible inventory plugin: a province of judicial units, read and validated by unitctl.

The same loader and validation as `unitctl validate` run here, so a playbook can never start on
an inventory that `unitctl validate` would refuse; every problem is listed at once.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

DOCUMENTATION = """
name: unitctl_province
short_description: a province of judicial units (one folder per unit)
description:
  - Reads the unit folders (unit, staff, rooms, addressing, hosts), validates them together
    with the province policy, and makes groups by unit, kind, function and platform.
  - The source file must end in C(.unitctl.yml).
options:
  plugin:
    description: the name of this plugin
    required: true
    choices: ['unitctl_province']
  units_dir:
    description: the folder of unit folders, relative to the source file
    required: true
    type: str
  lab:
    description: put every host in the C(lab) group too, so group_vars/lab/ applies
    type: bool
    default: false
"""

# The plugin runs inside Ansible's Python; the unitctl package sits beside this tree.
_SCRIPTS_DIR = Path(__file__).resolve().parents[2]
if str(_SCRIPTS_DIR) not in sys.path:
    sys.path.insert(0, str(_SCRIPTS_DIR))

from unitctl.inventory.groups import province_groups  # noqa: E402
from unitctl.inventory.load import load_units_dir  # noqa: E402
from unitctl.inventory.validate import format_problems, validate_province  # noqa: E402


class InventoryModule(BaseInventoryPlugin):
    NAME = "unitctl_province"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(".unitctl.yml")

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        config = self._read_config_data(path)
        source_dir = Path(path).resolve().parent
        units_dir = source_dir / self.get_option("units_dir")

        problems = validate_province(source_dir, units_dir)
        if problems:
            raise AnsibleParserError(
                f"the inventory {path} is not valid; nothing was touched.\n" + format_problems(problems)
            )

        province = load_units_dir(units_dir)
        layout = province_groups(province, lab=bool(config.get("lab")))
        for group, group_vars in layout.groups.items():
            self.inventory.add_group(group)
            for key, value in group_vars.items():
                self.inventory.set_variable(group, key, value)
        for parent, children in layout.children.items():
            for child in children:
                self.inventory.add_child(parent, child)
        for host, (groups, host_vars) in layout.hosts.items():
            for group in groups:
                self.inventory.add_host(host, group=group)
            for key, value in host_vars.items():
                self.inventory.set_variable(host, key, value)

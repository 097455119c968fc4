"""What every unit test starts from, whatever the machine, shell or checkout running the tests:

- unitctl's messages in English: unitctl.i18n follows LANGUAGE first, as gettext does, so a
  machine's LANG=fa_IR.UTF-8 does not change what the tests read. tests/unit/test_messages.py
  sets the locale variables itself for each run in another language.
- the inventory choice of unitctl's commands as on a fresh checkout (no UNITCTL_INVENTORY, no
  unitctl.local.yml), so that the lab stays the default. Tests of the choice set them themselves.
- `lab_vault_args`: the lab units' `--vault-id` arguments, which exist once `unitctl lab up` has
  written the lab's vaults into the checkout and not on a fresh clone, so that a test of a command
  line holds on both.
"""

from __future__ import annotations

import os

import pytest

from unitctl import paths
from unitctl.inventory import vaults

os.environ["LANGUAGE"] = "en"


@pytest.fixture(autouse=True)
def fresh_inventory_choice(tmp_path_factory, monkeypatch):
    """UNITCTL_INVENTORY unset and the checkout's setting file moved to an empty folder, in this
    process (paths.LOCAL_SETTINGS) and in the commands it starts (UNITCTL_LOCAL_SETTINGS).
    Returns the setting file's path (absent until a test writes it)."""
    settings = tmp_path_factory.mktemp("checkout-setting") / "unitctl.local.yml"
    monkeypatch.delenv("UNITCTL_INVENTORY", raising=False)
    monkeypatch.setenv("UNITCTL_LOCAL_SETTINGS", str(settings))
    monkeypatch.setattr(paths, "LOCAL_SETTINGS", settings)
    return settings


@pytest.fixture
def lab_vault_args():
    """A function: lab unit ids -> the `--vault-id` arguments unitctl gives ansible-playbook for
    them (unitctl.inventory.vaults.vault_ids; tests/unit/test_unit_vaults.py tests which)."""
    def arguments(*unit_ids: str) -> list[str]:
        return [word for vault_id in vaults.vault_ids(list(unit_ids), paths.LAB_UNITS_DIR)
                for word in ("--vault-id", vault_id)]
    return arguments

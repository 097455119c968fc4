"""What every unit test starts from: the inventory choice of unitctl's commands as on a fresh
checkout (no UNITCTL_INVENTORY, no unitctl.local.yml), whatever the shell or checkout running the
tests has set, so that the lab stays the default. Tests of the choice set them themselves."""

from __future__ import annotations

import pytest

from unitctl import paths


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

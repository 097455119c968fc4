"""The small valid province of fixtures/province/, copied for a test to change."""

from __future__ import annotations

import shutil
from pathlib import Path

from unitctl.paths import INVENTORY_DIR

FIXTURE = Path(__file__).parent / "fixtures" / "province"


def copy_fixture_province(root: Path) -> Path:
    """Copy the fixture province to `root` (its inventory root) and return `root`.

    The policy the fixture does not set itself comes from the real province, so that every
    required policy key is set (inventory/policy-schema.yml) without a second copy in fixtures/."""
    shutil.copytree(FIXTURE, root)
    for policy_file in (INVENTORY_DIR / "group_vars" / "all").glob("*.yml"):
        if not (root / "group_vars" / "all" / policy_file.name).exists():
            shutil.copy(policy_file, root / "group_vars" / "all" / policy_file.name)
    return root

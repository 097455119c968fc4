"""Where things live: the project checkout and the lab's state outside it."""

from __future__ import annotations

import os
from pathlib import Path

# The checkout: scripts/unitctl/paths.py -> the top level.
PROJECT_ROOT = Path(os.environ.get("UNITCTL_PROJECT_ROOT", Path(__file__).resolve().parents[2]))
INVENTORY_DIR = PROJECT_ROOT / "inventory"
TEMPLATES_DIR = PROJECT_ROOT / "templates"
LAB_INVENTORY = INVENTORY_DIR / "lab.unitctl.yml"
# The lab province's units, which `unitctl lab up` boots; UNITLAB_UNITS_DIR names another folder of
# units for the lab to boot instead, such as a province of `unitctl lab generate` (OUTPUT/units).
DEFAULT_LAB_UNITS_DIR = INVENTORY_DIR / "lab" / "units"
LAB_UNITS_DIR = (Path(os.environ["UNITLAB_UNITS_DIR"]).absolute() if os.environ.get("UNITLAB_UNITS_DIR")
                 else DEFAULT_LAB_UNITS_DIR)
# The checkout's own choice of inventory (`unitctl use`), git-ignored: see unitctl.inventory.choice.
LOCAL_SETTINGS = Path(os.environ.get("UNITCTL_LOCAL_SETTINGS", PROJECT_ROOT / "unitctl.local.yml"))

# The centre's drop folder for the compliance results each unit sends (unitctl.unit_results
# describes its layout), read by `unitctl evaluate --collect` unless --collected names another.
COLLECTED_DIR = Path(os.environ.get("UNITCTL_COLLECTED_DIR", PROJECT_ROOT / "results" / "collected"))

# The lab keeps its cache (base root filesystem, package cache) and its running state outside
# the checkout, so a fresh clone on the same machine reuses the cache and finds a running lab.
LAB_CACHE_DIR = Path(os.environ.get("UNITLAB_CACHE_DIR", "/var/cache/unitlab"))
LAB_STATE_DIR = Path(os.environ.get("UNITLAB_STATE_DIR", "/var/lib/unitlab"))


def in_checkout(path: Path | str) -> str:
    """How a path is printed for a person to copy: relative to the checkout's top folder when it is
    inside the checkout (commands are run from there, as the README says), else absolute."""
    resolved, root = Path(path).resolve(), PROJECT_ROOT.resolve()
    return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(resolved)

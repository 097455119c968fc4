"""Network devices: intended configs from the inventory, diffs, safe pushes, backups, drift.

    targets = load_targets("inventory/lab.unitctl.yml", limit="unit_lab_court")
    text = render(targets[0], masked=True)            # the intended config, secrets masked
    results = run_many(push_one, targets, workers=10, repository=BackupRepository(path).ensure())

See README.md ("Network devices") for what is tested against the lab's emulator and what offline.
"""

from unitctl.network.backup import BackupRepository
from unitctl.network.compare import Comparison, compare
from unitctl.network.operations import (Result, backup_one, commit_backups, diff_one, push_one,
                                        render_one, run_many)
from unitctl.network.render import MissingVariable, Target, render
from unitctl.network.targets import load_targets

__all__ = ["BackupRepository", "Comparison", "MissingVariable", "Result", "Target", "backup_one",
           "commit_backups", "compare", "diff_one", "load_targets", "push_one", "render", "render_one",
           "run_many"]

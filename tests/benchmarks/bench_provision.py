"""How long a lab unit takes to provision, and what the project's ansible.cfg buys on a rerun.

    python tests/benchmarks/bench_provision.py            # boots a fresh lab first (lab down, lab up)
    python tests/benchmarks/bench_provision.py --warm     # the lab as it is (skips the cold figure)

Measures, in one run on the same machine:
- cold: `playbooks/site.yml` for the lab court and the centre on freshly booted hosts (packages
  come from the lab mirror's cache once it has them);
- rerun: the same playbook again (nothing to change), alternating the project's ansible.cfg and a
  configuration with ansible-core's defaults (only what the project cannot run without: the
  inventory plugin, roles path and vault client), `--rounds` times each; the ratio of medians is
  the figure. Target: the project's rerun at least 2.5x faster than defaults.
Results: a table on stdout and results/benchmarks/provision.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from unitctl import paths
from unitctl.inventory.load import load_units_dir

LIMIT = "unit_lab_court:unit_lab_centre"
RESULTS = paths.PROJECT_ROOT / "results" / "benchmarks" / "provision.json"
BIN = Path(sys.executable).parent
RERUN_TARGET = 2.5


def defaults_config(folder: Path) -> Path:
    """ansible-core's defaults, plus only what the project cannot run without."""
    root = paths.PROJECT_ROOT
    config = folder / "ansible-defaults.cfg"
    config.write_text(
        "[defaults]\n"
        f"inventory = {root / 'inventory' / 'lab.unitctl.yml'}\n"
        f"roles_path = {root / 'roles'}\n"
        f"inventory_plugins = {root / 'scripts' / 'ansible_plugins' / 'inventory'}\n"
        f"library = {root / 'scripts' / 'ansible_plugins' / 'modules'}\n"
        # The roles' own filters (packages_to_install, printer_queues...): a role cannot run without them.
        f"filter_plugins = {root / 'scripts' / 'ansible_plugins' / 'filter'}\n"
        # Each lab unit's vault (unitctl.inventory.vaults): the vars plugin that opens it, and every
        # lab unit's identity through the password client.
        f"vars_plugins = {root / 'scripts' / 'ansible_plugins' / 'vars'}\n"
        "vars_plugins_enabled = host_group_vars, unitctl_unit_vaults\nvault_id_match = True\n"
        "vault_identity_list = " + ", ".join(
            f"{unit.id}@{root / 'scripts' / 'vault-password-client.py'}"
            for unit in load_units_dir(root / "inventory" / "lab" / "units").units) + "\n"
        "[inventory]\nenable_plugins = unitctl_province\n",
        encoding="utf-8")
    return config


def playbook_seconds(config: Path, label: str, playbook: str = "playbooks/site.yml") -> tuple[float, str]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(config), ANSIBLE_NOCOLOR="1")
    started = time.monotonic()
    result = subprocess.run([str(BIN / "ansible-playbook"), playbook, "--limit", LIMIT],
                            cwd=paths.PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=3600)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"{label}: ansible-playbook failed\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
    return elapsed, result.stdout


def changed_total(output: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output.split("PLAY RECAP")[-1]))


def lab(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "unitctl.cli", "lab", *args], check=True, timeout=1800)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm", action="store_true", help="use the lab as it is; no cold figure")
    parser.add_argument("--rounds", type=int, default=3, help="reruns per configuration")
    parser.add_argument("--playbook", default="playbooks/site.yml", help="what to provision (default: site.yml)")
    args = parser.parse_args()

    project_config = paths.PROJECT_ROOT / "ansible.cfg"
    figures: dict = {"limit": LIMIT, "playbook": args.playbook, "rounds": args.rounds}
    if not args.warm:
        lab("down")
        lab("up")
        figures["cold_s"], _ = playbook_seconds(project_config, "cold", args.playbook)
    else:
        playbook_seconds(project_config, "converge", args.playbook)  # nothing left to change

    with tempfile.TemporaryDirectory() as scratch:
        default_config = defaults_config(Path(scratch))
        project, defaults = [], []
        for _ in range(args.rounds):  # alternate, so that machine noise hits both alike
            seconds, output = playbook_seconds(project_config, "rerun (project)", args.playbook)
            assert changed_total(output) == 0, "the rerun changed something: not idempotent"
            project.append(seconds)
            defaults.append(playbook_seconds(default_config, "rerun (defaults)", args.playbook)[0])
    figures["rerun_project_s"] = [round(s, 1) for s in project]
    figures["rerun_defaults_s"] = [round(s, 1) for s in defaults]
    figures["rerun_speedup"] = round(statistics.median(defaults) / statistics.median(project), 2)

    print(f"\nprovisioning {LIMIT} with {args.playbook}")
    if "cold_s" in figures:
        print(f"  cold provision:           {figures['cold_s']:7.1f} s")
    print(f"  rerun, project ansible.cfg: {statistics.median(project):7.1f} s (median of {args.rounds})")
    print(f"  rerun, ansible-core defaults: {statistics.median(defaults):5.1f} s")
    print(f"  speed-up: {figures['rerun_speedup']}x (target {RERUN_TARGET}x)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"  written: {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

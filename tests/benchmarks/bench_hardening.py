"""What the hardening (issue 13) costs: a first provisioning and a rerun of the whole lab province,
each as a ratio against the toolkit before it, measured in one run on the same machine.

    python tests/benchmarks/bench_hardening.py                  # about an hour: the lab is rebuilt twice
    python tests/benchmarks/bench_hardening.py --rounds 1 --baseline <commit>

For each of the baseline (default: BASELINE, main just before the hardening) and this checkout's HEAD:
the lab is brought down and up (bare hosts), `playbooks/site.yml` provisions the whole lab province
(cold), then runs again `--rounds` times with nothing to change (rerun; each must report changed=0).
Each side runs from a detached git worktree of its commit, with this checkout's lab vaults; before each
cold run one host refreshes its package lists, so the mirror holds the index files for both sides alike. Packages
come from the lab mirror's cache, filled by whichever side runs first: the baseline runs first, so
the current side's cold figure is, if anything, favoured by a warm cache for the packages both
install, and pays alone for the ones only the hardening installs.
Results: a table on stdout and results/benchmarks/hardening.json (ratios current / baseline).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_provision import changed_total, lab  # the recap's changed count, `unitctl lab ...`
from unitctl import paths

# main just before the hardening of issue 13 (the last commit of issue 18's work).
BASELINE = "13fb77d"
RESULTS = paths.PROJECT_ROOT / "results" / "benchmarks" / "hardening.json"
BIN = Path(sys.executable).parent
# A cold run of the whole lab takes 8-12 minutes here; twice that is a hang, not a slow machine.
PLAYBOOK_TIMEOUT_S = 1800
# Made by the lab, never committed: the baseline tree reads the same secrets.
# The lab's vaults: each unit's own (since secrets per unit), and the former province-wide files that a
# baseline from before that change reads (present only in a checkout whose lab was made then).
LAB_VAULTS = ("inventory/lab/units/lab-centre/vault.yml", "inventory/lab/units/lab-court/vault.yml",
              "inventory/lab/units/lab-prosecutor/vault.yml",
              "inventory/group_vars/lab/vault.yml", "inventory/group_vars/lab/vault_services.yml")


def run_playbook(tree: Path, label: str) -> tuple[float, int]:
    """`playbooks/site.yml` on the whole lab from `tree`: (seconds, changed tasks in the recap)."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", PYTHONPATH=str(tree / "scripts"))
    env.pop("ANSIBLE_CONFIG", None)
    started = time.monotonic()
    try:
        result = subprocess.run([str(BIN / "ansible-playbook"), "playbooks/site.yml"], cwd=tree, env=env,
                                capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as stopped:
        # Say where it hung (one run once waited on the lab mirror with the machine idle).
        output = stopped.stdout.decode(errors="replace") if isinstance(stopped.stdout, bytes) else (stopped.stdout or "")
        sys.exit(f"{label}: ansible-playbook still running after {PLAYBOOK_TIMEOUT_S} s, stopped\n{output[-4000:]}")
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"{label}: ansible-playbook failed\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
    return elapsed, changed_total(result.stdout)


def warm_the_mirror() -> None:
    """One `apt-get update` on one lab host before the clock starts, the same for both sides: the
    mirror then answers the index files from its cache, as a unit's mirror does, instead of fetching
    them upstream while seven hosts wait (one such first refresh, inside the old tree's apt module,
    once waited forever)."""
    from unitctl.lab.machines import Machine, machine_run  # noqa: PLC0415  (root only, like the lab)
    for attempt in range(3):
        status, output = machine_run(Machine("centre-srv", "", ""), "timeout -k 5 120 apt-get -q update", timeout=150)
        if status == 0:
            return
        print(f"  warming the mirror: attempt {attempt + 1} failed ({status}): {output[-300:]}", flush=True)
    sys.exit("the lab mirror does not answer: no figure would mean anything")


def measure(tree: Path, label: str, rounds: int) -> dict:
    lab("down")
    lab("up")
    warm_the_mirror()
    cold, _ = run_playbook(tree, f"{label} cold")
    reruns = []
    for round_number in range(rounds):
        seconds, changed = run_playbook(tree, f"{label} rerun {round_number + 1}")
        if changed:
            sys.exit(f"{label}: the rerun changed {changed} tasks: not idempotent, the figure would be wrong")
        reruns.append(seconds)
    print(f"  {label:9} cold {cold:7.1f} s   rerun {statistics.median(reruns):6.1f} s (median of {rounds})", flush=True)
    return {"cold_s": round(cold, 1), "rerun_s": [round(s, 1) for s in reruns]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default=BASELINE, help=f"the commit before the change (default {BASELINE})")
    parser.add_argument("--rounds", type=int, default=3, help="reruns per side (default 3)")
    args = parser.parse_args()

    root = paths.PROJECT_ROOT
    # Both sides run from worktrees of their commits: edits to this checkout during the hour do not
    # change what is measured.
    current = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], check=True,
                             capture_output=True, text=True, timeout=60).stdout.strip()
    figures: dict = {"baseline": args.baseline, "current": current, "rounds": args.rounds}
    print(f"hardening benchmark: baseline {args.baseline} against {current}, whole lab province", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-hardening-") as scratch:
        for label, commit in (("baseline", args.baseline), ("current", current)):
            tree = Path(scratch) / label
            subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", str(tree), commit],
                           check=True, capture_output=True, timeout=120)
            try:
                for vault in LAB_VAULTS:
                    if (root / vault).exists():
                        (tree / vault).symlink_to(root / vault)
                figures[f"{label}_figures"] = measure(tree, label, args.rounds)
            finally:
                subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(tree)],
                               check=False, capture_output=True, timeout=120)

    before, after = figures["baseline_figures"], figures["current_figures"]
    figures["cold_ratio"] = round(after["cold_s"] / before["cold_s"], 2)
    figures["rerun_ratio"] = round(statistics.median(after["rerun_s"]) / statistics.median(before["rerun_s"]), 2)
    print(f"  first provisioning: {figures['cold_ratio']}x the baseline; rerun: {figures['rerun_ratio']}x")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"  written: {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How fast the built-in lab comes up and goes down, and what a lab host costs in memory.

    python tests/benchmarks/bench_lab.py            # warm: the base root filesystem is cached
    python tests/benchmarks/bench_lab.py --cold     # also a cold start: builds a base from the
                                                    # network into a temporary cache directory

Each measurement runs the real `unitctl lab` command. The target is a warm `lab up` under 30 s
on a 2-core machine. Results: a table on stdout and results/benchmarks/lab.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from unitctl import paths
from unitctl import lab
from unitctl.lab import net as labnet

WARM_UP_TARGET_S = 30
RESULTS = paths.PROJECT_ROOT / "results" / "benchmarks" / "lab.json"


def timed_unitctl(*args: str, env: dict | None = None) -> float:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "unitctl.cli", "lab", *args],
                            capture_output=True, text=True, timeout=1800, env=env)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"unitctl lab {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def pss_mb(pid: int) -> float:
    """Proportional set size of one process: its fair share of the memory it uses."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0
    for line in rollup.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory_per_host() -> dict[str, float]:
    """MB of PSS summed over the processes inside each lab host's network namespace."""
    return {m.name: round(sum(map(pss_mb, labnet.netns_pids(m.netns))), 1)
            for m in lab.load_plan().machines}


def measure_cold() -> dict:
    """`lab up` with nothing cached, in a throw-away cache directory."""
    cache = Path(tempfile.mkdtemp(prefix="unitlab-cold-", dir=paths.LAB_CACHE_DIR.parent))
    env = dict(os.environ, UNITLAB_CACHE_DIR=str(cache))
    try:
        up_s = timed_unitctl("up", env=env)
        down_s = timed_unitctl("down", env=env)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {"cold_up_s": round(up_s, 2), "cold_down_s": round(down_s, 2)}


def measure_warm(runs: int) -> dict:
    timed_unitctl("up")  # makes sure the base is cached
    timed_unitctl("down")
    ups, downs, memory = [], [], {}
    for _ in range(runs):
        ups.append(timed_unitctl("up"))
        memory = memory_per_host()
        downs.append(timed_unitctl("down"))
    return {
        "warm_up_s": [round(s, 2) for s in ups],
        "warm_up_median_s": round(statistics.median(ups), 2),
        "warm_up_vs_target": round(statistics.median(ups) / WARM_UP_TARGET_S, 3),
        "down_s": [round(s, 2) for s in downs],
        "down_median_s": round(statistics.median(downs), 2),
        "memory_mb_per_host": memory,
        "memory_mb_per_host_mean": round(statistics.mean(memory.values()), 1),
    }


def print_table(results: dict) -> None:
    rows = [
        ("warm lab up (median)", f"{results['warm_up_median_s']:.2f} s",
         f"{results['warm_up_vs_target']:.2f} x the {WARM_UP_TARGET_S} s target"),
        ("lab down (median)", f"{results['down_median_s']:.2f} s", ""),
        ("memory per lab host (PSS)", f"{results['memory_mb_per_host_mean']:.1f} MB",
         f"{len(results['memory_mb_per_host'])} hosts"),
    ]
    if "cold_up_s" in results:
        rows.insert(0, ("cold lab up (builds base)", f"{results['cold_up_s']:.2f} s", ""))
    for name, value, note in rows:
        print(f"{name:<28} {value:>10}  {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true",
                        help="also measure a cold start (downloads a Debian base)")
    parser.add_argument("--runs", type=int, default=3, help="warm up/down cycles (default 3)")
    args = parser.parse_args()
    was_up = lab.read_state() != {}
    timed_unitctl("down")
    results = {"cpus": os.cpu_count(), "hosts": len(lab.load_plan().machines)}
    if args.cold:
        results |= measure_cold()
    results |= measure_warm(args.runs)
    if was_up:
        timed_unitctl("up")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"written to {RESULTS.relative_to(paths.PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: provisioning 1, 2 and 4 lab workstations at once, from the package cache.

    UNITLAB_KEEP=1 python tests/benchmarks/bench_workstations.py     # or through pytest (-m lab)

Each round first takes the workstation layer off the round's hosts
(tests/benchmarks/workstations_reset.yml: purges Firefox, LibreOffice, CUPS, ClamAV, SANE, the
fonts, and what the roles wrote; untimed), then times `playbooks/workstations.yml` on them. The
baseline (automation account, base, SSH, chrony) stays, and every package file stays in the lab
mirror (apt-cacher-ng) and in the hosts' apt cache: a round measures installing and configuring
from the cache, which is what adding a workstation to a unit costs once the mirror is warm.
The lab cannot reboot hosts fresh mid-run (`lab down/up` is not for a benchmark), hence the purge.

The slope (least squares of seconds over the number of workstations) is the time each added
workstation costs; the 40-workstation figure extrapolates it (ansible.cfg forks = 20). The lab
runs every host on the same two cores, so the slope here is an upper bound: real workstations
install in parallel on their own CPUs and disks.

Writes results/benchmarks/workstations.json and prints a table. The hosts end provisioned.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from lab_helpers import environment, recap_of  # noqa: E402  (the lab tests' ansible-playbook environment)

ROUNDS = {1: ["pros-ws1"], 2: ["pros-ws1", "pros-ws2"], 4: ["court-ws1", "court-ws2", "pros-ws1", "pros-ws2"]}
RESULTS = ROOT / "results" / "benchmarks" / "workstations.json"


def run(playbook: str, hosts: list[str]) -> float:
    started = time.monotonic()
    result = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), playbook, "--limit", ",".join(hosts)],
                            cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=3600)
    elapsed = time.monotonic() - started
    recap = recap_of(result.stdout)
    bad = [h for h in hosts if h not in recap or recap[h]["failed"] != 0 or recap[h]["unreachable"] != 0]
    if result.returncode != 0 or bad:
        raise RuntimeError(f"{playbook} on {hosts} failed ({bad}):\n{result.stdout[-4000:]}\n{result.stderr[-1000:]}")
    return elapsed


def slope(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least squares line through (workstations, seconds): (seconds per added workstation, intercept)."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    per = sxy / sxx
    return per, mean_y - per * mean_x


def benchmark() -> dict:
    from unitctl.lab import ca as labca
    from unitctl.lab import services as labservices  # noqa: PLC0415

    labservices.ensure_unit_vaults()
    labca.ensure_lab_ca()
    # Warm-up: every host provisioned once, so every package is in the mirror and the hosts' caches.
    run("playbooks/workstations.yml", ROUNDS[4])
    rounds = []
    for count, hosts in ROUNDS.items():
        reset = run("tests/benchmarks/workstations_reset.yml", hosts)
        seconds = run("playbooks/workstations.yml", hosts)
        rounds.append({"workstations": count, "hosts": hosts, "seconds": round(seconds, 1), "reset_seconds": round(reset, 1)})
        RESULTS.parent.mkdir(parents=True, exist_ok=True)  # partial figures, kept if a later round fails
        RESULTS.write_text(json.dumps({"benchmark": "workstations", "partial": True, "rounds": rounds}, indent=2) + "\n")
    per, intercept = slope([(r["workstations"], r["seconds"]) for r in rounds])
    document = {
        "benchmark": "workstations",
        "what": "playbooks/workstations.yml on N lab workstations at once, workstation layer reinstalled from the package cache",
        "rounds": rounds,
        "slope_seconds_per_workstation": round(per, 1),
        "intercept_seconds": round(intercept, 1),
        "ratio_4_to_1": round(rounds[-1]["seconds"] / rounds[0]["seconds"], 2),
        "extrapolated_40_workstations_seconds": round(intercept + per * 40, 0),
        "machine": {"cpus": os.cpu_count(), "forks": 20},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return document


def table(document: dict) -> str:
    lines = ["workstations  seconds  per workstation", "------------  -------  ---------------"]
    for r in document["rounds"]:
        lines.append(f"{r['workstations']:>12}  {r['seconds']:>7.1f}  {r['seconds'] / r['workstations']:>15.1f}")
    lines.append(f"slope: {document['slope_seconds_per_workstation']} s per added workstation "
                 f"(intercept {document['intercept_seconds']} s, 4:1 ratio {document['ratio_4_to_1']}); "
                 f"40 workstations ~ {document['extrapolated_40_workstations_seconds']:.0f} s")
    return "\n".join(lines)


@pytest.mark.lab
def test_benchmark_workstations():
    if os.geteuid() != 0 or not Path("/var/lib/unitlab/vault-pass.d").exists():
        pytest.skip("needs the lab (root, lab up)")
    print("\n" + table(benchmark()))


if __name__ == "__main__":
    print(table(benchmark()))

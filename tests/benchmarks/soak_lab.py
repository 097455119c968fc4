"""Soak test of the built-in lab: does it boot and run reliably, cycle after cycle?

    python tests/benchmarks/soak_lab.py --boots 50     # bare cycles: lab up, every host checked, lab down
    python tests/benchmarks/soak_lab.py --cycles 5     # full cycles: lab up, playbooks/site.yml on the
                                                       # whole lab province, every host checked, lab down

Each cycle reports, per host, anything that is not clean: a host `lab up` found not ready
(even one it then repaired by restarting a unit or rebooting: the soak wants none at all), a
failed systemd unit after the cycle, a journal line that shows a fault of the lab itself
(unitctl.lab.machines.LAB_FAULT_PATTERN), and, in full cycles, every failed or unreachable task.
Runs the real `unitctl lab` commands and ansible-playbook; needs root. It brings the lab down
first and at the end. Results: a table on stdout and results/benchmarks/soak.json; exit status
1 when any cycle was not clean.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from unitctl import paths
from unitctl import lab
from unitctl.lab import machines as labmachines
from unitctl.lab.proc import LabError

sys.path.insert(0, str(paths.PROJECT_ROOT / "tests" / "integration"))
from lab_helpers import environment, failed_tasks, recap_of  # noqa: E402

RESULTS = paths.PROJECT_ROOT / "results" / "benchmarks" / "soak.json"
COMMAND_TIMEOUT_S = 3600


def unitctl_lab(action: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "unitctl.cli", "lab", action],
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)


def host_problems(plan: lab.LabPlan) -> dict[str, list[str]]:
    """Failed units and lab-fault journal lines of every lab host, by host (clean ones left out)."""
    problems: dict[str, list[str]] = {}
    for machine in plan.machines:
        found = []
        try:
            _, failed = labmachines.machine_run(machine, "systemctl --failed --plain --no-legend")
            found += [f"failed unit: {line.split()[0]}" for line in failed.splitlines() if line.strip()]
            found += [f"lab fault: {line}" for line in labmachines.lab_faults(machine)]
        except LabError as error:
            found.append(f"not running: {error}")
        if found:
            problems[machine.name] = found
    return problems


def one_cycle(plan: lab.LabPlan, full: bool) -> dict:
    started = time.monotonic()
    cycle: dict = {"problems": {}}
    up = unitctl_lab("up")
    cycle["up_s"] = round(time.monotonic() - started, 1)
    incidents = [line for line in up.stdout.splitlines() if "not ready" in line.lower()
                 or "did not come up" in line]
    if up.returncode != 0 or incidents:
        cycle["problems"]["lab up"] = incidents or [up.stdout[-2000:] + up.stderr[-2000:]]
    if full and up.returncode == 0:
        provision_started = time.monotonic()
        run = subprocess.run(["ansible-playbook", "playbooks/site.yml"], cwd=paths.PROJECT_ROOT,
                             env=environment(), capture_output=True, text=True,
                             timeout=COMMAND_TIMEOUT_S)
        cycle["site_s"] = round(time.monotonic() - provision_started, 1)
        recap = recap_of(run.stdout)
        cycle["recap"] = recap
        if run.returncode != 0 or any(r["failed"] or r["unreachable"] for r in recap.values()):
            cycle["problems"]["site.yml"] = failed_tasks(run.stdout).splitlines()[:40] or \
                [run.stdout[-2000:] + run.stderr[-2000:]]
    cycle["problems"].update(host_problems(plan))
    down = unitctl_lab("down")
    if down.returncode != 0:
        cycle["problems"]["lab down"] = [down.stdout[-2000:] + down.stderr[-2000:]]
    cycle["cycle_s"] = round(time.monotonic() - started, 1)
    return cycle


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boots", type=int, default=0, help="bare cycles: up, check, down")
    parser.add_argument("--cycles", type=int, default=0,
                        help="full cycles: up, site.yml, check, down")
    args = parser.parse_args()
    if not args.boots and not args.cycles:
        parser.error("give --boots N and/or --cycles N")
    plan = lab.load_plan()
    unitctl_lab("down")
    report: dict = {"boots": [], "cycles": []}
    for kind, count, full in (("boots", args.boots, False), ("cycles", args.cycles, True)):
        for number in range(1, count + 1):
            cycle = one_cycle(plan, full)
            report[kind].append(cycle)
            verdict = "clean" if not cycle["problems"] else f"PROBLEMS {cycle['problems']}"
            extra = f" site.yml {cycle['site_s']} s," if "site_s" in cycle else ""
            print(f"{kind[:-1]} {number}/{count}: up {cycle['up_s']} s,{extra} "
                  f"cycle {cycle['cycle_s']} s: {verdict}", flush=True)
    summary = {kind: {"runs": len(report[kind]),
                      "not_clean": sum(1 for c in report[kind] if c["problems"])}
               for kind in ("boots", "cycles")}
    report["summary"] = summary
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(summary), flush=True)
    return 1 if any(s["not_clean"] for s in summary.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

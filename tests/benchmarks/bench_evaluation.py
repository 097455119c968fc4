"""Evaluating the lab province: our runner against serial paramiko and testinfra's ansible backend.

    python tests/benchmarks/bench_evaluation.py                       # ansible backend on a sample (~45 min)
    python tests/benchmarks/bench_evaluation.py --ansible-hosts all   # ansible backend measured in full (over 1 h)
    python tests/benchmarks/bench_evaluation.py --ansible-hosts centre-srv,court-sw1,pros-sw1
    python tests/benchmarks/bench_evaluation.py --resume ...          # complete an interrupted run

Needs the lab up (root: the lab's key, known_hosts and vault password). Read-only: it only runs
the compliance suite (tests/compliance), which changes nothing on the hosts.

In one run, on the same machine, the same checks on the same hosts:
- ours: `unitctl evaluate`'s runner (cli_evaluate.run_suite: pytest-xdist, the default workers,
  paramiko with host keys checked, one connection per host per worker, each host's commands
  through one remote shell per account: unitctl.remote_shell) on the whole province: every Linux
  host and every network device it evaluates;
- serial: serial testinfra over paramiko: the same suite with one worker (plain pytest, no
  xdist) and a channel per command (`--commands exec`, testinfra's own way);
  `--rounds` times each, alternating with ours; the medians are the figures;
- ansible: the same suite with `--backend ansible` (testinfra's ansible backend, every command an
  `ansible` ad-hoc run, serial). It costs about 2.5 s per command here, so by default it is
  measured on a sample, one host of each function (centre server, unit server, workstation) and the
  network devices, each host in its own run; the other hosts are extrapolated from the sampled host
  of their function, per check that ran there (pass, fail or error in ours: not-applicable checks
  cost nothing). The output says which hosts were measured and which extrapolated;
- cost per added host: ours on 1, 2, 4 and 7 Linux hosts (network devices left out; workstations
  and unit servers in turn, the centre third), `--rounds` times each, the least squares slope of
  the medians in seconds per host.
Targets: ansible/ours >= 50, serial/ours >= 5. Never asserted: the machine is shared
(two cores, the lab's hosts and other people's runs on them), so figures move between runs;
a run that finds a host unreachable or a check in error (someone stopping or rebuilding a lab host
meanwhile) is run again, and the log (`--durations=5` of each run) shows where a slow run waited.
Writes results/benchmarks/evaluation.json (and the suite's output to evaluation.log beside it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path


from unitctl import paths
from unitctl.cli import evaluate as cli_evaluate
from unitctl.compliance import network_hosts, target_hosts
from unitctl.inventory.load import load_source

RESULTS = paths.PROJECT_ROOT / "results" / "benchmarks" / "evaluation.json"
LOG = RESULTS.with_suffix(".log")
TARGET_ANSIBLE, TARGET_SERIAL = 50, 5
RAN = ("pass", "fail", "error", "unreachable")  # a check that ran against the host (not skipped)
SLOPE_HOSTS = (1, 2, 4, 7)


@contextmanager
def output_to(log: Path):
    """The suite prints a page per run: send the process's own stdout (fd 1, which pytest inherits) to the log."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(log, "a", encoding="utf-8") as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def timed(label: str, source: Path, workers: int, names: list[str] | None = None, backend: str = "paramiko",
          attempts: int = 3, commands: str = "shell") -> dict:
    """One run of the runner; `names` limits it to those hosts (a -k expression on their test ids).

    A run that found a host unreachable or a check in error was disturbed (someone rebuilding or
    stopping a lab host meanwhile): it is run again, up to `attempts` times, and the figure says so."""
    keyword = " or ".join(names) if names else None
    for attempt in range(1, attempts + 1):
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(f"\n===== {label}: workers={workers} backend={backend} commands={commands} hosts={names or 'all'} "
                      f"attempt {attempt}\n")
        started = time.monotonic()
        with output_to(LOG):
            found = cli_evaluate.run_suite(source, [], workers, keyword,
                                           ("--backend", backend, "--commands", commands, "--durations=5"))
        seconds = time.monotonic() - started
        outcomes = Counter(result["outcome"] for result in found["results"])
        if not (outcomes["unreachable"] or outcomes["error"]) or backend == "ansible":
            break  # the ansible backend reports a refused command as an error: not a disturbance
        print(f"  {label:<28} {seconds:7.1f} s  disturbed {dict(outcomes)}, again", flush=True)
    ran = Counter(result["host"] for result in found["results"] if result["outcome"] in RAN)
    if not ran:  # a suite that collected no host (a broken option) must not pass for a fast runner
        raise SystemExit(f"{label}: no check ran on any host; see {LOG}")
    figure = {"label": label, "seconds": round(seconds, 1), "workers": workers, "backend": backend, "commands": commands,
              "hosts": sorted({result["host"] for result in found["results"]}),
              "checks_run": sum(ran.values()), "checks_run_per_host": dict(sorted(ran.items())),
              "outcomes": dict(sorted(outcomes.items())), "attempts": attempt}
    print(f"  {label:<28} {seconds:7.1f} s  {figure['checks_run']:4d} checks run  {dict(outcomes)}", flush=True)
    return figure


def slope(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least squares line through (hosts, seconds): (seconds per added host, intercept)."""
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    per = (sum((x - mean_x) * (y - mean_y) for x, y in points)
           / sum((x - mean_x) ** 2 for x, _ in points))
    return per, mean_y - per * mean_x


def ansible_sample(choice: str, linux: dict[str, str], devices: list[str]) -> list[str]:
    """Hosts the ansible backend is measured on: all, named ones, or one host per function."""
    if choice == "all":
        return list(linux) + devices
    if choice != "sample":
        names = choice.split(",")
        unknown = [name for name in names if name not in linux and name not in devices]
        if unknown:
            raise SystemExit(f"--ansible-hosts: not in the inventory: {', '.join(unknown)}")
        return names
    first: dict[str, str] = {}
    for name, function in linux.items():
        first.setdefault(function, name)
    return list(first.values()) + devices


def extrapolate(measured: dict[str, dict], full: dict, linux: dict[str, str], devices: list[str]) -> dict:
    """The ansible backend on every host: measured where it ran, else from a measured host of the
    same function, in seconds per check run (its checks as our full run ran them)."""
    per_check: dict[str, float] = {}
    for name, figure in measured.items():
        function = linux.get(name, "network_device")
        if figure["checks_run"]:
            per_check.setdefault(function, figure["seconds"] / figure["checks_run"])
    sampled_linux = [figure for name, figure in measured.items() if name in linux and figure["checks_run"]]
    if not sampled_linux:
        raise SystemExit("the ansible sample needs at least one Linux host")
    linux_rate = sum(f["seconds"] for f in sampled_linux) / sum(f["checks_run"] for f in sampled_linux)
    hosts = {}
    for name in list(linux) + devices:
        if name in measured:
            hosts[name] = {"seconds": measured[name]["seconds"], "how": "measured"}
            continue
        function = linux.get(name, "network_device")
        # no host of its function sampled: the Linux hosts' rate over the whole sample
        rate = per_check.get(function) or linux_rate
        checks = full["checks_run_per_host"].get(name, 0)
        hosts[name] = {"seconds": round(rate * checks, 1), "how": "extrapolated",
                       "from_seconds_per_check": round(rate, 2), "checks": checks,
                       "from_function": function if function in per_check else "all sampled Linux hosts"}
    return {"seconds": round(sum(host["seconds"] for host in hosts.values()), 1), "hosts": hosts,
            "measured_hosts": sorted(measured), "extrapolated_hosts": sorted(set(hosts) - set(measured))}


def benchmark(args) -> dict:
    source = args.inventory.resolve()
    province = load_source(source).province
    linux = {target.name: target.function for target in target_hosts(province)}
    devices = [device.name for device in network_hosts(province)]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document: dict = {"benchmark": "evaluation", "inventory": str(source), "workers": args.workers,
                      "machine": {"cpus": os.cpu_count(), "load_at_start": round(os.getloadavg()[0], 1)}}
    if args.resume:  # what an interrupted run measured stays; only what it lacks is measured
        document = json.loads(RESULTS.read_text(encoding="utf-8"))
        document["resumed"] = True
    else:
        LOG.write_text("", encoding="utf-8")

    def keep(partial: bool = True) -> None:  # figures so far, kept if a later step fails
        RESULTS.write_text(json.dumps({**document, "partial": partial}, indent=2) + "\n", encoding="utf-8")

    ours, serial = document.get("ours_runs", []), document.get("serial_runs", [])
    if "serial_over_ours" not in document:
        print(f"ours ({args.workers} workers) and serial testinfra (1 worker, a channel per command), "
              f"{args.rounds} rounds, alternating:")
    for round_number in range(1, args.rounds + 1) if "serial_over_ours" not in document else ():
        ours.append(timed(f"ours, round {round_number}", source, args.workers))
        serial.append(timed(f"serial, round {round_number}", source, 1, commands="exec"))
        document.update(ours_runs=ours, serial_runs=serial)
        keep()
    ours_s = statistics.median(run["seconds"] for run in ours)
    serial_s = statistics.median(run["seconds"] for run in serial)
    full = max(ours, key=lambda run: run["checks_run"])  # the checks that ran, per host
    document.update(ours_seconds=ours_s, serial_seconds=serial_s, checks_run=full["checks_run"],
                    hosts=len(linux) + len(devices), serial_over_ours=round(serial_s / ours_s, 2))
    keep()

    if "slope_seconds_per_host" not in document:
        print(f"cost per added host (ours, {args.workers} workers, Linux hosts only):")
    by_function: dict[str, list[str]] = {}
    for name, function in linux.items():
        by_function.setdefault(function, []).append(name)
    queues = sorted(by_function.values(), key=len, reverse=True)  # workstations and unit servers in turn
    order = [queue[i] for i in range(max(map(len, queues))) for queue in queues if i < len(queue)]
    points = document.get("slope_runs", []) if "slope_seconds_per_host" in document else []
    for count in SLOPE_HOSTS if not points else ():
        names = order[:count]
        runs = [timed(f"ours, {count} hosts, round {round_number}", source, args.workers, names)
                for round_number in range(1, args.rounds + 1)]
        points.append({"hosts": count, "names": names, "seconds": statistics.median(run["seconds"] for run in runs),
                       "runs_seconds": [run["seconds"] for run in runs], "checks_run": runs[0]["checks_run"]})
        document["slope_runs"] = points
        keep()
    per_host, intercept = slope([(point["hosts"], point["seconds"]) for point in points])
    document.update(slope_seconds_per_host=round(per_host, 2), slope_intercept_seconds=round(intercept, 1))
    keep()

    # One-shot ad-hoc runs are faster with the linear strategy than with ansible.cfg's Mitogen
    # (measured 4.9-6.8 s against 8.5-9.3 s per command here): the backend gets its better setting.
    os.environ.setdefault("ANSIBLE_STRATEGY", "linear")
    document["ansible_strategy"] = os.environ["ANSIBLE_STRATEGY"]
    sample = ansible_sample(args.ansible_hosts, linux, devices)
    print(f"ansible backend (serial), one run per host: {', '.join(sample)}")
    measured = document.get("ansible_runs", {})
    for name in [name for name in sample if name not in measured]:
        measured[name] = timed(f"ansible, {name}", source, 1, [name], backend="ansible")
        document["ansible_runs"] = measured
        keep()
    ansible = extrapolate(measured, full, linux, devices)
    document.update(ansible=ansible, ansible_seconds=ansible["seconds"],
                    ansible_over_ours=round(ansible["seconds"] / ours_s, 1),
                    ansible_measured_in_full=not ansible["extrapolated_hosts"],
                    targets={"ansible_over_ours": TARGET_ANSIBLE, "serial_over_ours": TARGET_SERIAL},
                    machine={**document["machine"], "load_at_end": round(os.getloadavg()[0], 1)})
    keep(partial=False)
    return document


def table(document: dict) -> str:
    ansible = document["ansible"]
    how = ("measured in full" if document["ansible_measured_in_full"] else
           f"measured on {', '.join(ansible['measured_hosts'])}; extrapolated per check for "
           f"{', '.join(ansible['extrapolated_hosts'])}")
    lines = [
        "",
        f"{document['hosts']} hosts, {document['checks_run']} checks run (the rest not applicable to the host)",
        f"{'runner':<42} {'seconds':>8} {'x ours':>7} {'target':>7}",
        f"{'ours (' + str(document['workers']) + ' workers, remote shells)':<42} {document['ours_seconds']:>8.1f} {1:>7.1f}",
        f"{'serial testinfra (paramiko, exec)':<42} {document['serial_seconds']:>8.1f} "
        f"{document['serial_over_ours']:>7.1f} {'>= ' + str(TARGET_SERIAL):>7}",
        f"{'testinfra ansible backend (serial)':<42} {document['ansible_seconds']:>8.1f} "
        f"{document['ansible_over_ours']:>7.1f} {'>= ' + str(TARGET_ANSIBLE):>7}",
        f"  ansible: {how}",
        "cost per added host (ours): " + ", ".join(f"{p['hosts']} hosts {p['seconds']} s" for p in document["slope_runs"])
        + f"; slope {document['slope_seconds_per_host']} s per host (intercept {document['slope_intercept_seconds']} s)",
        f"machine: {document['machine']['cpus']} CPUs, load {document['machine']['load_at_start']} at start, "
        f"{document['machine']['load_at_end']} at end",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", type=Path, default=paths.LAB_INVENTORY)
    parser.add_argument("--workers", type=int, default=cli_evaluate.DEFAULT_WORKERS, help="ours: the runner's workers")
    parser.add_argument("--rounds", type=int, default=3,
                        help="ours and serial alternating, and each point of the slope (medians)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the partial results/benchmarks/evaluation.json of an interrupted run")
    parser.add_argument("--ansible-hosts", default="sample",
                        help="'sample' (one host per function and the network devices), 'all', or NAME,NAME...")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (the lab's key and vault password)")
    document = benchmark(args)
    print(table(document))
    print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()

"""How the toolkit's costs grow with the province: synthetic lab provinces of N small units.

    python tests/benchmarks/bench_scale.py                  # N = 3, 6 and 12 (7, 13 and 25 lab hosts)
    python tests/benchmarks/bench_scale.py --units 3,6      # other sizes (1 to 24: the lab's address plan)
    python tests/benchmarks/bench_scale.py --rounds 3       # each measured step 3 times (medians)

For each N, in this order:
1. `unitctl lab generate --units N` into results/benchmarks/scale/N/ (unitctl.lab.generate: N units
   of a unit server and a CMS workstation each, beside the lab's centre; 2N+1 lab hosts);
2. `unitctl lab down`, then `UNITLAB_UNITS_DIR=.../units unitctl lab up` (bare hosts; `lab up`
   makes each generated unit's vault with its own identity and password);
3. `ansible-playbook playbooks/site.yml` once on the generated inventory: the convergence (timed,
   reported, not a figure of the comparison; a convergence with a failed or unreachable host stops
   the benchmark, since a rerun of a half-converged province measures nothing);
4. measured, `--rounds` times each:
   - rerun: site.yml again, idempotent (its `changed` count is recorded: anything but 0 is said);
   - direct: `unitctl evaluate` (the compliance suite over SSH on every host, 4 workers);
   - collect: `unitctl evaluate --collect --collected DIR`, where DIR holds one file per unit made
     from the direct run's own compliance results (the evaluation's `checks` and that unit's
     `results`) by unitctl.unit_results.spool_results, sent by the unit's server, as the unit's
     sender would deliver it (the UPS facts are not in the direct run's report, so collect mode
     reports none here; they cost nothing measurable);
then the slope of each step's medians against the number of Linux hosts (least squares): the
seconds per added host, and the intercept (what does not grow with the province).

Always `unitctl lab down` at the end, also when a step fails or the run is interrupted (Ctrl-C,
SIGTERM): the next plain `unitctl lab up` boots the lab's own province again. The lab's state
folder keeps what `lab up` made for the generated units (their vault passwords, host keys), as it
keeps the lab's own; the generated provinces stay under results/benchmarks/scale/ to be looked at.

Needs root (the lab). Never asserts a time: the machine is shared (two CPUs, every lab host on
them), so figures move by tens of percent between runs. Writes results/benchmarks/scale.json after
every step (`partial` until the end) and the playbooks' output to scale.log beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
if str(SCRIPTS) not in sys.path:  # this checkout's unitctl, whichever one is installed
    sys.path.insert(0, str(SCRIPTS))

from unitctl import unit_results  # noqa: E402
from unitctl.inventory import vaults  # noqa: E402
from unitctl.inventory.load import load_units_dir  # noqa: E402
from unitctl.lab import generate as labgenerate  # noqa: E402

RESULTS = ROOT / "results" / "benchmarks" / "scale.json"
LOG = RESULTS.with_suffix(".log")
WORK = ROOT / "results" / "benchmarks" / "scale"
DEFAULT_UNITS = (3, 6, 12)
STEPS = ("rerun", "direct", "collect")
LAB_TIMEOUT_S = 1800
PLAYBOOK_TIMEOUT_S = 4 * 3600
EVALUATE_TIMEOUT_S = 3600
SERVER_FUNCTIONS = ("unit_server", "centre_server")


# --- pure parts (tests/unit/test_lab_generate.py) ------------------------------------------------

def unit_counts(text: str) -> list[int]:
    """--units: comma-separated counts, each one the lab's address plan holds, at least two
    different ones (a slope needs two points); sorted, without repeats."""
    try:
        counts = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not whole numbers: {text}") from error
    for count in counts:
        try:
            labgenerate.check_count(count)
        except labgenerate.GenerateRefused as refusal:
            raise argparse.ArgumentTypeError(str(refusal)) from refusal
    if len(counts) < 2:
        raise argparse.ArgumentTypeError("give at least two different unit counts: a slope needs two points")
    return counts


def slope(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares line through (hosts, seconds): (seconds per added host, intercept).
    Raises ValueError with fewer than two different host counts."""
    if len({x for x, _ in points}) < 2:
        raise ValueError("a slope needs points at two different host counts at least")
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    per = (sum((x - mean_x) * (y - mean_y) for x, y in points)
           / sum((x - mean_x) ** 2 for x, _ in points))
    return per, mean_y - per * mean_x


def slopes(sizes: list[dict]) -> dict[str, dict[str, float]]:
    """For each measured step present in every size: its seconds per added host and intercept."""
    found = {}
    for step in STEPS:
        points = [(size["hosts"], size[step]["seconds"]) for size in sizes if step in size]
        if len(points) == len(sizes) and len({x for x, _ in points}) >= 2:
            per, intercept = slope(points)
            found[step] = {"seconds_per_host": round(per, 2), "intercept_seconds": round(intercept, 1)}
    return found


def table(document: dict) -> str:
    """The figures as a table: one row per province size, then the slope of each step."""
    lines = ["", f"{'units':>5} {'hosts':>5} {'lab up s':>9} {'converge s':>11} {'rerun s':>8} {'changed':>8} "
                 f"{'direct s':>9} {'collect s':>10}"]
    for size in document["sizes"]:
        def cell(step: str, width: int) -> str:
            return f"{size[step]['seconds']:>{width}.1f}" if step in size else f"{'-':>{width}}"
        changed = size["rerun"]["changed"] if "rerun" in size else "-"
        lines.append(f"{size['units']:>5} {size['hosts']:>5} {size['lab_up_seconds']:>9.1f} "
                     f"{size['converge']['seconds']:>11.1f} {cell('rerun', 8)} {changed:>8} "
                     f"{cell('direct', 9)} {cell('collect', 10)}")
    for step, figure in document.get("slopes", {}).items():
        lines.append(f"{step:<8} {figure['seconds_per_host']:>7.2f} s per added host "
                     f"(intercept {figure['intercept_seconds']:.1f} s)")
    machine = document["machine"]
    lines.append(f"machine: {machine['cpus']} CPUs, load {machine['load_at_start']} at start"
                 + (f", {machine['load_at_end']} at end" if "load_at_end" in machine else ""))
    return "\n".join(lines)


def unit_senders(units_dir: Path) -> dict[str, str]:
    """Each unit's server, the host that spools and sends its results: unit id -> host name."""
    senders = {}
    for unit in load_units_dir(units_dir).units:
        servers = [host["name"] for host in unit.hosts if host.get("function") in SERVER_FUNCTIONS]
        if servers:
            senders[unit.id] = servers[0]
    return senders


def spool_from_evaluation(evaluation: dict, senders: dict[str, str], folder: Path) -> list[Path]:
    """One results file per unit in `folder` (FOLDER/UNIT/STAMP.json, unitctl.unit_results), from a
    direct evaluation's report: the suite's checks and the unit's own results, started and finished
    as the direct run was, sent by the unit's server."""
    started = datetime.fromisoformat(evaluation["run"]["started"])
    finished = datetime.fromisoformat(evaluation["run"]["finished"])
    compliance_checks = evaluation["checks"]
    written = []
    for unit_id, sender in sorted(senders.items()):
        results = [result for result in evaluation["results"] if result["unit_id"] == unit_id]
        compliance = {"schema": unit_results.COMPLIANCE_SCHEMA, "checks": compliance_checks,
                      "results": results, "facts": {}}
        written.append(unit_results.spool_results(folder, unit_id, sender, started, finished,
                                                  evaluation["run"].get("toolkit_commit") or "unknown", compliance))
    return written


def province_environment(source: Path, units_dir: Path, unit_ids: list[str], base: dict | None = None) -> dict:
    """The environment of every command run on a generated province: this checkout's config and
    code, the generated inventory (UNITCTL_INVENTORY) and units (UNITLAB_UNITS_DIR), and each
    unit's vault identity through the password client."""
    env = dict(os.environ if base is None else base)
    env.update({
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_VAULT_IDENTITY_LIST": ",".join(f"{unit_id}@{vaults.CLIENT}" for unit_id in unit_ids),
        "UNITCTL_INVENTORY": str(source),
        "UNITLAB_UNITS_DIR": str(units_dir),
        "PYTHONPATH": os.pathsep.join([str(SCRIPTS), *filter(None, [env.get("PYTHONPATH")])]),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
    })
    return env


# --- running it -----------------------------------------------------------------------------------

def logged(label: str, command: list[str], env: dict, timeout: float) -> tuple[subprocess.CompletedProcess, float]:
    """Run a command from the checkout's top, its output appended to the log; (result, seconds)."""
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                            check=False)
    seconds = time.monotonic() - started
    with LOG.open("a", encoding="utf-8") as log:
        log.write(f"\n===== {label}: {' '.join(command)} -> exit {result.returncode} in {seconds:.1f} s\n")
        log.write(result.stdout)
        log.write(result.stderr)
    return result, seconds


def unitctl(*args: str) -> list[str]:
    return [sys.executable, "-m", "unitctl.cli", *args]


def lab(action: str, env: dict) -> float:
    result, seconds = logged(f"lab {action}", unitctl("lab", action), env, LAB_TIMEOUT_S)
    if result.returncode != 0:
        raise SystemExit(f"unitctl lab {action} failed (exit {result.returncode}); see {LOG}:\n"
                         f"{(result.stdout + result.stderr)[-2000:]}")
    return seconds


def playbook_run(label: str, source: Path, env: dict) -> dict:
    """site.yml on the generated province; its seconds and the recap's totals. A failed or
    unreachable host stops the benchmark."""
    from lab_helpers import failed_tasks, recap_of  # noqa: PLC0415  (imports the lab tests' helpers)

    result, seconds = logged(label, [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(source),
                                     "playbooks/site.yml"], env, PLAYBOOK_TIMEOUT_S)
    recap = recap_of(result.stdout)
    bad = {host: counts for host, counts in recap.items() if counts["failed"] or counts["unreachable"]}
    if result.returncode != 0 or bad or not recap:
        raise SystemExit(f"{label}: site.yml did not converge every host ({bad or 'no recap'}); see {LOG}:\n"
                         + (failed_tasks(result.stdout)[-3000:] or (result.stdout + result.stderr)[-2000:]))
    return {"seconds": round(seconds, 1), "hosts": len(recap),
            "changed": sum(counts["changed"] for counts in recap.values())}


def evaluate_run(label: str, output: Path, env: dict, *extra: str) -> tuple[dict, dict]:
    """`unitctl evaluate` (direct, or with `extra` --collect ...) into `output`, its own history
    beside it; (figure, the report). Exit 0 or 1 (compliant or not) is a run; 2 (a host unreachable,
    a unit not reported) is said in the figure."""
    result, seconds = logged(label, unitctl("evaluate", "--output", str(output), "--history", str(output / "history"),
                                            *extra), env, EVALUATE_TIMEOUT_S)
    report_path = output / "evaluation.json"
    if not report_path.exists():
        raise SystemExit(f"{label}: no report written (exit {result.returncode}); see {LOG}")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    counts: dict[str, int] = {}
    for unit in report["units"].values():
        for outcome, count in unit["counts"].items():
            counts[outcome] = counts.get(outcome, 0) + count
    figure = {"seconds": round(seconds, 1), "exit_status": result.returncode, "counts": counts,
              "unreachable_hosts": sorted(h for unit in report["units"].values() for h in unit["unreachable_hosts"])}
    if extra:
        figure["not_reported"] = sorted(unit_id for unit_id, unit in report["units"].items()
                                        if (unit.get("collected") or {}).get("state") != "reported")
    return figure, report


def measured(label: str, rounds: int, run) -> dict:
    """`run()` `rounds` times: the median's figure, with every round's seconds."""
    figures = []
    for number in range(1, rounds + 1):
        figure = run(f"{label}, round {number}")
        print(f"    {label:<8} round {number}: {figure['seconds']:8.1f} s", flush=True)
        figures.append(figure)
    median = statistics.median(figure["seconds"] for figure in figures)
    return {**figures[-1], "seconds": round(median, 1), "rounds_seconds": [f["seconds"] for f in figures]}


def one_size(units: int, rounds: int, document: dict, keep) -> dict:
    folder = WORK / str(units)
    source = labgenerate.generate(units, folder)
    units_dir = folder / labgenerate.UNITS_FOLDER
    unit_ids = [unit.id for unit in load_units_dir(units_dir).units]
    env = province_environment(source, units_dir, unit_ids)
    size = {"units": units, "hosts": labgenerate.lab_hosts(units), "inventory": str(source)}
    document["sizes"].append(size)
    print(f"{units} units ({size['hosts']} lab hosts): {source}", flush=True)
    lab("down", env)
    size["lab_up_seconds"] = round(lab("up", env), 1)
    keep()
    print(f"    lab up   {size['lab_up_seconds']:8.1f} s", flush=True)
    size["converge"] = playbook_run(f"{units} units: converge", source, env)
    keep()
    print(f"    converge {size['converge']['seconds']:8.1f} s", flush=True)

    size["rerun"] = measured("rerun", rounds, lambda label: playbook_run(f"{units} units: {label}", source, env))
    if size["rerun"]["changed"]:
        print(f"    note: the rerun changed {size['rerun']['changed']} things: not idempotent", flush=True)
    keep()
    direct_output = folder / "evaluation-direct"
    reports = []

    def direct(label: str) -> dict:
        figure, report = evaluate_run(f"{units} units: direct, {label}", direct_output, env)
        reports.append(report)
        return figure

    size["direct"] = measured("direct", rounds, direct)
    keep()
    collected = folder / "collected"
    spooled = spool_from_evaluation(reports[-1], unit_senders(units_dir), collected)
    size["collect_files"] = len(spooled)
    collect_output = folder / "evaluation-collect"
    size["collect"] = measured("collect", rounds, lambda label: evaluate_run(
        f"{units} units: collect, {label}", collect_output, env, "--collect", "--collected", str(collected))[0])
    if size["collect"].get("not_reported"):
        print(f"    note: collect mode found no results of {', '.join(size['collect']['not_reported'])}", flush=True)
    keep()
    return size


def benchmark(args) -> dict:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    LOG.write_text("", encoding="utf-8")
    document: dict = {"benchmark": "scale", "rounds": args.rounds, "unit_counts": args.units, "sizes": [],
                      "machine": {"cpus": os.cpu_count(), "load_at_start": round(os.getloadavg()[0], 1)}}

    def keep(partial: bool = True) -> None:
        RESULTS.write_text(json.dumps({**document, "partial": partial}, indent=2) + "\n", encoding="utf-8")

    # SIGTERM ends the run as Ctrl-C does: through the `finally` that brings the lab down.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(f"stopped by signal {number}"))
    plain = dict(os.environ)
    plain.pop("UNITLAB_UNITS_DIR", None)
    try:
        for units in args.units:
            one_size(units, args.rounds, document, keep)
        document["slopes"] = slopes(document["sizes"])
        document["machine"]["load_at_end"] = round(os.getloadavg()[0], 1)
        keep(partial=False)
    finally:
        print("lab down (the lab's own province boots with the next plain `unitctl lab up`)", flush=True)
        down = subprocess.run(unitctl("lab", "down"), cwd=ROOT, env=plain, capture_output=True, text=True,
                              timeout=LAB_TIMEOUT_S, check=False)
        if down.returncode != 0:
            print(f"unitctl lab down failed (exit {down.returncode}):\n{down.stdout}{down.stderr}", file=sys.stderr)
    return document


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Needs root (the lab); writes results/benchmarks/scale.json.")
    parser.add_argument("--units", type=unit_counts, default=list(DEFAULT_UNITS), metavar="N,N,...",
                        help=f"province sizes, in units beside the centre (default: "
                             f"{','.join(map(str, DEFAULT_UNITS))}; each 1 to {labgenerate.MAX_UNITS})")
    parser.add_argument("--rounds", type=int, default=1,
                        help="times each measured step (rerun, direct, collect) runs per size; medians (default 1)")
    return parser


def main() -> None:
    args = parser().parse_args()
    if args.rounds < 1:
        raise SystemExit("--rounds must be at least 1")
    if os.geteuid() != 0:
        raise SystemExit("needs root (the lab: network namespaces, systemd-nspawn, its key and vault passwords)")
    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    document = benchmark(args)
    print(table(document))
    print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()

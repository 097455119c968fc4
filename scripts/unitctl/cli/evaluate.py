"""`unitctl check UNIT` (a technician checks their unit) and `unitctl evaluate` (the provincial
centre checks every unit): run the compliance suite in parallel, then write the report.

Where they write, by default: `evaluate` into results/evaluation/, `check UNIT` into
results/evaluation/units/UNIT/, so a unit check never replaces the province's report. Both keep
their history in one folder (results/evaluation/history/, or OUTPUT/history with --output), the
province's evaluations apart from each unit's checks (unitctl.report.evaluation explains the
layout and what each trend compares with)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path


from unitctl import paths
from unitctl.cli import CommandRefused, add_inventory_option, checked_source, exit_statuses, unit_ids_completer
from unitctl.inventory.choice import OPTION, InventoryChoice, unit_not_found
from unitctl.inventory.derived import todo_markers
from unitctl.report import evaluation

DEFAULT_WORKERS = 4
DEFAULT_OUTPUT = paths.PROJECT_ROOT / "results" / "evaluation"


def statuses(what: str) -> str:
    """The exit statuses of check and evaluate (unitctl.report.evaluation.EXIT_*; CommandRefused)."""
    return exit_statuses(
        (str(evaluation.EXIT_COMPLIANT), f"compliant: every check of {what} passed"),
        (str(evaluation.EXIT_NON_COMPLIANT), "non-compliant: at least one check failed (the report lists them "
                                              "with the playbook that fixes each)"),
        (str(evaluation.EXIT_NOT_EVALUATED), "not evaluated, in part or whole: nothing failed, but some host was "
                                              "unreachable or some check could not run; also wrong usage, a unit "
                                              "not in the inventory, an inventory that is missing or not valid, or "
                                              "units with TODO markers (refused, no report written)"),
    )


def register(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser("check", help="check one unit's compliance and write its report",
                                epilog=statuses("the unit"))
    check.add_argument("unit", help="the unit id, e.g. qom-court").completer = unit_ids_completer
    evaluate = commands.add_parser("evaluate", help="evaluate every unit of the province for the ICT council",
                                   epilog=statuses("every unit"))
    for parser in (check, evaluate):
        add_inventory_option(parser, paths.LAB_INVENTORY, "the lab province, inventory/lab.unitctl.yml")
        parser.add_argument("--output", type=Path, default=None,
                            help="where the JSON, JUnit and HTML reports go (default: results/evaluation/ for "
                                 "evaluate, results/evaluation/units/UNIT/ for check)")
        parser.add_argument("--history", type=Path, default=None,
                            help="earlier runs, for the trend: the province's evaluations, and each unit's "
                                 "checks under units/UNIT/ (default: OUTPUT/history, results/evaluation/history "
                                 "for check without --output)")
        parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="hosts checked at once")
        parser.add_argument("-k", dest="keyword", default=None, help="only checks matching this pytest expression")
    check.set_defaults(func=lambda args: run(args, [args.unit]))
    evaluate.set_defaults(func=lambda args: run(args, []))


def run(args, unit_ids: list[str]) -> int:
    loaded = checked_source(args.inventory)
    province = loaded.province
    source = args.inventory.resolve()
    known = {unit.id for unit in province.units}
    unknown = [unit_id for unit_id in unit_ids if unit_id not in known]
    if unknown:
        choice = getattr(args, "inventory_choice", None) or InventoryChoice(args.inventory, OPTION)
        print(f"unitctl: {unit_not_found(unknown, choice, sorted(known))}", file=sys.stderr)
        return evaluation.EXIT_NOT_EVALUATED
    # A unit still being onboarded (TODO markers from new-unit) is not evaluated as if it were real.
    unfinished = {unit.id: todo_markers(unit) for unit in province.units
                  if (not unit_ids or unit.id in unit_ids) and todo_markers(unit)}
    if unfinished:
        raise CommandRefused("these units still have TODO markers, so they cannot be evaluated yet (unitctl "
                             "validate --strict lists them): " + ", ".join(
                                 f"{unit_id} ({len(markers)})" for unit_id, markers in sorted(unfinished.items())))

    started = datetime.now(UTC)
    print(f"checking {', '.join(unit_ids) or 'every unit'} of {paths.in_checkout(source)}, "
          f"{args.workers} host{'s' * (args.workers != 1)} at once", flush=True)
    compliance = run_suite(source, unit_ids, args.workers, args.keyword)
    user, sudo_user = evaluation.who_ran()
    run_info = evaluation.RunInfo(started, datetime.now(UTC), user, sudo_user, evaluation.toolkit_commit(),
                                  paths.in_checkout(source), unit_ids, args.keyword)
    output = args.output or (DEFAULT_OUTPUT / "units" / unit_ids[0] if len(unit_ids) == 1 else DEFAULT_OUTPUT)
    history = args.history or (args.output or DEFAULT_OUTPUT) / "history"
    report = evaluation.build_evaluation(compliance, province, run_info,
                                         evaluation.previous_for(history, unit_ids, args.keyword),
                                         facts=compliance.get("facts"),
                                         identity=evaluation.province_identity(loaded.root),
                                         history=evaluation.score_history(history, unit_ids, args.keyword))
    written = evaluation.write_outputs(report, output, history)
    print_summary(report)
    for kind, path in written.items():
        print(f"{kind:>6}: {path}")
    return evaluation.exit_status(report)


COMPLIANCE_SUITE = paths.PROJECT_ROOT / "tests" / "compliance"

# pytest's screen output quieted: a line per host (unitctl.compliance_progress) instead of a letter
# per check and a traceback per failure; each failure's evidence is in the results and the report.
QUIET = ("-q", "--no-header", "-rN", "--tb=no", "-o", "console_output_style=classic", "--progress")


def run_suite(source: Path, unit_ids: list[str], workers: int, keyword: str | None,
              pytest_args: tuple[str, ...] = (), suite: Path = COMPLIANCE_SUITE) -> dict:
    """The testinfra suite in tests/compliance (or `suite`), on many hosts at once (pytest-xdist,
    paramiko), printing a line as each host's checks finish. Returns the results
    (unitctl-compliance/1: checks and results; empty when the suite could not run).

    `pytest_args` go to pytest as they are (tests/benchmarks/bench_evaluation.py: `--backend ansible`)."""
    with tempfile.TemporaryDirectory(prefix="unitctl-check-") as scratch:
        results = Path(scratch) / "compliance.json"
        command = [sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider", *QUIET,
                   "--inventory", str(source), "--compliance-json", str(results)]
        command += ["-n", str(workers)] if workers > 1 else []
        command += [argument for unit_id in unit_ids for argument in ("--unit", unit_id)]
        command += ["-k", keyword] if keyword else []
        command += list(pytest_args)
        subprocess.run(command, cwd=paths.PROJECT_ROOT, check=False, timeout=3600,
                       env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        if not results.exists():  # the suite itself could not run
            return {"schema": "unitctl-compliance/1", "checks": {}, "results": []}
        return json.loads(results.read_text(encoding="utf-8"))


def print_summary(report: dict) -> None:
    print(f"\n{'unit':<18} {'score':>7} {'trend':>7} {'pass':>5} {'fail':>5} {'error':>5} {'unreach':>7}")
    for unit_id, unit in report["units"].items():
        score = "n/a" if unit["score"] is None else f"{unit['score']:.1f}%"
        trend = "" if unit["trend"] is None else f"{unit['trend']:+.1f}"
        counts = unit["counts"]
        print(f"{unit_id:<18} {score:>7} {trend:>7} {counts['pass']:>5} {counts['fail']:>5} "
              f"{counts['error']:>5} {counts['unreachable']:>7}")
        for failure in unit["failures"]:
            print(f"  [{failure['severity']}] {failure['check_id']} {failure['host']}: {failure['title_en']}"
                  f"  -> fix: {failure['fix_command'] or failure['fix']}")
        if unit["unreachable_hosts"]:
            print(f"  unreachable: {', '.join(unit['unreachable_hosts'])}")
        if unit.get("evaluated") == "none":
            print("  NOT EVALUATED: no check of this unit could be evaluated")
        elif unit.get("evaluated") == "partial":
            print("  evaluation incomplete: some hosts or checks could not be evaluated")
    print(f"\nstatus: {report['status']}")

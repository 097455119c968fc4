"""`unitctl check UNIT` (a technician checks their unit) and `unitctl evaluate` (the provincial
centre checks every unit): run the compliance suite in parallel, then write the report.
`unitctl evaluate --collect` writes the same report from the results the units sent to the centre
(unitctl.unit_results), running nothing.

Where they write, by default: `evaluate` into results/evaluation/, `check UNIT` into
results/evaluation/units/UNIT/, so a unit check never replaces the province's report. Both keep
their history in one folder (results/evaluation/history/, or OUTPUT/history with --output), the
province's evaluations apart from each unit's checks (unitctl.report.evaluation explains the
layout and what each trend compares with)."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path


from unitctl import paths, unit_results
from unitctl.cli import CommandRefused, add_inventory_option, checked_source, exit_statuses, unit_ids_completer
from unitctl.i18n import N_, _, language, ngettext, number, word
from unitctl.inventory.choice import OPTION, InventoryChoice, unit_not_found
from unitctl.inventory.derived import todo_markers
from unitctl.inventory.policy import load_policy
from unitctl.report import evaluation

DEFAULT_WORKERS = 4
DEFAULT_OUTPUT = paths.PROJECT_ROOT / "results" / "evaluation"


def statuses(compliant: str) -> str:
    """The exit statuses of check and evaluate (unitctl.report.evaluation.EXIT_*; CommandRefused);
    `compliant` is the meaning of a compliant run for the command (English, marked with N_())."""
    return exit_statuses(
        (str(evaluation.EXIT_COMPLIANT), compliant),
        (str(evaluation.EXIT_NON_COMPLIANT), N_("non-compliant: at least one check failed (the report lists them "
                                                 "with the playbook that fixes each)")),
        (str(evaluation.EXIT_NOT_EVALUATED), N_("not evaluated, in part or whole: nothing failed, but some host was "
                                                 "unreachable, some check could not run, or (--collect) some unit "
                                                 "did not report; also wrong usage, a unit "
                                                 "not in the inventory, an inventory that is missing or not valid, or "
                                                 "units with TODO markers (refused, no report written)")),
    )


def register(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser("check", help=_("check one unit's compliance and write its report"),
                                epilog=statuses(N_("compliant: every check of the unit passed")))
    check.add_argument("unit", help=_("the unit id, e.g. qom-court")).completer = unit_ids_completer
    check.add_argument("--host", dest="hosts", action="append", default=[],
                       help=_("check only this host of the unit (repeatable), e.g. after upgrading it"))
    check.add_argument("--spool", type=Path, default=None, metavar="DIR",
                       help=_("also write the unit's results for the centre into DIR/UNIT/STAMP.json, where the "
                              "unit server's sender takes them (results_sender: /var/spool/unitctl/results); "
                              "only for a check of the whole unit"))
    check.add_argument("--sender", default=None, metavar="HOST",
                       help=_("with --spool: the unit's host that ran the check, as the inventory names it "
                              "(default: this machine's short host name)"))
    evaluate = commands.add_parser("evaluate", help=_("evaluate every unit of the province for the ICT council"),
                                   epilog=statuses(N_("compliant: every check of every unit passed")))
    for parser in (check, evaluate):
        add_inventory_option(parser, paths.LAB_INVENTORY, N_("the lab province, inventory/lab.unitctl.yml"))
        parser.add_argument("--output", type=Path, default=None,
                            help=_("where the JSON, JUnit and HTML reports go (default: results/evaluation/ for "
                                   "evaluate, results/evaluation/units/UNIT/ for check)"))
        parser.add_argument("--history", type=Path, default=None,
                            help=_("earlier runs, for the trend: the province's evaluations, and each unit's "
                                   "checks under units/UNIT/ (default: OUTPUT/history, results/evaluation/history "
                                   "for check without --output)"))
        parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help=_("hosts checked at once"))
        parser.add_argument("-k", dest="keyword", default=None,
                            help=_("only checks matching this pytest expression"))
    evaluate.add_argument("--collect", action="store_true",
                          help=_("build the province's report from the newest results each unit sent to the "
                                 "centre, connecting to no host (a unit that sent none, or none recent enough, is "
                                 "not reported)"))
    evaluate.add_argument("--collected", type=Path, default=None, metavar="DIR",
                          help=_("with --collect: the folder the units' results arrive in, as DIR/UNIT/STAMP.json "
                                 "(default: {folder})").format(folder=paths.in_checkout(paths.COLLECTED_DIR)))
    check.set_defaults(func=lambda args: run(args, [args.unit]))
    evaluate.set_defaults(func=lambda args: collect(args) if args.collect else run(args, []))


def evaluable_source(args, unit_ids: list[str]):
    """The inventory, validated, when `unit_ids` (none: every unit) can be evaluated: every id is a
    unit of it, and none of those units still has TODO markers. Returns a unitctl.inventory.load.Source,
    or None when a unit id is unknown (said on stderr). Raises CommandRefused otherwise."""
    loaded = checked_source(args.inventory)
    province = loaded.province
    known = {unit.id for unit in province.units}
    unknown = [unit_id for unit_id in unit_ids if unit_id not in known]
    if unknown:
        choice = getattr(args, "inventory_choice", None) or InventoryChoice(args.inventory, OPTION)
        print("unitctl: " + unit_not_found(unknown, choice, sorted(known)), file=sys.stderr)
        return None
    # A unit still being onboarded (TODO markers from new-unit) is not evaluated as if it were real.
    unfinished = {unit.id: todo_markers(unit) for unit in province.units
                  if (not unit_ids or unit.id in unit_ids) and todo_markers(unit)}
    if unfinished:
        raise CommandRefused(_("these units still have TODO markers, so they cannot be evaluated yet (unitctl "
                               "validate --strict lists them): {units}").format(units=", ".join(
                                   f"{unit_id} ({number(len(markers))})"
                                   for unit_id, markers in sorted(unfinished.items()))))
    return loaded


def run(args, unit_ids: list[str]) -> int:
    if getattr(args, "collected", None) is not None:
        raise CommandRefused(_("--collected names the folder that --collect reads: give both, or neither for "
                               "the direct evaluation"))
    loaded = evaluable_source(args, unit_ids)
    if loaded is None:
        return evaluation.EXIT_NOT_EVALUATED
    province = loaded.province
    source = args.inventory.resolve()

    hosts = getattr(args, "hosts", [])
    unit_hosts = {host["name"] for unit, host in province.all_hosts() if unit.id in unit_ids}
    strangers = [name for name in hosts if name not in unit_hosts]
    if strangers:
        raise CommandRefused(_("not a host of {unit}: {hosts} (its hosts: {known})").format(
            unit=", ".join(unit_ids), hosts=", ".join(strangers), known=", ".join(sorted(unit_hosts))))

    sender = spool_sender(args, unit_ids, unit_hosts)
    started = datetime.now(UTC)
    print(ngettext("checking {units} of {inventory}, {count} host at once",
                   "checking {units} of {inventory}, {count} hosts at once", args.workers).format(
              units=", ".join(unit_ids) or _("every unit"), inventory=paths.in_checkout(source),
              count=number(args.workers)), flush=True)
    compliance = run_suite(source, unit_ids, args.workers, args.keyword,
                           tuple(argument for name in hosts for argument in ("--only-host", name)))
    user, sudo_user = evaluation.who_ran()
    run_info = evaluation.RunInfo(started, datetime.now(UTC), user, sudo_user, evaluation.toolkit_commit(),
                                  paths.in_checkout(source), unit_ids, args.keyword)
    status = report_and_exit(args, loaded, compliance, run_info)
    if sender is None:
        return status
    if not compliance["results"]:
        print("unitctl: " + _("the compliance suite gave no results, so nothing was written for the centre"),
              file=sys.stderr)
        return evaluation.EXIT_NOT_EVALUATED
    spooled = unit_results.spool_results(args.spool, unit_ids[0], sender, run_info.started, run_info.finished,
                                         run_info.toolkit_commit, compliance)
    print(_("written for the centre: {path}").format(path=spooled))
    return status


def spool_sender(args, unit_ids: list[str], unit_hosts: set[str]) -> str | None:
    """The host named as the sender of the results `unitctl check --spool` writes (None without
    --spool). The centre refuses results that do not come from a host of the unit
    (unitctl.unit_results), and takes a unit's newest file for the whole unit, so a part of a
    check (-k, --host) is never written for it. Raises CommandRefused before any host is checked."""
    if getattr(args, "spool", None) is None:
        if getattr(args, "sender", None) is not None:
            raise CommandRefused(_("--sender names the host of the results --spool writes: give --spool too"))
        return None
    if args.keyword or getattr(args, "hosts", []):
        raise CommandRefused(_("--spool writes the results of the whole unit for the centre, which takes them as the "
                               "unit's: check every host and every check (no -k, no --host)"))
    sender = args.sender or socket.gethostname().split(".")[0]
    if sender not in unit_hosts:
        raise CommandRefused(_("{host} is not a host of {unit}, and the centre takes a unit's results only from one "
                               "of its hosts: run the check on the unit server, or name it with --sender (the unit's "
                               "hosts: {known})").format(host=sender, unit=unit_ids[0], known=", ".join(sorted(unit_hosts))))
    return sender


def collect(args) -> int:
    """`unitctl evaluate --collect`: the province's report from the newest results each unit sent
    (unitctl.unit_results), without running the suite. Files refused are named on stderr with the
    reason, and in the report; a unit without results within policy's age is not reported."""
    if args.keyword:
        raise CommandRefused(_("-k limits a run of the compliance suite, and --collect runs none: it reads the "
                               "results the units sent"))
    loaded = evaluable_source(args, [])
    province, source = loaded.province, args.inventory.resolve()
    folder = args.collected or paths.COLLECTED_DIR
    policy = load_policy(loaded.root, province, lab=loaded.lab)
    max_age = policy.get(unit_results.MAX_AGE_POLICY, unit_results.DEFAULT_MAX_AGE_HOURS)
    started = datetime.now(UTC)
    print(ngettext("reading the results the units sent to {folder}; results checked more than {hours} hour ago "
                   "count as not reported",
                   "reading the results the units sent to {folder}; results checked more than {hours} hours ago "
                   "count as not reported", max_age).format(folder=paths.in_checkout(folder), hours=number(max_age)),
          flush=True)
    found = unit_results.newest_results(folder, province, started, paths.in_checkout(source))
    for refusal in found.refused:
        print("unitctl: " + _("refused {file}: {reason}").format(
            file=unit_results.printable(unit_results.displayed(refusal.path)),
            reason=unit_results.printable(refusal.message())), file=sys.stderr)
    collected = unit_results.collection(found, province, started, max_age, folder)
    user, sudo_user = evaluation.who_ran()
    run_info = evaluation.RunInfo(started, datetime.now(UTC), user, sudo_user, evaluation.toolkit_commit(),
                                  paths.in_checkout(source), [], None, mode="collect")
    compliance, unknown = unit_results.merged_compliance(found, collected, suite_checks(source))
    for unit_id, check_ids in sorted(unknown.items()):
        print("unitctl: " + _("{unit}: results of checks this toolkit does not have were left out: {checks}").format(
            unit=unit_id, checks=unit_results.printable(", ".join(check_ids))), file=sys.stderr)
    return report_and_exit(args, loaded, compliance, run_info, collected)


def suite_checks(source: Path, suite: Path | None = None) -> dict[str, dict]:
    """The descriptions of the compliance suite's checks (id -> severity, titles, fix...), as this
    checkout has them: the suite collected, nothing run, no host contacted. Collect mode takes what
    a check is from here, and only how it went from the units' files. Raises CommandRefused when
    the suite cannot be collected."""
    with tempfile.TemporaryDirectory(prefix="unitctl-checks-") as scratch:
        written = Path(scratch) / "checks.json"
        command = [sys.executable, "-m", "pytest", str(suite or COMPLIANCE_SUITE), "-p", "no:cacheprovider",
                   "--collect-only", "-q", "--inventory", str(source), "--compliance-json", str(written)]
        run_ = subprocess.run(command, cwd=paths.PROJECT_ROOT, check=False, timeout=600, capture_output=True,
                              text=True, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        if run_.returncode != 0 or not written.exists():
            raise CommandRefused(_("the compliance suite could not be read for its checks' descriptions:\n{output}")
                                 .format(output=(run_.stdout + run_.stderr)[-2000:]))
        return json.loads(written.read_text(encoding="utf-8"))["checks"]


def report_and_exit(args, loaded, compliance: dict, run_info: evaluation.RunInfo, collected: dict | None = None) -> int:
    """Build the report of a run (direct or collect mode), write it with its history, print its
    summary and the files written; returns the exit status (evaluation.EXIT_*)."""
    unit_ids = run_info.units
    output = args.output or (DEFAULT_OUTPUT / "units" / unit_ids[0] if len(unit_ids) == 1 else DEFAULT_OUTPUT)
    history = args.history or (args.output or DEFAULT_OUTPUT) / "history"
    report = evaluation.build_evaluation(compliance, loaded.province, run_info,
                                         evaluation.previous_for(history, unit_ids, run_info.keyword),
                                         facts=compliance.get("facts"),
                                         identity=evaluation.province_identity(loaded.root),
                                         history=evaluation.score_history(history, unit_ids, run_info.keyword),
                                         collected=collected)
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


# The words of the summary that come from the report's data (severities, the run's status).
SUMMARY_WORDS = {
    "critical": N_("critical"), "high": N_("high"), "medium": N_("medium"), "low": N_("low"),
    "compliant": N_("compliant"), "non_compliant": N_("non-compliant"), "not_evaluated": N_("not evaluated"),
}


def print_summary(report: dict) -> None:
    """The run's summary on the screen: a row of counts per unit, each failure with the command that
    fixes it, unreachable hosts, whether the unit was evaluated, and the run's status. Check titles
    are the report's own Persian ones when messages are in Persian."""
    columns = (_("unit"), _("score"), _("trend"), _("pass"), _("fail"), _("error"), _("unreach"))
    print("\n" + _row(columns))
    for unit_id, unit in report["units"].items():
        # A unit not evaluated scores 0 (its hosts unreachable), but has no score to show, as in the report.
        shown = evaluation.charted_score(unit)
        score = _("n/a") if shown is None else _("{score}%").format(score=number(f"{shown:.1f}"))
        trend = "" if unit["trend"] is None else number(f"{unit['trend']:+.1f}")
        counts = unit["counts"]
        tally = (number(counts[key]) for key in ("pass", "fail", "error", "unreachable"))
        print(_row((unit_id, score, trend, *tally)))
        for failure in unit["failures"]:
            title = failure.get("title_fa") if language() == "fa" and failure.get("title_fa") else failure["title_en"]
            severity = word(SUMMARY_WORDS, failure["severity"])
            if failure.get("outcome") == "error":  # the check could not run: not a failure, and not counted as one
                severity = _("{severity}, error").format(severity=severity)
            # A playbook's command is typed as it is; a person's task (no command) is read, so in the
            # message's language when the check has it in Persian.
            task = failure.get("fix_fa") if language() == "fa" and failure.get("fix_fa") else failure["fix"]
            fix = failure["fix_command"] or task
            print(f"  [{severity}] {failure['check_id']} {failure['host']}: {title}  -> "
                  + _("fix: {command}").format(command=fix))
        if unit["unreachable_hosts"]:
            print("  " + _("unreachable: {hosts}").format(hosts=", ".join(unit["unreachable_hosts"])))
        delivery = unit.get("collected")  # collect mode only
        if delivery and delivery["state"] == "missing":
            print("  " + _("NOT REPORTED: no results from this unit have arrived"))
            continue
        if delivery and delivery["state"] == "stale":
            print("  " + _("NOT REPORTED: its newest results, from {host}, were checked {age} hours ago ({finished}); "
                           "the limit is {limit} hours").format(
                host=delivery["host"], age=number(delivery["age_hours"]), finished=delivery["finished"],
                limit=number(report["collection"]["max_age_hours"])))
            continue
        if delivery:
            print("  " + _("results from {host}, checked {age} hours ago ({finished})").format(
                host=delivery["host"], age=number(delivery["age_hours"]), finished=delivery["finished"]))
        if unit.get("evaluated") == "none":
            print("  " + _("NOT EVALUATED: no check of this unit could be evaluated"))
        elif unit.get("evaluated") == "partial":
            print("  " + _("evaluation incomplete: some hosts or checks could not be evaluated"))
    refused = (report.get("collection") or {}).get("refused", [])
    if refused:
        print("\n" + ngettext("{count} file of results refused (named above, and in the report): it does not count",
                              "{count} files of results refused (named above, and in the report): they do not count",
                              len(refused)).format(count=number(len(refused))))
    print("\n" + _("status: {status}").format(status=word(SUMMARY_WORDS, report["status"])))


def _row(cells) -> str:
    """One line of the summary's table: the unit left-aligned, the numbers right-aligned."""
    unit, *numbers = cells
    widths = (7, 7, 5, 5, 5, 7)
    return f"{unit:<18} " + " ".join(f"{cell:>{width}}" for cell, width in zip(numbers, widths, strict=True))

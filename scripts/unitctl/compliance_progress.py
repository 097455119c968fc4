"""One line per host as its checks finish, for `unitctl check` and `unitctl evaluate`, in place of
pytest's rows of dots (tests/compliance/conftest.py registers it with `--progress`):

     0m12s  1/9  lab-centre      centre-srv: 120 passed, 2 failed, 30 not applicable
     0m45s  2/9  lab-court       court-ws2: unreachable (45 checks could not run)
     1m30s       lab-court       all 5 hosts checked: 900 passed, 3 failed, 140 not applicable

(elapsed since the suite started, hosts done of all, unit, host, and its results by outcome).

The details of each failure stay in the results (--compliance-json, then the report's JSON and
HTML); pytest's own per-test letters are blanked (pytest_report_teststatus), not its collection
errors, which are printed here because the suite runs with --tb=no.

Under pytest-xdist the workers run the checks and only the controller prints; the controller
collects nothing itself, so it cannot know how many checks a host has. Each process that runs
checks therefore counts them per host once collected (Announcer) and sends that count with its
first report, as the user property EXPECTED; the controller (ProgressReporter) counts each host's
results (the conftest's `compliance` user property, one per check and host) as reports arrive,
and prints a host's line when its last result is in. Without xdist the same process does both.

The lines are in the language of the messages (unitctl.i18n: the suite's process inherits the
locale of the `unitctl` that started it); the counts and the elapsed time in its digits.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable

import pytest

from unitctl.i18n import _, ngettext, number

EXPECTED = "compliance_expected"  # user property: {host: {"unit_id": ..., "checks": n}}
RESULT = "compliance"             # user property of the conftest: one result of one check on one host

# The outcomes a line counts, in this order (unitctl.compliance outcomes); outcome_count words them.
OUTCOMES = ("pass", "fail", "error", "unreachable", "skipped", "not_applicable")

TargetOf = Callable[[pytest.Item], "tuple[str, str] | None"]


def expected_checks(items: Iterable[pytest.Item], target_of: TargetOf) -> dict[str, dict]:
    """How many checks each host has among `items`: {host: {"unit_id": str, "checks": int}}.
    `target_of(item)` gives (unit id, host) of a compliance check, None for anything else."""
    expected: dict[str, dict] = {}
    for item in items:
        target = target_of(item)
        if target is not None:
            unit_id, host = target
            expected.setdefault(host, {"unit_id": unit_id, "checks": 0})["checks"] += 1
    return expected


def elapsed_text(seconds: float) -> str:
    """12.4 -> '0m12s', 3725 -> '62m05s' (in the messages' language and digits)."""
    minutes, rest = divmod(int(seconds), 60)
    return _("{minutes}m{seconds}s").format(minutes=number(minutes), seconds=number(f"{rest:02d}"))


def outcome_count(outcome: str, count: int) -> str:
    """'3 failed', '1 error', '41 not applicable': `count` results of one outcome (OUTCOMES).
    Raises KeyError for another outcome."""
    forms = {
        "pass": ngettext("{count} passed", "{count} passed", count),
        "fail": ngettext("{count} failed", "{count} failed", count),
        "error": ngettext("{count} error", "{count} errors", count),
        "unreachable": ngettext("{count} unreachable", "{count} unreachable", count),
        "skipped": ngettext("{count} skipped", "{count} skipped", count),
        "not_applicable": ngettext("{count} not applicable", "{count} not applicable", count),
    }
    return forms[outcome].format(count=number(count))


def counts_text(counts: Counter) -> str:
    """'212 passed, 3 failed, 41 not applicable': passed always, the other outcomes when present;
    a host whose every check was unreachable: 'unreachable (45 checks could not run)'."""
    total = sum(counts.values())
    if total and counts["unreachable"] == total:
        return ngettext("unreachable ({count} check could not run)", "unreachable ({count} checks could not run)",
                        total).format(count=number(total))
    return _(", ").join(outcome_count(outcome, counts[outcome]) for outcome in OUTCOMES
                        if outcome == "pass" or counts[outcome])


class Announcer:
    """In every process that runs checks: sends how many checks each host has (EXPECTED) with its
    first report. The xdist controller runs no check and announces nothing."""

    def __init__(self, target_of: TargetOf):
        self.target_of = target_of
        self.expected: dict[str, dict] | None = None
        self.sent = False

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.expected = expected_checks(session.items, self.target_of)  # after -k and --unit deselection

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        if not self.sent and self.expected is not None:
            outcome.get_result().user_properties.append((EXPECTED, self.expected))
            self.sent = True


class ProgressReporter:
    """In the controller: a line per host when its last result is in, one per unit when its last
    host is, and at the end one for each host left unfinished (an interrupted run, a check that
    reported nothing). `write(line)` prints a line; `clock()` gives seconds (time.monotonic)."""

    def __init__(self, write: Callable[[str], None], clock: Callable[[], float] = time.monotonic):
        self.write = write
        self.clock = clock
        self.started = clock()
        self.expected: dict[str, dict] | None = None
        self.results: dict[str, Counter] = {}
        self.units: dict[str, str] = {}
        self.finished: list[str] = []

    # --- pytest's hooks ---

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == EXPECTED and self.expected is None:
                self.expected = value
                for host in list(self.results):  # results that came before the count (none, in practice)
                    self._finish_if_complete(host)
        for key, value in report.user_properties:
            if key == RESULT:
                self.record(value["unit_id"], value["host"], value["outcome"])

    @pytest.hookimpl(hookwrapper=True)
    def pytest_report_teststatus(self, report, config):
        """pytest's letter and word for each test blanked: its dots give way to the host lines.
        The category is kept, so pytest's closing count (`3 failed, 250 passed`) stays right."""
        outcome = yield
        category, _letter, _word = outcome.get_result()
        outcome.force_result((category, "", ""))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            what = report.nodeid or _("the suite")
            self.write(_("could not collect {what}:").format(what=what) + "\n" + report.longreprtext)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        for host, counts in self.results.items():
            if host not in self.finished:
                expected = (self.expected or {}).get(host, {}).get("checks")
                unfinished = (" " + _("(unfinished: {done} of {expected} checks)").format(
                    done=number(sum(counts.values())), expected=number(expected)) if expected else "")
                self.write(self._host_line(host, counts) + unfinished)

    # --- counting ---

    def record(self, unit_id: str, host: str, outcome: str) -> None:
        """One result of one check on `host`."""
        self.units[host] = unit_id
        self.results.setdefault(host, Counter())[outcome] += 1
        self._finish_if_complete(host)

    def _finish_if_complete(self, host: str) -> None:
        if self.expected is None or host in self.finished or host not in self.expected:
            return
        if sum(self.results.get(host, Counter()).values()) < self.expected[host]["checks"]:
            return
        self.finished.append(host)
        self.write(self._host_line(host, self.results[host]))
        unit_id = self.units[host]
        hosts = [name for name, spec in self.expected.items() if spec["unit_id"] == unit_id]
        if len(hosts) > 1 and all(name in self.finished for name in hosts):
            total = sum((self.results[name] for name in hosts), Counter())
            summary = _("all {count} hosts checked: {counts}").format(count=number(len(hosts)),
                                                                     counts=counts_text(total))
            self.write(f"{elapsed_text(self.clock() - self.started):>6}  {'':>{self._count_width()}}  "
                       f"{unit_id:<{self._unit_width()}}  {summary}")

    # --- lines ---

    def _count_width(self) -> int:
        total = len(self.expected or {})
        return len(f"{total}/{total}")

    def _unit_width(self) -> int:
        return max((len(spec["unit_id"]) for spec in (self.expected or {}).values()), default=0)

    def _host_line(self, host: str, counts: Counter) -> str:
        done = (number(f"{len(self.finished)}/{len(self.expected)}") if self.expected and host in self.finished
                else "")
        return (f"{elapsed_text(self.clock() - self.started):>6}  {done:>{self._count_width()}}  "
                f"{self.units[host]:<{self._unit_width()}}  {host}: {counts_text(counts)}")


def terminal_writer(config: pytest.Config) -> Callable[[str], None]:
    """Print a line through pytest's terminal (flushed at once, so each line shows as it comes), or
    on stdout when pytest runs without its terminal plugin."""

    def write(line: str) -> None:
        terminal = config.pluginmanager.getplugin("terminalreporter")
        if terminal is None:
            print(line, flush=True)
            return
        terminal.write_line(line)
        terminal.flush()

    return write


def register(config: pytest.Config, target_of: TargetOf) -> None:
    """Turn the progress lines on for this run (conftest's pytest_configure, with --progress): the
    announcer in every process, the reporter in the controller (not in an xdist worker)."""
    config.pluginmanager.register(Announcer(target_of), "unitctl-progress-announcer")
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(ProgressReporter(terminal_writer(config)), "unitctl-progress")


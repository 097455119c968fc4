"""The evaluation report built from compliance results: scores, status, trend, JSON, JUnit, HTML."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
from markupsafe import escape

from unitctl.report import evaluation
from unitctl.inventory.load import load_units_dir
from unitctl.paths import LAB_UNITS_DIR

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
def province():
    return load_units_dir(LAB_UNITS_DIR)


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
    assert "ansible-playbook playbooks/servers.yml --limit court-srv" in page


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

"""The report's charts and summary: the geometry of the bar charts and trend panels
(unitctl.report.charts), what each chart shows of an evaluation, the trend's history, and the
check each unit should fix first."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from test_evaluation import CHECKS, HARDENING, build, result, run_info
from unitctl.inventory.load import load_units_dir
from unitctl.paths import LAB_UNITS_DIR
from unitctl.report import charts, evaluation
from unitctl.report.charts import Bar, BarRow, Column, Label, Run, Series

LONG_NAME = "مجتمع قضایی شهید بهشتی قم (ساختمان مرکزی و شعبه‌های تابعه در شهر)"
TICKS = [(0, "۰", "0"), (50, "۵۰", "50"), (100, "۱۰۰", "100")]


def inside(label: Label, width: float, height: float) -> bool:
    left, top, right, bottom = label.box
    return left >= 0 and right <= width and top >= 0 and bottom <= height


# --- text ----------------------------------------------------------------------------------------------

def test_text_width_is_the_generous_estimate_and_ignores_zero_width_characters():
    assert charts.text_width("abcd", 10) == pytest.approx(4 * 10 * charts.EM_PER_CHAR)
    assert charts.text_width("می\u200cشود", 10) == pytest.approx(charts.text_width("میشود", 10))
    assert charts.text_width("", 10) == 0


def test_wrap_breaks_at_spaces_and_ends_what_does_not_fit_with_an_ellipsis():
    per_char = charts.FONT * charts.EM_PER_CHAR
    assert charts.wrap("دادگستری کهک", 100) == ["دادگستری کهک"]
    assert charts.wrap("دادگستری شهرستان قم", 10 * per_char) == ["دادگستری", "شهرستان قم"]
    # Two lines of at most 20 characters; the words left over drop, whole, for an ellipsis.
    assert charts.wrap(LONG_NAME, 20 * per_char) == ["مجتمع قضایی شهید", "بهشتی قم (ساختمان…"]
    assert charts.wrap(LONG_NAME, 20 * per_char, max_lines=3) == ["مجتمع قضایی شهید", "بهشتی قم (ساختمان", "مرکزی و شعبه\u200cهای…"]
    # A word wider than the line is cut.
    assert charts.wrap("ناتمام\u200cماندهٔ بلند", 5 * per_char) == ["ناتم…", "بلند"]
    assert charts.wrap("", 100) == [] and charts.one_line("", 100) == ""


@pytest.mark.parametrize(("anchor", "lang", "text_anchor", "direction"), [
    ("right", "fa", "start", "rtl"), ("left", "fa", "end", "rtl"), ("right", "en", "end", "ltr"),
    ("left", "en", "start", "ltr"), ("right", "fa-num", "end", "ltr"), ("middle", "fa", "middle", "rtl"),
])
def test_a_label_anchors_the_end_the_layout_asked_for_in_its_direction(anchor, lang, text_anchor, direction):
    label = Label(100, 50, "متن", anchor, lang)
    assert (label.text_anchor, label.direction) == (text_anchor, direction)
    left, top, right, bottom = label.box
    assert right - left == pytest.approx(charts.text_width("متن"))
    assert {"right": right, "left": left, "middle": (left + right) / 2}[anchor] == pytest.approx(100)
    assert top < 50 < bottom


# --- scales --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("largest", "maximum"), [
    (0, 1), (1, 1), (2, 2), (3, 5), (7, 10), (10, 10), (11, 20), (27, 50), (120, 200), (500, 500)])
def test_a_count_axis_ends_at_a_round_number(largest, maximum):
    assert charts.nice_maximum(largest) == maximum


def test_a_right_to_left_axis_puts_zero_on_the_right_and_holds_values_within_it():
    assert charts.rtl_position(0, 100, 500, 400) == 500
    assert charts.rtl_position(50, 100, 500, 400) == 300
    assert charts.rtl_position(100, 100, 500, 400) == 100
    assert charts.rtl_position(150, 100, 500, 400) == 100
    assert charts.rtl_position(-5, 100, 500, 400) == 500


def test_runs_stand_evenly_from_oldest_on_the_left_and_a_single_run_in_the_middle():
    assert charts.run_x(0, 1, 10, 110) == 60
    assert [charts.run_x(index, 3, 10, 110) for index in range(3)] == [10, 60, 110]
    with pytest.raises(ValueError):
        charts.run_x(3, 3, 10, 110)
    assert charts.score_y(100, 20, 100) == 20 and charts.score_y(0, 20, 100) == 100
    assert charts.score_y(50, 20, 100) == 60 and charts.score_y(120, 20, 100) == 20


# --- bar charts ----------------------------------------------------------------------------------------

def score_row(key: str, score: float | None, name_fa: str = "دادگستری کهک", style: str = "score") -> BarRow:
    bars = None if score is None else (Bar(score, evaluation.fa_number(score) + "٪", evaluation.en_number(score) + "%", style),)
    return BarRow(key, name_fa, key, bars, "ارزیابی نشد", "not evaluated")


def test_scores_grow_leftwards_from_zero_and_a_unit_without_a_score_is_not_drawn_as_zero():
    chart = charts.bar_chart([score_row("full", 100.0), score_row("half", 50.0), score_row("zero", 0.0),
                              score_row("none", None)], [Column("score")], 100, TICKS, "امتیاز (٪)", "Score (%)")
    full, half, zero, none = chart.rows
    zero_x = charts.WIDTH - charts.EDGE - charts.NAME_WIDTH - charts.GAP  # 478: the bars' zero, left of the names
    assert full.bars[0].x + full.bars[0].width == pytest.approx(zero_x)
    length = full.bars[0].width
    assert half.bars[0].width == pytest.approx(length / 2) and half.bars[0].x == pytest.approx(zero_x - length / 2)
    assert zero.bars[0].width == 0 and zero.bars[0].x == pytest.approx(zero_x)
    assert [label.text for label in zero.labels if label.lang != "fa"] == ["zero", "۰٫۰٪", "0.0%"]
    assert none.bars == [] and none.missing is not None
    assert none.missing.x + none.missing.width == pytest.approx(zero_x)
    assert {label.text for label in none.labels} >= {"ارزیابی نشد", "not evaluated"}
    # A full bar's value stays in the chart: its label ends just past the bar, inside the width.
    value = next(label for label in full.labels if label.lang == "fa-num")
    assert value.anchor == "right" and value.x == pytest.approx(full.bars[0].x - charts.VALUE_GAP)
    assert all(inside(label, chart.width, chart.height) for label in chart.all_labels)
    ticks = [line.x1 for line in chart.grid]
    assert ticks == pytest.approx([zero_x, zero_x - length / 2, zero_x - length])
    assert [line.style for line in chart.grid] == ["grid-zero", "grid", "grid"]


def test_twelve_units_with_long_names_get_rows_whose_labels_never_overlap():
    rows = [score_row(f"unit-{index:02}", index * 9.0, LONG_NAME if index % 3 == 0 else "دادگستری کهک")
            for index in range(12)] + [score_row("absent", None, LONG_NAME)]
    chart = charts.bar_chart(rows, [Column("score")], 100, TICKS, "امتیاز (٪)", "Score (%)")
    assert len(chart.rows) == 13
    assert charts.overlapping(chart.all_labels) == []
    assert all(inside(label, chart.width, chart.height) for label in chart.all_labels)
    for above, below in zip(chart.rows, chart.rows[1:]):
        assert below.top == pytest.approx(above.top + above.height)
    long_row = chart.rows[0]
    names = [label for label in long_row.labels if label.lang == "fa"]
    assert len(names) == 2 and names[-1].text.endswith("…")  # two lines, the rest cut
    assert long_row.height > chart.rows[1].height


def test_severity_columns_share_one_scale_and_keep_apart():
    columns = [Column(severity, evaluation.SEVERITY_FA[severity], severity) for severity in evaluation.SEVERITIES]

    def row(key, counts):
        return BarRow(key, "دادگستری کهک", key, tuple(Bar(count, evaluation.fa_number(count), str(count), f"sev-{severity}")
                                                    for count, severity in zip(counts, evaluation.SEVERITIES)))
    chart = charts.bar_chart([row("a", (2, 0, 5, 10)), row("b", (10, 1, 0, 0)),
                              BarRow("c", "دادگستری", "c", None, "ارزیابی نشد", "not evaluated")],
                             columns, 10, [(0, "۰", "0"), (10, "۱۰", "10")], "شمار", "Failures")
    a, b, c = chart.rows
    assert [bar.key for bar in a.bars] == list(evaluation.SEVERITIES)
    # One scale: 10 critical in b as long as 10 low in a; 5 medium half of it.
    assert b.bars[0].width == pytest.approx(a.bars[3].width)
    assert a.bars[2].width == pytest.approx(a.bars[3].width / 2)
    # Critical on the right, then high, medium, low: each column left of the one before it, and
    # a bar's value labels (just past its end) stay clear of the next column's bars.
    zeros = [bar.x + bar.width for bar in a.bars]
    assert zeros == sorted(zeros, reverse=True)
    column_width = zeros[0] - zeros[1] - charts.GAP
    for row in (a, b):
        for index, bar in enumerate(row.bars):
            values = [label for label in row.labels if label.x == pytest.approx(bar.x - charts.VALUE_GAP)]
            assert [label.lang for label in values] == ["fa-num", "en"]
            assert all(label.box[0] >= zeros[index] - column_width for label in values), (row.key, bar.key)
    assert c.missing.x == pytest.approx(zeros[3] - column_width) and c.missing.x + c.missing.width == pytest.approx(zeros[0])
    heads = [label.text for label in chart.labels if label.bold]
    assert heads == [evaluation.SEVERITY_FA[severity] for severity in evaluation.SEVERITIES]
    assert charts.overlapping(chart.all_labels) == []


def test_a_bar_chart_refuses_rows_that_do_not_match_its_columns():
    with pytest.raises(ValueError, match="1 bars for 2 columns"):
        charts.bar_chart([score_row("a", 10.0)], [Column("x"), Column("y")], 100, TICKS, "", "")
    with pytest.raises(ValueError):
        charts.bar_chart([], [], 100, TICKS, "", "")


# --- trend panels ----------------------------------------------------------------------------------------

RUNS = [Run("۱۴۰۵/۰۸/۱۰", "2026-11-01"), Run("۱۴۰۵/۰۸/۱۱", "2026-11-02"), Run("۱۴۰۵/۰۸/۱۲", "2026-11-03")]


def test_a_trend_breaks_where_a_run_has_no_score_and_shows_the_province_beside_it():
    unit = Series("court", "دادگستری شهرستان قم", "court", (40.0, None, 100.0), "۱۰۰٫۰٪", "now 100.0%",
                  reference=(50.0, 60.0, 70.0))
    province = Series("province", "کل استان", "province", (50.0, 60.0, 70.0), "۷۰٫۰٪", "now 70.0%")
    court, whole = charts.trend_panels([unit, province], RUNS, TICKS, "تنها", "only")
    left, top, right, bottom = court.plot
    assert [(point.run, point.value) for point in court.points] == [(0, 40.0), (2, 100.0)]
    assert court.points[0].x == pytest.approx(left) and court.points[1].x == pytest.approx(right)
    assert court.points[1].y == pytest.approx(top) and court.points[0].y == pytest.approx(bottom - 0.4 * (bottom - top))
    assert court.lines == []  # no two consecutive runs with a score: points, no line
    assert [(gap.x1, gap.y1, gap.y2) for gap in court.gaps] == [(pytest.approx((left + right) / 2), top, bottom)]
    assert len(court.reference_points) == 3 and len(court.reference_lines) == 1 and len(court.reference_lines[0]) == 3
    assert len(whole.points) == 3 and whole.reference_points == [] and len(whole.lines[0]) == 3
    assert not court.single
    # Panels line up: the same size and plot box whatever their names' length.
    assert (court.width, court.height, court.plot) == (whole.width, whole.height, whole.plot)
    dates = [label for label in court.labels if label.text in ("۱۴۰۵/۰۸/۱۰", "2026-11-01", "۱۴۰۵/۰۸/۱۲", "2026-11-03")]
    assert {(label.text, label.anchor) for label in dates} == {
        ("۱۴۰۵/۰۸/۱۰", "left"), ("2026-11-01", "left"), ("۱۴۰۵/۰۸/۱۲", "right"), ("2026-11-03", "right")}
    for panel in (court, whole):
        assert charts.overlapping(panel.labels) == [], panel.key
        assert all(inside(label, panel.width, panel.height) for label in panel.labels), panel.key


def test_one_run_is_a_point_with_a_note_that_there_is_no_trend_yet():
    (panel,) = charts.trend_panels([Series("court", LONG_NAME, "court", (0.0,), "۰٫۰٪", "now 0.0%", (25.0,))],
                                   RUNS[:1], TICKS, "تنها یک ارزیابی؛ هنوز روندی نیست", "one evaluation only: no trend yet")
    left, top, right, bottom = panel.plot
    assert panel.single and panel.lines == [] and panel.reference_lines == []
    assert [(point.x, point.y) for point in panel.points] == [(pytest.approx((left + right) / 2), pytest.approx(bottom))]
    texts = {label.text: label for label in panel.labels}
    assert texts["۱۴۰۵/۰۸/۱۰"].anchor == "middle"
    assert "تنها یک ارزیابی؛ هنوز روندی نیست" in texts and "one evaluation only: no trend yet" in texts
    assert charts.overlapping(panel.labels) == []
    assert all(inside(label, panel.width, panel.height) for label in panel.labels)


def test_a_trend_refuses_scores_that_do_not_match_its_runs():
    with pytest.raises(ValueError, match="scores for 2 runs, not 3"):
        charts.trend_panels([Series("x", "x", "x", (1.0, 2.0), "", "")], RUNS, TICKS, "", "")
    with pytest.raises(ValueError):
        charts.trend_panels([], [], TICKS, "", "")


# --- what to fix first ---------------------------------------------------------------------------------

def failure(check_id, severity, host, outcome="fail"):
    return {"check_id": check_id, "severity": severity, "host": host, "outcome": outcome, "fix": f"playbooks/{check_id}.yml",
            "title_fa": f"عنوان {check_id}", "title_en": f"title {check_id}"}


def test_fix_first_is_the_most_severe_then_on_most_hosts_then_by_id():
    failures = [failure("FW-005", "high", "a"), failure("FW-005", "high", "b"), failure("FW-005", "high", "c"),
                failure("SSH-002", "critical", "a"), failure("PWR-004", "critical", "a"), failure("PWR-004", "critical", "b")]
    assert evaluation.fix_first(failures, "inventory/qom.unitctl.yml") == {
        "check_id": "PWR-004", "severity": "critical", "title_fa": "عنوان PWR-004", "title_en": "title PWR-004",
        "fix": "playbooks/PWR-004.yml", "fix_fa": "", "hosts": ["a", "b"],
        "fix_command": "ansible-playbook -i inventory/qom.unitctl.yml playbooks/PWR-004.yml --limit a,b"}
    # Equal severity and hosts: the lower check id.
    assert evaluation.fix_first([failure("SSH-002", "critical", "x"), failure("PWR-004", "critical", "y")])["check_id"] == "PWR-004"
    # More hosts beat a lower id; a check in error is not a failure to fix.
    assert evaluation.fix_first([failure("AUD-001", "medium", "a"), failure("KRN-001", "medium", "a"),
                                 failure("KRN-001", "medium", "b"), failure("BASE-001", "critical", "a", "error")]) == {
        "check_id": "KRN-001", "severity": "medium", "title_fa": "عنوان KRN-001", "title_en": "title KRN-001",
        "fix": "playbooks/KRN-001.yml", "fix_fa": "", "hosts": ["a", "b"],
        "fix_command": "ansible-playbook -i inventory/lab.unitctl.yml playbooks/KRN-001.yml --limit a,b"}
    # A person's task (a hot server room) is given in words, with no command.
    room = dict(failure("PWR-008", "high", "a"), fix="bring the room back within its limits", fix_fa="دما را برگردانید")
    assert evaluation.fix_first([room])["fix_command"] is None
    assert evaluation.fix_first([failure("BASE-001", "critical", "a", "error")]) is None
    assert evaluation.fix_first([]) is None


def test_a_fix_command_names_the_units_vault_identity():
    """A unit with a vault: its hosts are refused by a run without the unit's identity
    (playbooks/connect.yml), so the command to copy carries it."""
    assert evaluation.fix_command("playbooks/servers.yml", "inventory/qom.unitctl.yml", "qom-court-srv",
                                  ["qom-court@scripts/vault-password-client.py"]) == (
        "ansible-playbook -i inventory/qom.unitctl.yml playbooks/servers.yml --limit qom-court-srv "
        "--vault-id qom-court@scripts/vault-password-client.py")
    assert evaluation.fix_command("playbooks/servers.yml", "inventory/qom.unitctl.yml", "qom-court-srv") == (
        "ansible-playbook -i inventory/qom.unitctl.yml playbooks/servers.yml --limit qom-court-srv")


@pytest.fixture
def province():
    return load_units_dir(LAB_UNITS_DIR)


def fix_first_item(page: str, unit_id: str) -> str:
    summary = page.split('<ul id="fix-first">')[1].split("</ul>")[0]
    return summary.split(f'<li data-unit="{unit_id}"')[1].split("</li>")[0]


def test_the_summary_says_in_one_sentence_per_unit_what_to_fix_first(province):
    report = evaluation.build_evaluation({"checks": CHECKS | HARDENING, "results": [
        result("SSH-006", "court-srv", "lab-court", "fail"), result("SSH-006", "court-ws1", "lab-court", "fail"),
        result("SSH-002", "court-srv", "lab-court", "fail"), result("SSH-002", "court-ws1", "lab-court", "fail"),
        result("BASE-001", "court-sw1", "lab-court", "unreachable"),
        result("AUD-001", "pros-srv", "lab-prosecutor", "unreachable"),
        result("SSH-002", "centre-srv", "lab-centre", "pass"),
    ]}, province, run_info())
    assert report["units"]["lab-court"]["fix_first"]["check_id"] == "SSH-002"
    assert report["units"]["lab-court"]["fix_first"]["hosts"] == ["court-srv", "court-ws1"]
    page = evaluation.render_html(report)
    court = fix_first_item(page, "lab-court")
    assert 'data-check="SSH-002"' in court
    assert ("incomplete evaluation; unreachable hosts: court-sw1; fix first: SSH-002 Password login is off "
            "(critical, 2 hosts) — ansible-playbook -i inventory/lab.unitctl.yml playbooks/servers.yml --limit court-srv,court-ws1") in court
    assert "ارزیابی ناتمام است؛ میزبان‌های در دسترس‌نبوده: <code>court-sw1</code>؛" in court
    assert ('نخست رفع شود: <bdi dir="ltr">SSH-002</bdi> ورود با گذرواژه خاموش است (بحرانی، '
            '<bdi dir="ltr" class="num">۲</bdi> میزبان)') in court
    assert court.index("ارزیابی ناتمام") < court.index("نخست رفع شود")  # what could not be evaluated, first
    prosecutor = fix_first_item(page, "lab-prosecutor")
    assert 'data-check=""' in prosecutor and "ارزیابی نشد" in prosecutor
    assert "not evaluated; first fix what kept it from being evaluated; unreachable hosts: pros-srv." in prosecutor
    centre = fix_first_item(page, "lab-centre")
    assert "بدون مورد نامنطبق؛ چیزی برای رفع نیست." in centre and "no failures, nothing to fix." in centre


# --- what the charts show of an evaluation ------------------------------------------------------------

def test_the_charts_show_the_province_first_and_a_unit_not_evaluated_as_such_never_as_zero(province):
    report = build(province, [
        result("SSH-002", "court-srv", "lab-court", "fail"), result("BASE-001", "court-srv", "lab-court", "fail"),
        result("SSH-002", "pros-srv", "lab-prosecutor", "unreachable"),  # scored 0 by the rule, but not evaluated
        result("SSH-002", "centre-srv", "lab-centre", "pass"), result("BASE-001", "centre-sw1", "lab-centre", "unreachable"),
    ])
    assert report["units"]["lab-prosecutor"]["score"] == 0.0 and report["units"]["lab-prosecutor"]["evaluated"] == "none"
    drawn = evaluation.report_charts(report)
    rows = {row.key: row for row in drawn["scores"].rows}
    assert [row.key for row in drawn["scores"].rows] == ["province", "lab-centre", "lab-court", "lab-prosecutor"]
    assert rows["lab-court"].bars[0].width == 0 and rows["lab-court"].bars[0].style == "score"  # a real 0
    assert rows["lab-prosecutor"].bars == [] and rows["lab-prosecutor"].missing is not None
    assert rows["lab-centre"].bars[0].style == "score-partial"  # centre-sw1 unreachable
    assert rows["province"].bars[0].style == "score-partial"
    province_value = [label.text for label in rows["province"].labels if label.lang != "fa"]
    assert province_value == ["province", evaluation.fa_number(report["score"]) + "٪", f"{report['score']:.1f}%"]
    # The province's score pools every unit's checks: 10 passed of 10 + 1 + 10 + 10 + 1.
    assert report["score"] == pytest.approx(100 * 10 / 32, abs=0.1)

    severities = {row.key: row for row in drawn["severities"].rows}
    assert "province" not in severities and severities["lab-prosecutor"].missing is not None
    assert [bar.key for bar in severities["lab-court"].bars if bar.width > 0] == ["critical", "low"]

    assert drawn["trend_runs"] == 1
    panels = {panel.key: panel for panel in drawn["trend"]}
    assert list(panels) == ["province", "lab-centre", "lab-court", "lab-prosecutor"]
    assert all(panel.single for panel in drawn["trend"])
    assert panels["lab-prosecutor"].points == [] and len(panels["lab-prosecutor"].gaps) == 1
    assert panels["lab-court"].points[0].value == 0.0 and len(panels["lab-court"].reference_points) == 1


def test_a_unit_check_draws_only_its_unit_without_the_province(province):
    report = evaluation.build_evaluation({"checks": CHECKS, "results": [result("SSH-002", "court-srv", "lab-court", "pass")]},
                                         province, run_info(units=["lab-court"]))
    drawn = evaluation.report_charts(report)
    assert [row.key for row in drawn["scores"].rows] == ["lab-court"]
    assert [panel.key for panel in drawn["trend"]] == ["lab-court"]
    assert drawn["trend"][0].reference_points == []


# --- the history a trend shows ---------------------------------------------------------------------------

def at(day: int, units=(), keyword=None):
    moment = datetime(2026, 11, day, 12, 0, tzinfo=UTC)
    return run_info(started=moment, finished=moment, units=list(units), keyword=keyword)


def court_run(province, info, court_outcome, history=None):
    return evaluation.build_evaluation({"checks": CHECKS, "results": [
        result("SSH-002", "court-srv", "lab-court", court_outcome), result("BASE-001", "court-srv", "lab-court", "pass"),
        result("SSH-002", "pros-srv", "lab-prosecutor", "pass")]}, province, info, history=history)


def test_the_history_of_a_province_evaluation_is_the_earlier_evaluations_oldest_first(province, tmp_path):
    history, out = tmp_path / "history", tmp_path / "out"
    evaluation.write_outputs(court_run(province, at(1), "fail"), out, history)
    evaluation.write_outputs(court_run(province, at(2, units=["lab-court"]), "pass"), out, history)  # a unit check
    evaluation.write_outputs(court_run(province, at(3, keyword="ssh"), "pass"), out, history)  # another -k
    evaluation.write_outputs(court_run(province, at(4), "unreachable"), out, history)
    (history / "evaluation-20261105T000000+0000.json").write_text("{not json", encoding="utf-8")

    points = evaluation.score_history(history)
    assert [point["started"][:10] for point in points] == ["2026-11-01", "2026-11-04"]
    first, second = points
    assert first["scope"] == "province" and first["units"]["lab-court"] == pytest.approx(100 / 11, abs=0.1)
    assert first["units"]["lab-prosecutor"] == 100.0 and first["units"]["lab-centre"] is None
    assert first["score"] == pytest.approx(100 * 11 / 21, abs=0.1)
    assert second["units"]["lab-court"] == pytest.approx(100 / 11, abs=0.1)  # BASE-001 passed, SSH-002 unreachable
    assert evaluation.score_history(history, keyword="ssh")[0]["started"].startswith("2026-11-03")
    assert [point["started"][:10] for point in evaluation.score_history(history, limit=1)] == ["2026-11-04"]

    # The next report carries them, and its trend has three runs: the two kept and itself.
    report = court_run(province, at(6), "pass", history=points)
    assert report["history"] == points
    drawn = evaluation.report_charts(report)
    assert drawn["trend_runs"] == 3
    court = next(panel for panel in drawn["trend"] if panel.key == "lab-court")
    assert [point.value for point in court.points] == [pytest.approx(100 / 11, abs=0.1)] * 2 + [100.0]
    assert len(court.lines) == 1 and len(court.lines[0]) == 3


def test_the_history_of_a_unit_check_is_its_checks_and_the_province_evaluations(province, tmp_path):
    history, out = tmp_path / "history", tmp_path / "out"
    evaluation.write_outputs(court_run(province, at(1), "fail"), out, history)
    evaluation.write_outputs(court_run(province, at(2, units=["lab-court"]), "pass"), out, history)
    evaluation.write_outputs(court_run(province, at(3, units=["lab-prosecutor"]), "pass"), out, history)
    points = evaluation.score_history(history, ["lab-court"])
    assert [(point["started"][:10], point["scope"]) for point in points] == [("2026-11-01", "province"), ("2026-11-02", "unit")]
    assert [point["units"] for point in points] == [{"lab-court": pytest.approx(100 / 11, abs=0.1)}, {"lab-court": 100.0}]
    assert all(point["score"] is None for point in points)


def test_an_older_evaluation_without_its_own_score_is_scored_from_its_results(province, tmp_path):
    history = tmp_path / "history"
    old = court_run(province, at(1), "fail")
    del old["score"], old["evaluated"]
    history.mkdir()
    (history / "evaluation-20261101T120000+0000.json").write_text(json.dumps(old), encoding="utf-8")
    (point,) = evaluation.score_history(history)
    assert point["score"] == pytest.approx(100 * 11 / 21, abs=0.1)


def test_a_report_keeps_no_more_history_than_its_trend_shows(province):
    points = [{"started": f"2026-10-{day:02}T12:00:00+00:00", "started_jalali": "1405/07/10 15:30", "scope": "province",
               "score": 50.0, "units": {}} for day in range(1, 21)]
    report = court_run(province, at(1), "pass", history=points)
    assert report["history"] == points[-(evaluation.TREND_RUNS - 1):]
    assert evaluation.report_charts(report)["trend_runs"] == evaluation.TREND_RUNS


def test_the_page_draws_its_charts_itself_with_no_script_nor_file_beside_it(province):
    report = build(province, [result("SSH-002", "court-srv", "lab-court", "fail"),
                              result("BASE-001", "centre-srv", "lab-centre", "pass")])
    page = evaluation.render_html(report)
    assert "<script" not in page.lower()
    assert not re.search(r'\b(src|href)="(?!#)', page), "the page refers to a file or address outside it"
    assert page.count('<svg class="chart trend-panel"') == 1 + len(province.units)
    assert '<svg id="scores-chart"' in page and '<svg id="severities-chart"' in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "an id twice in the page: a pattern would fill another chart's bars"
    for used in set(re.findall(r'fill="url\(#([^)]+)\)"', page)):
        assert f'id="{used}"' in page, used

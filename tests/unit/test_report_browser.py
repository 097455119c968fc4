"""The council's HTML report as a browser shows it: right to left, Persian, every unit listed.

Headless Chromium (Debian's package) renders the report; a screenshot is kept in
results/test-artifacts/ for a person to look at. The printed report is made as Chromium prints it
(`--print-to-pdf`) and read back with a small PDF reader below (no PDF library needed): A4 pages,
a bounded page count, and the page number in each page's footer. Chromium draws CSS @page margin
boxes (@bottom-center with counter(page), counter(pages)) since version 131; the PDF is made with
`--no-pdf-header-footer` so that Chromium's own header and footer (date, title, file URL) stay out.

A long report (twelve units, many failures, six runs kept in the history) proves the charts and the
page breaks: what Chromium draws of each chart (bars, points and labels, every label inside its
chart and none over another), and in its PDF no heading left at a page's foot. The PDF is tagged
(Chromium writes its structure: H1-H3, Figure, Table...), so each heading's content is traced to
its page and to the page where what follows it starts. Its PDF and screenshots (in colour and in
greyscale) are kept in results/test-artifacts/.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from test_evaluation import CHECKS, HARDENING, build, result, run_info
from unitctl.report import evaluation
from unitctl.inventory.load import Province, Unit, load_units_dir
from unitctl.paths import INVENTORY_DIR, LAB_UNITS_DIR, PROJECT_ROOT

CHROMIUM = shutil.which("chromium")
ARTIFACTS = PROJECT_ROOT / "results" / "test-artifacts"
# Reads the layout the browser computed and writes it into the page, for --dump-dom.
LAYOUT_PROBE = """
<script>
window.addEventListener("load", () => {
  const cells = document.querySelectorAll("#scores tr:first-child th");
  const first = cells[0].getBoundingClientRect(), last = cells[cells.length - 1].getBoundingClientRect();
  const rows = [...document.querySelectorAll("#scores .unit-row")].map(row => row.dataset.unit);
  // Where the browser puts the sign of each trend against its digits (Persian, isolated).
  const trends = {};
  for (const row of document.querySelectorAll("#scores .unit-row")) {
    const number = row.querySelector(".trend bdi");
    if (!number) continue;
    const text = number.firstChild, range = document.createRange();
    range.setStart(text, 0); range.setEnd(text, 1);
    const sign = range.getBoundingClientRect();
    range.setStart(text, 1); range.setEnd(text, text.length);
    const digits = range.getBoundingClientRect();
    trends[row.dataset.unit] = {text: text.data, sign_left_of_digits: sign.right <= digits.left + 0.5};
  }
  const probe = document.createElement("pre");
  probe.id = "layout-probe";
  probe.textContent = JSON.stringify({
    direction: getComputedStyle(document.body).direction,
    first_column_is_rightmost: first.left > last.left,
    units: rows,
    trends: trends,
  });
  document.body.appendChild(probe);
});
</script>
"""

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")


def chromium(*args: str) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="unitctl-chromium-")
    try:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=120, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def lab_province_with_vaults(tmp_path_factory) -> Province:
    """The lab units as a real province has them, each with its vault, so that every fix names the
    unit's vault identity (`--vault-id UNIT@...`), on a fresh clone as after `unitctl lab up`. The
    files need only exist here: reports never open them."""
    inventory = tmp_path_factory.mktemp("province") / "inventory"
    shutil.copytree(INVENTORY_DIR, inventory, ignore=shutil.ignore_patterns("vault*.yml"))
    units = inventory / LAB_UNITS_DIR.relative_to(INVENTORY_DIR)
    for folder in units.iterdir():
        (folder / "vault.yml").write_text(f"$ANSIBLE_VAULT;1.2;AES256;{folder.name}\n6162\n")
    return load_units_dir(units)


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    province = lab_province_with_vaults(tmp_path_factory)
    before = build(province, [result("SSH-002", host, unit_id, "pass") for host, unit_id in (
        ("court-srv", "lab-court"), ("pros-srv", "lab-prosecutor"), ("centre-srv", "lab-centre"))])
    report = build(province, [
        result("SSH-002", "court-srv", "lab-court", "fail", "PasswordAuthentication yes"),
        result("BASE-001", "court-srv", "lab-court", "pass"),
        result("SSH-002", "pros-srv", "lab-prosecutor", "unreachable", "NoValidConnectionsError"),
        result("SSH-002", "centre-srv", "lab-centre", "pass"),
    ], before)
    folder = tmp_path_factory.mktemp("report")
    written = evaluation.write_outputs(report, folder, folder / "history")
    return province, written["html"]


def test_report_renders_right_to_left_with_every_unit(report_page, tmp_path):
    province, page = report_page
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", LAYOUT_PROBE + "</body>"),
                      encoding="utf-8")
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", probed.as_uri())
    assert dom.returncode == 0, dom.stderr
    layout = json.loads(dom.stdout.split('<pre id="layout-probe">')[1].split("</pre>")[0])
    assert layout["direction"] == "rtl"
    assert layout["first_column_is_rightmost"], "the table does not run right to left"
    assert sorted(layout["units"]) == sorted(unit.id for unit in province.units)
    assert "ارزیابی مراکز رایانه" in dom.stdout
    # lab-court fell from 100 to 9.1: the minus sign shows before the digits, not after them.
    assert layout["trends"]["lab-court"]["text"].startswith("\u2212"), layout["trends"]
    assert layout["trends"]["lab-court"]["sign_left_of_digits"], layout["trends"]


def test_report_screenshot_is_kept(report_page):
    _, page = report_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "evaluation-report.png"
    screenshot.unlink(missing_ok=True)
    shot = chromium("--window-size=1280,1600", f"--screenshot={screenshot}", page.as_uri())
    assert shot.returncode == 0, shot.stderr
    assert screenshot.stat().st_size > 10_000  # a blank page is a few hundred bytes


# --- the printed report -----------------------------------------------------------------------------

A4_POINTS = (595.28, 841.89)  # 210 x 297 mm
BOTTOM_MARGIN_PT = 18 / 25.4 * 72  # the template's @page bottom margin, in points


def _multiply(m: tuple, n: tuple) -> tuple:
    """m then n, PDF matrices (a b c d e f)."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u)


def _text_blocks(content: str):
    """(x, y in points from the page's foot, font, [glyph hex runs]) of each text block of a content
    stream, following the graphics state (q, Q, cm) as Chromium (Skia) writes it, one operator a line."""
    matrix, saved, block = (1, 0, 0, 1, 0, 0), [], None
    for line in content.splitlines():
        words = line.split()
        if line == "q":
            saved.append(matrix)
        elif line == "Q":
            matrix = saved.pop()
        elif words[-1:] == ["cm"] and len(words) == 7:
            matrix = _multiply(tuple(float(w) for w in words[:6]), matrix)
        elif line == "BT":
            block = {"font": None, "at": None, "runs": []}
        elif line == "ET" and block:
            if block["at"] and block["font"]:
                x, y = block["at"]
                a, b, c, d, e, f = matrix
                yield a * x + c * y + e, b * x + d * y + f, block["font"], block["runs"]
            block = None
        elif block is not None:
            if words[-1:] == ["Tf"]:
                block["font"] = words[0].lstrip("/")
            elif words[-1:] == ["Tm"] and len(words) == 7:
                block["at"] = (float(words[4]), float(words[5]))
            block["runs"] += re.findall(r"<([0-9A-Fa-f]+)> Tj", line)


def pdf_objects(data: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """The PDF's objects as {number: (dictionary, stream decoded or None)}; enough for Chromium's PDFs."""
    objects = {}
    for match in re.finditer(rb"(\d+) 0 obj\s*(<<.*?>>)\s*(stream\r?\n|endobj)", data, re.S):
        stream = None
        if match.group(3).startswith(b"stream"):
            length = int(re.search(rb"/Length (\d+)", match.group(2)).group(1))
            raw = data[match.end():match.end() + length]
            stream = zlib.decompress(raw) if b"/FlateDecode" in match.group(2) else raw
        objects[int(match.group(1))] = (match.group(2), stream)
    return objects


def to_unicode(cmap: bytes) -> dict[int, str]:
    glyphs = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for glyph, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            glyphs[int(glyph, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for first, last, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(text, 16)
            for offset, glyph in enumerate(range(int(first, 16), int(last, 16) + 1)):
                glyphs[glyph] = chr(start + offset)
    return glyphs


def pdf_pages(data: bytes) -> list[dict]:
    """Each page: its MediaBox (points) and the Latin text drawn in its bottom margin (footer),
    in the order it is drawn left to right."""
    objects = pdf_objects(data)
    pages = []
    for number, (dictionary, _) in sorted(objects.items()):
        if not re.search(rb"/Type /Page\b", dictionary):
            continue
        box = [float(v) for v in re.search(rb"/MediaBox \[([^]]*)\]", dictionary).group(1).split()]
        fonts = {}
        for name, font in re.findall(rb"/(F\d+) (\d+) 0 R", dictionary):
            unicode_ref = re.search(rb"/ToUnicode (\d+) 0 R", objects[int(font)][0])
            fonts[name.decode()] = to_unicode(objects[int(unicode_ref.group(1))][1]) if unicode_ref else {}
        content = objects[int(re.search(rb"/Contents (\d+) 0 R", dictionary).group(1))][1].decode("latin-1")
        footer = []
        for x, y, font, runs in _text_blocks(content):
            if y > BOTTOM_MARGIN_PT:  # above the bottom margin: the page's content, not its footer
                continue
            glyphs = fonts.get(font, {})
            footer.append((x, "".join(glyphs.get(int(run[i:i + 4], 16), "?") for run in runs
                                      for i in range(0, len(run), 4))))
        pages.append({"mediabox": box, "footer": "".join(text for _, text in sorted(footer))})
    return pages


@pytest.fixture(scope="module")
def printed(report_page, tmp_path_factory) -> tuple[Path, Path]:
    """The report printed by Chromium, and a screenshot of it, kept under the test's tmp folder."""
    _, page = report_page
    artefacts = tmp_path_factory.mktemp("artefacts")
    pdf, screenshot = artefacts / "evaluation.pdf", artefacts / "evaluation.png"
    made = chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert made.returncode == 0 and pdf.exists(), made.stderr
    shot = chromium("--window-size=1280,1600", f"--screenshot={screenshot}", page.as_uri())
    assert shot.returncode == 0 and screenshot.stat().st_size > 10_000, shot.stderr
    return pdf, screenshot


def test_the_report_prints_on_a4_with_page_numbers_in_a_few_pages(printed):
    pdf, _ = printed
    pages = pdf_pages(pdf.read_bytes())
    # The summary (scores, fix first, the charts) fills about two pages; then a part-page per unit
    # (each fix a whole command, with its unit's --vault-id).
    assert 1 <= len(pages) <= 5, f"{len(pages)} pages for three units (kept in {pdf})"
    for number, page in enumerate(pages, 1):
        width, height = page["mediabox"][2] - page["mediabox"][0], page["mediabox"][3] - page["mediabox"][1]
        assert (width, height) == pytest.approx(A4_POINTS, abs=1.0), f"page {number} is not A4: {width} x {height}"
        assert f"page {number} of {len(pages)}" in page["footer"], (number, page["footer"])
        assert "صفحه" in page["footer"] or "ﺻ" in page["footer"], page["footer"]  # the Persian half (shaped)
        assert evaluation.fa_digits(len(pages)) in page["footer"], page["footer"]


# --- a long report: many units, many failures, a kept history ------------------------------------------

LONG_CHECKS = CHECKS | HARDENING | {
    "PWR-004": {"id": "PWR-004", "title_en": "Low battery triggers the shutdown policy",
                "title_fa": "باتری ضعیف سیاست خاموشی را به کار می‌اندازد", "severity": "critical",
                "applies_to": ["unit_server"], "policy": "power.yml", "fix": "playbooks/servers.yml"},
    "FW-005": {"id": "FW-005", "title_en": "Only the published ports are open", "title_fa": "تنها درگاه‌های اعلام‌شده باز است",
               "severity": "high", "applies_to": ["unit_server"], "policy": "firewall.yml", "fix": "playbooks/servers.yml"},
    "NODE-001": {"id": "NODE-001", "title_en": "The node exporter runs", "title_fa": "صادرکنندهٔ پایش اجرا می‌شود",
                 "severity": "medium", "applies_to": ["unit_server"], "policy": "monitoring.yml", "fix": "playbooks/servers.yml"},
    "WS-003": {"id": "WS-003", "title_en": "The CMS opens in the kiosk browser", "title_fa": "سامانهٔ مدیریت پرونده در مرورگر باز می‌شود",
               "severity": "low", "applies_to": ["workstation"], "policy": "workstations.yml", "fix": "playbooks/workstations.yml"},
}
# Twelve units; the names are long and short, so that the charts' labels are put to the test.
LONG_UNITS = [
    ("qom-court", "دادگستری شهرستان قم"), ("qom-prosecutor", "دادسرای عمومی و انقلاب قم"),
    ("qom-appeals", "دادگاه‌های تجدیدنظر استان قم"), ("qom-centre", "اداره کل آمار و انفورماتیک دادگستری استان قم"),
    ("kahak-court", "دادگستری کهک"), ("jafarieh-court", "دادگستری جعفریه"), ("salafchegan-court", "دادگستری سلفچگان"),
    ("dastjerd-court", "دادگستری دستجرد"), ("qom-dispute", "شورای حل اختلاف استان قم"),
    ("qom-prosecutor-2", "دادسرای ناحیهٔ دو قم"), ("qom-enforcement", "اجرای احکام مدنی قم"),
    ("qom-beheshti", "مجتمع قضایی شهید بهشتی قم (ساختمان مرکزی و شعبه‌های تابعه در شهر)"),
]
LONG_HOSTS = ("srv", "ws1", "ws2")
LONG_RUNS = 6  # five kept in the history, and the one reported
ROOMS = {"server_room": {"emergency_power": "generator", "temperature_c": {"min": 18, "max": 27},
                         "ups": {"model": "APC Smart-UPS 3000"}}}


def long_province() -> Province:
    """Twelve units read from nowhere: only what the report shows of them (unit.yml, rooms.yml)."""
    return Province(Path("/nonexistent/units"), [
        Unit(Path("/nonexistent/units") / unit_id, data={
            "unit.yml": {"unit": {"id": unit_id, "name_fa": name_fa, "name_en": unit_id.replace("-", " ").title(),
                                  "kind": "county_court"}},
            "rooms.yml": {"rooms": ROOMS}}) for unit_id, name_fa in LONG_UNITS])


def long_outcome(unit_index: int, check_index: int, host_index: int, run: int) -> str:
    """What a check found on a host of a unit in a run (0 the oldest): a spread of failures that
    changes from run to run; qom-appeals always passes, jafarieh-court always fails, qom-dispute
    is unreachable now and was in run 2, kahak-court's ws2 is unreachable now."""
    unit_id = LONG_UNITS[unit_index][0]
    last = run == LONG_RUNS - 1
    if unit_id == "qom-appeals":
        return "pass"
    if unit_id == "jafarieh-court":
        return "fail"
    if unit_id == "qom-dispute" and (last or run == 2):
        return "unreachable"
    if unit_id == "kahak-court" and last and host_index == 2:
        return "unreachable"
    return "fail" if (unit_index * 3 + check_index * 2 + host_index + run) % 5 < 2 else "pass"


def long_run(run: int) -> list[dict]:
    """Every check on every host of the twelve units in one run; a failure with a few lines of evidence."""
    evidence = "expected: the setting the policy names\nfound: {found}\n" + "context line of the evidence\n" * 3
    results = []
    for unit_index, (unit_id, _) in enumerate(LONG_UNITS):
        for check_index, check_id in enumerate(sorted(LONG_CHECKS)):
            for host_index, host in enumerate(LONG_HOSTS):
                outcome = long_outcome(unit_index, check_index, host_index, run)
                found = evidence.format(found=f"{check_id} not applied on {unit_id}-{host}") if outcome == "fail" else ""
                results.append(result(check_id, f"{unit_id}-{host}", unit_id, outcome, found))
    return results


def long_report(folder: Path) -> dict:
    """The twelve units evaluated LONG_RUNS times, a day apart, each run kept in the history as
    `unitctl evaluate` keeps it; returns the last run's evaluation (its HTML is folder/out)."""
    province, history = long_province(), folder / "history"
    identity = {"name_fa": "استان قم", "name_en": "Qom province", "judiciary_fa": None, "judiciary_en": None}
    for run in range(LONG_RUNS):
        moment = datetime(2026, 11, 1 + run, 12, 0, tzinfo=UTC)
        report = evaluation.build_evaluation(
            {"checks": LONG_CHECKS, "results": long_run(run)}, province, run_info(started=moment, finished=moment),
            evaluation.previous_for(history), identity=identity, history=evaluation.score_history(history))
        evaluation.write_outputs(report, folder / "out", history)
    return report


@pytest.fixture(scope="module")
def long_page(tmp_path_factory) -> tuple[dict, Path]:
    folder = tmp_path_factory.mktemp("long-report")
    return long_report(folder), folder / "out" / "evaluation.html"


# Reads what the browser drew of each chart (boxes in CSS pixels) and writes it into the page.
CHART_PROBE = """
<script>
window.addEventListener("load", () => {
  const box = element => { const r = element.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const charts = [...document.querySelectorAll("svg.chart")].map(svg => ({
    id: svg.id, key: svg.dataset.key || "", box: box(svg),
    display: getComputedStyle(svg).display, visibility: getComputedStyle(svg).visibility,
    rows: [...svg.querySelectorAll("g.chart-row")].map(row => ({
      key: row.dataset.key, missing: row.querySelectorAll("rect.missing").length,
      bars: [...row.querySelectorAll("rect.bar")].map(bar => ({key: bar.dataset.key, width: box(bar)[2] - box(bar)[0],
                                                           fill: getComputedStyle(bar).fill})),
      texts: [...row.querySelectorAll("text")].map(text => text.textContent)})),
    points: [...svg.querySelectorAll("circle.point")].map(point => Number(point.dataset.value)),
    references: svg.querySelectorAll("rect.reference-point").length,
    gaps: svg.querySelectorAll("line.gap").length,
    lines: svg.querySelectorAll("polyline.series").length,
    texts: [...svg.querySelectorAll("text")].map(text => ({text: text.textContent, css: text.getAttribute("class"),
                                                          box: box(text)})),
  }));
  const probe = document.createElement("pre");
  probe.id = "chart-probe";
  probe.textContent = JSON.stringify(charts);
  document.body.appendChild(probe);
});
</script>
"""


def drawn_charts(page: Path, folder: Path) -> dict[str, dict]:
    """The page's charts as Chromium drew them, by id (bar charts) or "trend:KEY" (trend panels)."""
    probed = folder / "charts-probed.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", CHART_PROBE + "</body>"), encoding="utf-8")
    dom = chromium("--window-size=1280,1600", "--virtual-time-budget=5000", "--dump-dom", probed.as_uri())
    assert dom.returncode == 0, dom.stderr
    found = json.loads(html.unescape(dom.stdout.split('<pre id="chart-probe">')[1].split("</pre>")[0]))
    return {chart["id"] or f"trend:{chart['key']}": chart for chart in found}


def assert_legible(chart: dict) -> None:
    """Every label of a chart drawn inside it, and no two labels on top of each other."""
    left, top, right, bottom = chart["box"]
    assert chart["display"] != "none" and chart["visibility"] == "visible", chart["id"]
    assert right - left > 100 and bottom - top > 100, (chart["id"], chart["box"])
    texts = [text for text in chart["texts"] if text["text"]]
    for text in texts:
        l, t, r, b = text["box"]
        assert r > l and b > t, text
        assert l >= left - 0.5 and r <= right + 0.5 and t >= top - 0.5 and b <= bottom + 0.5, (chart["id"] or chart["key"], text)
    for index, first in enumerate(texts):
        for second in texts[index + 1:]:
            a, b = first["box"], second["box"]
            overlap_x = min(a[2], b[2]) - max(a[0], b[0])
            overlap_y = min(a[3], b[3]) - max(a[1], b[1])
            assert overlap_x <= 0.5 or overlap_y <= 0.5, (chart["id"] or chart["key"], first, second)


def test_the_long_reports_charts_are_drawn_with_every_value_and_no_label_over_another(long_page, tmp_path):
    report, page = long_page
    drawn = drawn_charts(page, tmp_path)
    units = [unit_id for unit_id, _ in LONG_UNITS]
    assert len(drawn) == 2 + 1 + len(units), sorted(drawn)

    scores = drawn["scores-chart"]
    assert [row["key"] for row in scores["rows"]] == ["province", *units]
    rows = {row["key"]: row for row in scores["rows"]}
    # Not evaluated (its hosts unreachable): no bar, said so; scored 0 (all failed): a bar of no length, its 0 written.
    assert report["units"]["qom-dispute"]["evaluated"] == "none"
    assert rows["qom-dispute"]["bars"] == [] and rows["qom-dispute"]["missing"] == 1
    assert {"ارزیابی نشد", "not evaluated"} <= set(rows["qom-dispute"]["texts"])
    assert rows["jafarieh-court"]["bars"][0]["width"] == 0 and {"۰٫۰٪", "0.0%"} <= set(rows["jafarieh-court"]["texts"])
    full = rows["qom-appeals"]["bars"][0]["width"]
    assert full > 250 and {"۱۰۰٫۰٪", "100.0%"} <= set(rows["qom-appeals"]["texts"])
    for unit_id in units:
        score = report["units"][unit_id]["score"]
        if rows[unit_id]["bars"]:
            assert rows[unit_id]["bars"][0]["width"] == pytest.approx(full * score / 100, abs=0.6), unit_id
            assert evaluation.fa_number(score) + "٪" in rows[unit_id]["texts"], unit_id
    assert rows["kahak-court"]["bars"][0]["fill"].startswith("url(")  # incomplete: hatched, not only coloured
    assert rows["qom-court"]["bars"][0]["fill"].startswith("rgb(")
    labels = {text["text"] for text in scores["texts"]}
    assert {"امتیاز (٪)", "Score (%)", "۵۰", "50", "کل استان", "province"} <= labels

    severities = drawn["severities-chart"]
    assert sum(len(row["bars"]) for row in severities["rows"]) == 4 * (len(units) - 1)  # qom-dispute: not evaluated
    fills = {bar["key"]: bar["fill"] for row in severities["rows"] for bar in row["bars"]}
    assert len(set(fills.values())) == 4 and sum(fill.startswith("url(") for fill in fills.values()) == 2
    for row in severities["rows"]:
        counts = report["units"][row["key"]]["failures_by_severity"]
        for bar in row["bars"]:
            assert (bar["width"] > 0) == (counts[bar["key"]] > 0), (row["key"], bar)
            assert evaluation.fa_number(counts[bar["key"]]) in row["texts"]
    assert {"بحرانی", "critical", "کم", "low"} <= {text["text"] for text in severities["texts"]}

    runs = min(LONG_RUNS, evaluation.TREND_RUNS)
    province_panel = drawn["trend:province"]
    assert len(province_panel["points"]) == runs and province_panel["references"] == 0
    assert province_panel["points"][-1] == report["score"]
    for unit_id in units:
        panel = drawn[f"trend:{unit_id}"]
        gaps = 2 if unit_id == "qom-dispute" else 0  # unreachable in run 2 and now
        assert (len(panel["points"]), panel["gaps"], panel["references"]) == (runs - gaps, gaps, runs), unit_id
    assert drawn["trend:jafarieh-court"]["points"] == [0.0] * runs
    dispute = {text["text"] for text in drawn["trend:qom-dispute"]["texts"]}
    assert "ارزیابی نشد" in dispute and "now: not evaluated" in dispute

    for chart in drawn.values():
        assert_legible(chart)


def test_a_single_evaluation_says_there_is_no_trend_yet(report_page, tmp_path):
    province, page = report_page
    drawn = drawn_charts(page, tmp_path)
    panels = [chart for key, chart in drawn.items() if key.startswith("trend:")]
    assert [chart["key"] for chart in panels] == ["province"] + sorted(unit.id for unit in province.units)
    for chart in panels:
        texts = {text["text"] for text in chart["texts"]}
        assert "one evaluation only: no trend yet" in texts and "تنها یک ارزیابی؛ هنوز روندی نیست" in texts, chart["key"]
        assert chart["lines"] == 0 and len(chart["points"]) + chart["gaps"] == 1, chart["key"]
        assert_legible(chart)
    assert_legible(drawn["scores-chart"])
    assert_legible(drawn["severities-chart"])


# --- the long report printed: no heading left at a page's foot ------------------------------------------

def structure(data: bytes) -> list[tuple[int, tuple[tuple[int, str], ...]]]:
    """The tagged PDF's content in reading order (Chromium tags what it prints): for each piece,
    (its page, 1-based; the structure elements around it, outermost first, as (object, tag))."""
    objects = pdf_objects(data)
    catalog = next(dictionary for dictionary, _ in objects.values() if re.search(rb"/Type /Catalog\b", dictionary))
    pages: list[int] = []

    def page_tree(number: int) -> None:
        dictionary = objects[number][0]
        if re.search(rb"/Type /Pages\b", dictionary):
            for kid in re.findall(rb"(\d+) 0 R", re.search(rb"/Kids \[([^\]]*)\]", dictionary).group(1)):
                page_tree(int(kid))
        else:
            pages.append(number)
    page_tree(int(re.search(rb"/Pages (\d+) 0 R", catalog).group(1)))
    page_number = {number: index for index, number in enumerate(pages, 1)}

    pieces = []

    def element(number: int, around: tuple) -> None:
        dictionary = objects[number][0]
        around = (*around, (number, re.search(rb"/S /(\w+)", dictionary).group(1).decode()))
        own_page = re.search(rb"/Pg (\d+) 0 R", dictionary)
        kids = re.search(rb"/K\s*(\[.*?\](?=\s*(?:/[A-Za-z]|>>))|\d+ 0 R|\d+)", dictionary, re.S)
        for marked, child, mcid in re.findall(rb"<<(.*?)>>|(\d+) 0 R|(\d+)", kids.group(1) if kids else b"", re.S):
            if child:
                element(int(child), around)
            elif marked:  # content on another page than the element's own (a table header repeated)
                pieces.append((page_number[int(re.search(rb"/Pg (\d+) 0 R", marked).group(1))], around))
            else:
                pieces.append((page_number[int(own_page.group(1))], around))
    root = next(dictionary for dictionary, _ in objects.values() if b"/Type /StructTreeRoot" in dictionary)
    for child in re.findall(rb"(\d+) 0 R", re.search(rb"/K\s*(\[[^\]]*\]|\d+ 0 R)", root).group(1)):
        element(int(child), ())
    return pieces


def headings_at_a_page_foot(data: bytes) -> tuple[int, list[tuple[str, int]]]:
    """How many headings (H1-H6) the PDF has, and those whose following content starts on a
    later page than they end on (or that are cut in two), as (tag, page)."""
    pieces = structure(data)
    headings: dict[int, list[int]] = {}
    for index, (_, around) in enumerate(pieces):
        for number, tag in around:
            if re.fullmatch(r"H[1-6]", tag):
                headings.setdefault(number, []).append(index)
    alone = []
    for number, indexes in headings.items():
        tag = next(tag for n, tag in pieces[indexes[0]][1] if n == number)
        last = indexes[-1]
        following = next((page for page, around in pieces[last + 1:] if number not in (n for n, _ in around)), None)
        if len({pieces[index][0] for index in indexes}) > 1 or following != pieces[last][0]:
            alone.append((tag, pieces[last][0]))
    return len(headings), alone


def figure_names(data: bytes) -> dict[int, str]:
    """Each chart's structure element (a Figure) by object number: its alternative text, the SVG's aria-label."""
    names = {}
    for number, (dictionary, _) in pdf_objects(data).items():
        alt = re.search(rb"/S /Figure\b.*?/Alt <([0-9A-Fa-f]+)>", dictionary, re.S)
        if alt:
            names[number] = bytes.fromhex(alt.group(1).decode()).decode("utf-16")
    return names


def figures_by_page(data: bytes) -> dict[str, set[int]]:
    """Each chart (a Figure with its alternative text, the SVG's aria-label) and the pages it is on."""
    names = figure_names(data)
    pages: dict[str, set[int]] = {}
    for page, around in structure(data):
        for number, _ in around:
            if number in names:
                pages.setdefault(names[number], set()).add(page)
    return pages


@pytest.fixture(scope="module")
def long_printed(long_page) -> Path:
    """The long report printed by Chromium; the PDF and screenshots (in colour and in greyscale)
    are kept in results/test-artifacts/ for a person to look at."""
    _, page = long_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / "evaluation-report-long.pdf"
    pdf.unlink(missing_ok=True)
    made = chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert made.returncode == 0 and pdf.exists(), made.stderr
    grey = page.with_name("greyscale.html")
    grey.write_text(page.read_text(encoding="utf-8").replace("</style>", "html { filter: grayscale(1); }\n</style>"),
                    encoding="utf-8")
    for source, name in ((page, "evaluation-report-long.png"), (grey, "evaluation-report-long-greyscale.png")):
        shot = chromium("--window-size=1280,3200", f"--screenshot={ARTIFACTS / name}", source.as_uri())
        assert shot.returncode == 0 and (ARTIFACTS / name).stat().st_size > 50_000, shot.stderr
    return pdf


def test_the_long_report_prints_on_many_a4_pages_with_no_heading_at_a_page_foot(long_printed, long_page):
    _, page = long_page
    data = long_printed.read_bytes()
    pages = pdf_pages(data)
    assert len(pages) >= 10, f"{len(pages)} pages: too short to test page breaks (kept in {long_printed})"
    for number, printed_page in enumerate(pages, 1):
        assert f"page {number} of {len(pages)}" in printed_page["footer"], (number, printed_page["footer"])
    headings, alone = headings_at_a_page_foot(data)
    assert headings == len(re.findall(r"<h[1-6][ >]", page.read_text(encoding="utf-8"))) > 20  # each one found
    assert alone == [], f"headings left at the foot of a page (tag, page): {alone} (kept in {long_printed})"


def test_the_long_reports_charts_print_whole_each_on_one_page(long_printed):
    pages = figures_by_page(long_printed.read_bytes())
    charts = {name: on for name, on in pages.items() if "—" in name}
    assert len([name for name in charts if "score over time" in name]) == 1 + len(LONG_UNITS)
    assert any("score of each unit" in name for name in charts) and any("by severity" in name for name in charts)
    assert all(len(on) == 1 for on in charts.values()), charts


def test_without_the_break_rules_some_heading_would_be_left_at_a_page_foot(long_page, tmp_path):
    """The check above can fail: printed without its break-after/break-inside rules, the same
    report leaves headings at the foot of a page. (So the rules, not luck, keep them with their content.)"""
    _, page = long_page
    loose = tmp_path / "loose.html"
    loose.write_text(re.sub(r"(page-)?break-(after|inside):\s*avoid;?", "", page.read_text(encoding="utf-8")),
                     encoding="utf-8")
    pdf = tmp_path / "loose.pdf"
    made = chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", loose.as_uri())
    assert made.returncode == 0 and pdf.exists(), made.stderr
    _, alone = headings_at_a_page_foot(pdf.read_bytes())
    assert alone, "no heading fell at a page's foot even without the rules: the long report no longer tests them"


# --- every column on the page, every command whole ---------------------------------------------------

A4_TEXT_WIDTH_PX = round((210 - 2 * 14) / 25.4 * 96)  # the page's width less the template's margins, in CSS px
# Writes into the page how wide each table is laid out, against the width it has.
TABLE_PROBE = """
<script>
window.addEventListener("load", () => {
  const tables = [...document.querySelectorAll("table")].map(table => {
    const box = table.getBoundingClientRect();
    return {id: table.id || table.closest("section")?.id || "", left: box.left, right: box.right,
            header: [...table.querySelectorAll("tr:first-child > th")].map(cell => cell.textContent.trim())};
  });
  const probe = document.createElement("pre");
  probe.id = "table-probe";
  probe.textContent = JSON.stringify({width: document.documentElement.clientWidth, tables: tables});
  document.body.appendChild(probe);
});
</script>
"""


@pytest.fixture(scope="module")
def wide_report(tmp_path_factory) -> Path:
    """A report at its widest: the scores table's twelve columns, a failure whose policy and
    evidence are long paths, and fixes naming several hosts; printed by Chromium."""
    province = lab_province_with_vaults(tmp_path_factory)
    checks = LONG_CHECKS | {"FIM-001": {
        "id": "FIM-001", "title_en": "The file integrity baseline follows the toolkit's runs",
        "title_fa": "خط مبنای یکپارچگی پرونده‌ها با اجراهای ابزار همراه است", "severity": "medium",
        "applies_to": ["unit_server"], "policy": "inventory/group_vars/all/file_integrity.yml",
        "fix": "playbooks/file_integrity.yml"}}
    results = []
    for unit_id, hosts in (("lab-court", ("court-srv", "court-ws1", "court-ws2")),
                           ("lab-centre", ("centre-srv",)), ("lab-prosecutor", ("pros-srv", "pros-ws1"))):
        for index, check_id in enumerate(sorted(checks)):
            for host in hosts:
                outcome = ("unreachable" if host == "pros-ws1" else "error" if index == 3
                           else "fail" if (index + len(host)) % 3 == 0 or check_id == "FIM-001" else "pass")
                evidence = ("changed since the baseline: /etc/ssh/sshd_config.d/50-unitctl-hardening.conf"
                            if check_id == "FIM-001" else "expected: on\nfound: off")
                results.append(result(check_id, host, unit_id, outcome, evidence if outcome == "fail" else ""))
    report = evaluation.build_evaluation({"checks": checks, "results": results}, province,
                                         run_info(inventory="inventory/qom.unitctl.yml"))
    folder = tmp_path_factory.mktemp("wide-report")
    page = evaluation.write_outputs(report, folder, folder / "history")["html"]
    pdf = folder / "evaluation.pdf"
    made = chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert made.returncode == 0 and pdf.exists(), made.stderr
    return pdf


def test_every_table_fits_the_printed_pages_width(wide_report, tmp_path):
    # As printed: the print rules applied, laid out in the A4 page's text width. A table wider than
    # that runs past the page's left edge (right to left), and the page cuts its last columns off:
    # the scores table's "low", a failure's fix.
    page = wide_report.with_name("evaluation.html").read_text(encoding="utf-8")
    as_printed = tmp_path / "as-printed.html"
    as_printed.write_text(page.replace("@media print", "@media all").replace("</body>", TABLE_PROBE + "</body>"),
                          encoding="utf-8")
    dom = chromium(f"--window-size={A4_TEXT_WIDTH_PX},1200", "--hide-scrollbars", "--virtual-time-budget=5000", "--dump-dom",
                   as_printed.as_uri())
    assert dom.returncode == 0, dom.stderr
    layout = json.loads(html.unescape(dom.stdout.split('<pre id="table-probe">')[1].split("</pre>")[0]))
    assert layout["width"] == A4_TEXT_WIDTH_PX and len(layout["tables"]) >= 6
    scores = next(table for table in layout["tables"] if table["id"] == "scores")
    assert len(scores["header"]) == 12 and scores["header"][-1].endswith("low")
    wide = [(table["id"], round(table["left"]), round(table["right"])) for table in layout["tables"]
            if table["left"] < -0.5 or table["right"] > layout["width"] + 0.5]
    assert wide == [], f"tables wider than the A4 text width of {layout['width']} px (id, left, right): {wide}"


def test_a_fix_command_breaks_only_between_its_words(wide_report):
    page = wide_report.with_name("evaluation.html").read_text(encoding="utf-8")
    commands = [code.split("</code>")[0] for code in page.split('<code class="command">')[1:]]
    shown = [re.sub(r"<[^>]+>", "", command) for command in commands]
    assert ("ansible-playbook -i inventory/qom.unitctl.yml playbooks/file_integrity.yml --limit court-srv "
            "--vault-id lab-court@scripts/vault-password-client.py") in shown
    # Each word whole, never "--" at a line's end and "limit" on the next; a host list may break after a comma.
    for command in commands:
        assert re.fullmatch(r'(<span class="word">[^<>\s]+</span>(<wbr>| ))*<span class="word">[^<>\s]+</span>',
                            command), command
    assert any(",</span><wbr><span" in command and "--limit" in command for command in commands)
    assert "code.command .word { white-space: nowrap; }" in page


def test_the_trend_heading_prints_on_the_page_of_its_first_chart(wide_report, tmp_path):
    # The trend panels are a flex box, which Chromium moves to the next page without the heading and
    # legend above it. Put the heading low on a page (a spacer starting a new page before the
    # section): the section goes to the next page whole, not its heading alone.
    page = wide_report.with_name("evaluation.html").read_text(encoding="utf-8")
    start = re.search(r'(<section[^>]*id="trends">\s*)?<h2>روند امتیازها', page)
    low = tmp_path / "low.html"
    low.write_text(page[:start.start()] + '<div style="break-before: page; height: 780px"></div>\n'
                   + page[start.start():], encoding="utf-8")
    pdf = tmp_path / "low.pdf"
    made = chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", low.as_uri())
    assert made.returncode == 0 and pdf.exists(), made.stderr
    data = pdf.read_bytes()
    pieces, names = structure(data), figure_names(data)
    first = next(index for index, (_, around) in enumerate(pieces)
                 if any(names.get(number, "").endswith("score over time: province") for number, _ in around))
    heading = next(index for index in range(first, -1, -1) if any(tag == "H2" for _, tag in pieces[index][1]))
    assert pieces[heading][0] == pieces[first][0], (
        f"'Scores over time' is on page {pieces[heading][0]}, its first chart on page {pieces[first][0]}")

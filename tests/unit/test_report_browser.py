"""The council's HTML report as a browser shows it: right to left, Persian, every unit listed.

Headless Chromium (Debian's package) renders the report; a screenshot is kept in
results/test-artifacts/ for a person to look at. The printed report is made as Chromium prints it
(`--print-to-pdf`) and read back with a small PDF reader below (no PDF library needed): A4 pages,
a bounded page count, and the page number in each page's footer. Chromium draws CSS @page margin
boxes (@bottom-center with counter(page), counter(pages)) since version 131; the PDF is made with
`--no-pdf-header-footer` so that Chromium's own header and footer (date, title, file URL) stay out.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path

import pytest

from test_evaluation import build, result
from unitctl.report import evaluation
from unitctl.inventory.load import load_units_dir
from unitctl.paths import LAB_UNITS_DIR, PROJECT_ROOT

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


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    province = load_units_dir(LAB_UNITS_DIR)
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
    assert 1 <= len(pages) <= 3, f"{len(pages)} pages for three units (kept in {pdf})"
    for number, page in enumerate(pages, 1):
        width, height = page["mediabox"][2] - page["mediabox"][0], page["mediabox"][3] - page["mediabox"][1]
        assert (width, height) == pytest.approx(A4_POINTS, abs=1.0), f"page {number} is not A4: {width} x {height}"
        assert f"page {number} of {len(pages)}" in page["footer"], (number, page["footer"])
        assert "صفحه" in page["footer"] or "ﺻ" in page["footer"], page["footer"]  # the Persian half (shaped)
        assert evaluation.fa_digits(len(pages)) in page["footer"], page["footer"]

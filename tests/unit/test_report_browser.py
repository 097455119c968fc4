"""The council's HTML report as a browser shows it: right to left, Persian, every unit listed.

Headless Chromium (Debian's package) renders the report; a screenshot is kept in
results/test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile

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
  const probe = document.createElement("pre");
  probe.id = "layout-probe";
  probe.textContent = JSON.stringify({
    direction: getComputedStyle(document.body).direction,
    first_column_is_rightmost: first.left > last.left,
    units: rows,
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
    report = build(province, [
        result("SSH-002", "court-srv", "lab-court", "fail", "PasswordAuthentication yes"),
        result("BASE-001", "court-srv", "lab-court", "pass"),
        result("SSH-002", "pros-srv", "lab-prosecutor", "unreachable", "NoValidConnectionsError"),
        result("SSH-002", "centre-srv", "lab-centre", "pass"),
    ])
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


def test_report_screenshot_is_kept(report_page):
    _, page = report_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "evaluation-report.png"
    screenshot.unlink(missing_ok=True)
    shot = chromium("--window-size=1280,1600", f"--screenshot={screenshot}", page.as_uri())
    assert shot.returncode == 0, shot.stderr
    assert screenshot.stat().st_size > 10_000  # a blank page is a few hundred bytes

"""`unitctl staff list` and `unitctl staff appointments`, in-process, on the sample and lab provinces."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
import yaml

from unitctl.cli import main
from unitctl.cli.staff import gregorian

ROOT = Path(__file__).resolve().parents[2]
QOM = ROOT / "inventory" / "qom.unitctl.yml"
LAB = ROOT / "inventory" / "lab.unitctl.yml"


def test_list_one_unit(capsys):
    assert main(["staff", "list", "qom-court"]) == 0
    out = capsys.readouterr().out
    assert "qom-court: County courts of Qom" in out
    assert re.search(r"a\.rezaei\s+supervisor\s+Ali Rezaei / علی رضایی", out)
    assert "appointment 8476/12 of 1387/07/01 (2008-09-22), provincial directorate" in out
    assert "qom-prosecutor" not in out  # only the unit asked for


def test_list_every_unit_of_the_lab(capsys):
    assert main(["staff", "list", "-i", str(LAB)]) == 0
    out = capsys.readouterr().out
    for unit in ("lab-centre", "lab-court", "lab-prosecutor"):
        assert f"\n{unit}: " in out
    assert re.search(r"z\.ahmadi\s+cms_operator .*no appointment on record", out)


def test_list_refuses_an_unknown_unit():
    with pytest.raises(SystemExit, match=r"no unit nowhere in inventory/qom\.unitctl\.yml \(the default\)\. .*qom-court"):
        main(["staff", "list", "nowhere"])


def test_appointments_csv_and_html(tmp_path: Path, capsys):
    csv_file, html_file = tmp_path / "out" / "appointments.csv", tmp_path / "out" / "appointments.html"
    assert main(["staff", "appointments", "--csv", str(csv_file), "--html", str(html_file)]) == 0
    rows = list(csv.DictReader(csv_file.open(encoding="utf-8-sig")))
    staff = [p for unit in (ROOT / "inventory" / "units").iterdir()
             for p in yaml.safe_load((unit / "staff.yml").read_text(encoding="utf-8"))["staff"]]
    assert sorted(r["username"] for r in rows) == sorted(p["username"] for p in staff)
    rezaei = next(r for r in rows if r["username"] == "a.rezaei")
    assert rezaei["appointment_number"] == "8476/12"
    assert rezaei["appointment_date_jalali"] == "1387/07/01"
    assert rezaei["appointment_date_gregorian"] == "2008-09-22"
    assert rezaei["issued_by_fa"] == "مدیریت کل استان"
    assert rezaei["role_fa"] == "سرپرست مرکز رایانه"
    page = html_file.read_text(encoding="utf-8")
    assert '<html lang="fa" dir="rtl">' in page
    assert "@page" in page and "A4" in page  # printable
    assert "۱۳۸۷/۰۷/۰۱" in page and "2008-09-22" in page  # Jalali (Persian digits) and Gregorian
    assert "علی رضایی" in page and "Ali Rezaei" in page
    assert "حکم ثبت نشده است" in page  # staff without an appointment are shown, not hidden


def test_appointments_one_unit_and_escaping(tmp_path: Path):
    """Names are HTML-escaped: a roster value cannot inject markup into the printed page."""
    root = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventory" / "lab", root / "lab")
    shutil.copytree(ROOT / "inventory" / "group_vars", root / "group_vars")
    shutil.copy(LAB, root / "lab.unitctl.yml")
    staff_file = root / "lab" / "units" / "lab-court" / "staff.yml"
    staff_file.write_text(staff_file.read_text(encoding="utf-8").replace("name_en: CMS operator",
                                                                          "name_en: CMS <b>operator</b>"),
                          encoding="utf-8")
    html_file = tmp_path / "court.html"
    assert main(["staff", "appointments", "-i", str(root / "lab.unitctl.yml"), "--html", str(html_file),
                 "lab-court"]) == 0
    page = html_file.read_text(encoding="utf-8")
    assert "CMS &lt;b&gt;operator&lt;/b&gt;" in page and "<b>operator" not in page
    assert "r.hosseini" not in page


def test_appointments_needs_an_output(capsys):
    assert main(["staff", "appointments"]) == 2


def test_gregorian():
    assert gregorian("1387/07/01") == "2008-09-22"
    assert gregorian("TODO: date") == ""
    assert gregorian("") == ""

"""What a technician types on a Persian keyboard is read as meant (unitctl.inventory.load):
Persian and Arabic-Indic digits in dates, numbers and addresses, Arabic yeh and kaf in Persian
names, and the invisible marks copy-paste brings along."""

from __future__ import annotations

import csv

import pytest

from unitctl.cli import main
from unitctl.inventory.load import load_units_dir, normalise_typed
from unitctl.inventory.validate import validate_province

from fixture_province import copy_fixture_province


@pytest.mark.parametrize("typed, read", [
    ("۱۳۸۹/۱۰/۰۵", "1389/10/05"),            # Persian digits
    ("١٣٨٩/١٠/٠٥", "1389/10/05"),            # Arabic-Indic digits
    ("۲۰", 20),                              # a number, as YAML reads 20
    ("۱۰.۹۹.۱۶.۱۰", "10.99.16.10"),          # an address
    ("شعبه ۱", "شعبه ۱"),                    # Persian text keeps its digits
    ("علي كريمي", "علی کریمی"),              # Arabic yeh and kaf become Persian
    ("\u200fcourt-srv\u200e", "court-srv"),  # direction marks dropped
    ("\ufeffb1", "b1"),                      # a byte-order mark dropped
    ("نیم\u200cفاصله", "نیم\u200cفاصله"),    # the zero-width non-joiner is Persian spelling: kept
    ("Room\u00a012", "Room 12"),             # a no-break space is a space
])
def test_typed_values_are_read_as_meant(typed, read):
    assert normalise_typed(typed) == read


def test_a_unit_typed_in_persian_validates_and_exports_in_one_digit_system(tmp_path, monkeypatch, capsys):
    root = copy_fixture_province(tmp_path / "inventory")
    staff = root / "units" / "court" / "staff.yml"
    text = staff.read_text(encoding="utf-8")
    text = text.replace("date: 1387/07/01", "date: ۱۳۸۷/۰۷/۰۱").replace("علی رضایی", "علي رضايي")
    staff.write_text(text, encoding="utf-8")
    hosts = root / "units" / "court" / "hosts.yml"
    hosts.write_text(hosts.read_text(encoding="utf-8").replace("address: 10.99.16.10", "address: ۱۰.۹۹.۱۶.۱۰"),
                     encoding="utf-8")
    assert validate_province(root, root / "units") == []
    court = next(unit for unit in load_units_dir(root / "units").units if unit.id == "court")
    assert court.staff[0]["appointment"]["date"] == "1387/07/01"
    assert court.staff[0]["name_fa"] == "علی رضایی"
    assert court.hosts[0]["address"] == "10.99.16.10"
    monkeypatch.chdir(tmp_path)
    assert main(["staff", "appointments", "-i", "inventory/province.unitctl.yml", "--csv", "out.csv"]) == 0
    rows = list(csv.reader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert any("1387/07/01" in row for row in rows) and not any("۱۳۸۷" in cell for row in rows for cell in row)

"""The server room's climate from the UPS's environment sensor (NUT ambient.*), judged against rooms.yml,
and how the report and the console show it (circular clause 2)."""

from __future__ import annotations

import pytest

from unitctl.compliance import Check, fix_is_playbook
from unitctl.report import evaluation
from unitctl.room_climate import Reading, ambient, outside_limits, parse_upsc

# What upsc prints for a UPS with a probe on its management card (snmp-ups), one without (usbhid-ups),
# and a multi-probe card that numbers its sensors: written for these tests in NUT's variable names.
SNMP_WITH_PROBE = """ambient.humidity: 38.00
ambient.temperature: 23.5
battery.charge: 100.00
battery.runtime: 1740.00
device.model: Smart-UPS 3000 RM
driver.name: snmp-ups
ups.status: OL
ups.temperature: 31.0
"""
USB_WITHOUT_PROBE = """battery.charge: 100
battery.runtime: 2100
driver.name: usbhid-ups
ups.status: OL CHRG
ups.temperature: 29.8
"""
NUMBERED_PROBES = """ambient.2.temperature: 40.0
ambient.1.temperature: 26.3
ambient.1.humidity: 51
ups.status: OL
"""
LIMITS = {"min": 18, "max": 27}


def test_upsc_output_is_read_by_variable_name():
    variables = parse_upsc(SNMP_WITH_PROBE + "not a variable line\n")
    assert variables["ambient.temperature"] == "23.5" and variables["ups.status"] == "OL"
    assert "not a variable line" not in variables


def test_the_room_probe_is_read_never_the_ups_inside_temperature():
    assert ambient(parse_upsc(SNMP_WITH_PROBE), "temperature") == Reading(23.5, "ambient.temperature")
    assert ambient(parse_upsc(SNMP_WITH_PROBE), "humidity") == Reading(38.0, "ambient.humidity")
    # ups.temperature (31 and 29.8 here) is the UPS's inside: without a probe there is no room reading.
    assert ambient(parse_upsc(USB_WITHOUT_PROBE), "temperature") is None
    assert ambient(parse_upsc(USB_WITHOUT_PROBE), "humidity") is None


def test_numbered_probes_use_the_first():
    variables = parse_upsc(NUMBERED_PROBES)
    assert ambient(variables, "temperature") == Reading(26.3, "ambient.1.temperature")
    assert ambient(variables, "humidity") == Reading(51.0, "ambient.1.humidity")


@pytest.mark.parametrize(("text", "problem"), [
    ("-1", "ambient.temperature is -1: the sensor gives no reading"),
    ("n/a", "ambient.temperature is 'n/a', not a number"),
    ("nan", "ambient.temperature is nan: the sensor gives no reading"),
])
def test_a_probe_without_a_reading_is_named_not_judged(text, problem):
    reading = ambient({"ambient.temperature": text}, "temperature")
    assert reading.value is None and reading.problem == problem
    assert outside_limits(reading, LIMITS, "°C") == problem


def test_an_unknown_quantity_is_refused():
    with pytest.raises(ValueError, match="pressure"):
        ambient({}, "pressure")


@pytest.mark.parametrize(("value", "verdict"), [
    (27.0, None), (18.0, None), (22.4, None),
    (27.1, "27.1 °C is above the room's limit of 27 °C (ambient.temperature)"),
    (31.0, "31 °C is above the room's limit of 27 °C (ambient.temperature)"),
    (17.5, "17.5 °C is below the room's limit of 18 °C (ambient.temperature)"),
])
def test_limits_are_inclusive(value, verdict):
    assert outside_limits(Reading(value, "ambient.temperature"), LIMITS, "°C") == verdict


def test_the_report_shows_the_room_next_to_the_ups_with_its_verdict():
    room = {"temperature_c": {"min": 18, "max": 27}, "humidity_pct": {"min": 20, "max": 80}}
    rows = evaluation.room_climate({"ups_status": "OL", "room_temperature_c": 31.0, "room_humidity_pct": 45.0}, room)
    assert [(row["name_en"], row["value"], row["verdict"]) for row in rows] == [
        ("room temperature", 31.0, "above"), ("relative humidity", 45.0, "within")]
    assert rows[0]["verdict_fa"] == "بالاتر از حد مجاز"
    assert evaluation.room_climate({"room_temperature_c": 12}, room)[0]["verdict"] == "below"
    assert evaluation.room_climate({"room_humidity_pct": 50}, {"temperature_c": LIMITS})[0]["verdict"] == "no_limit"
    assert evaluation.room_climate({"ups_status": "OL"}, room) == []


def test_a_fix_is_a_playbook_or_a_persons_task_in_both_languages():
    assert fix_is_playbook("playbooks/servers.yml")
    assert not fix_is_playbook("bring the server room back within its limits")
    fields = dict(id="X-001", title_en="t", title_fa="ت", severity="high", applies_to=("unit_server",), policy="p")
    with pytest.raises(ValueError, match="fix_fa"):
        Check(**fields, fix="check the air conditioning")
    assert Check(**fields, fix="check the air conditioning", fix_fa="سرمایش را بررسی کنید").fix_fa


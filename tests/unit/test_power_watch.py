"""The province's rule for a UPS silent on battery (roles/power/files/unitctl-power-watch).

The decision alone, on readings as NUT's upsc prints them; the lab test
(tests/integration/test_unit_services.py) proves it with the dummy UPS and upsmon."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "roles" / "power" / "files" / "unitctl-power-watch"
_loader = importlib.machinery.SourceFileLoader("unitctl_power_watch", str(SCRIPT))
_spec = importlib.util.spec_from_loader(_loader.name, _loader)
watch = importlib.util.module_from_spec(_spec)
sys.modules[_loader.name] = watch  # dataclasses look their module up while the class is made
_loader.exec_module(watch)

AT = 1_700_000_000.0

# `upsc ups@localhost` of an APC Smart-UPS on usbhid-ups, on battery (abridged).
APC_ON_BATTERY = """battery.charge: 96
battery.charge.low: 10
battery.charge.warning: 50
battery.runtime: 2280
battery.runtime.low: 120
device.mfr: American Power Conversion
ups.status: OB DISCHRG
"""


def rule(reading):
    return watch.decide(reading, min_charge=50, min_runtime=300, no_estimate_wait=120)


def test_upsc_output_is_read_with_the_ups_own_low_marks():
    reading = watch.parse_upsc(APC_ON_BATTERY, AT)
    assert (reading.status, reading.charge, reading.runtime) == ("OB DISCHRG", 96, 2280)
    assert (reading.charge_low, reading.runtime_low) == (10, 120)
    assert reading.on_battery


def test_no_status_is_no_reading():
    assert watch.parse_upsc("Error: Data stale\n", AT) is None
    assert watch.parse_upsc("battery.charge: 100\n", AT) is None


def test_full_charge_waits_for_the_ups_own_runtime_estimate():
    decision = rule(watch.parse_upsc(APC_ON_BATTERY, AT))
    assert decision.at == AT + 2280 - 300
    assert "estimate" in decision.reason


@pytest.mark.parametrize(("upsc", "why"), [
    ("ups.status: OB\nbattery.charge: 50\nbattery.runtime: 1800\n", "charge, 50 %"),
    ("ups.status: OB\nbattery.charge: 90\nbattery.runtime: 300\n", "runtime, 300 s"),
    ("ups.status: OB LB\nbattery.charge: 90\nbattery.runtime: 1800\n", "low battery"),
    # the UPS's own low mark is higher than the policy's
    ("ups.status: OB\nbattery.charge: 60\nbattery.charge.low: 65\nbattery.runtime: 1800\n", "65 %"),
])
def test_a_low_last_reading_shuts_down_at_once(upsc, why):
    decision = rule(watch.parse_upsc(upsc, AT))
    assert decision.at == AT and why in decision.reason


def test_without_an_estimate_the_policy_wait_applies():
    decision = rule(watch.parse_upsc("ups.status: OB\nbattery.charge: 80\n", AT))
    assert decision.at == AT + 120 and "no runtime estimate" in decision.reason


def test_on_mains_is_not_on_battery():
    assert not watch.parse_upsc("ups.status: OL CHRG\n", AT).on_battery
    assert watch.parse_upsc("ups.status: OB DISCHRG\n", AT).on_battery


def test_the_last_reading_survives_a_restart(tmp_path):
    reading = watch.parse_upsc(APC_ON_BATTERY, AT)
    path = tmp_path / "run" / "last-reading.json"
    watch.save_state(str(path), reading)
    assert watch.load_state(str(path)) == reading
    assert watch.load_state(str(tmp_path / "missing.json")) is None


def watcher(last=None):
    return watch.Watcher("ups@localhost", min_charge=50, min_runtime=300, no_estimate_wait=120, confirm=20, last=last)


def test_a_wait_status_is_not_a_reading():
    """upsd says WAIT while it reconnects to a driver: it must not erase "on battery"."""
    wait = watch.parse_upsc("ups.status: WAIT\n", AT)
    assert wait is not None and not wait.known
    assert watch.parse_upsc("ups.status: OB DISCHRG\n", AT).known


def test_one_failed_poll_on_battery_does_not_shut_down():
    w = watcher(watch.parse_upsc("ups.status: OB\nbattery.charge: 20\nbattery.runtime: 600\n", AT))
    assert w.observe(None, "Data stale", AT + 5) == ([], False)
    messages, fire = w.observe(watch.parse_upsc("ups.status: OB\nbattery.charge: 20\n", AT + 10), "", AT + 10)
    assert not fire and messages == []
    # silent for the confirmation time after a low reading: at once
    w.observe(None, "Driver not connected", AT + 15)
    messages, fire = w.observe(None, "Driver not connected", AT + 35)
    assert fire and "20 %" in messages[0] and "shutting down" in messages[-1]


def test_full_charge_waits_and_the_link_back_calls_it_off():
    w = watcher(watch.parse_upsc(APC_ON_BATTERY, AT))
    w.observe(None, "Driver not connected", AT + 5)
    messages, fire = w.observe(None, "Driver not connected", AT + 30)
    assert not fire and "link lost on battery" in messages[0] and "shutdown at" in messages[0]
    assert w.observe(None, "Driver not connected", AT + 600) == ([], False)
    messages, fire = w.observe(watch.parse_upsc("ups.status: OL\n", AT + 700), "", AT + 700)
    assert not fire and "called off" in messages[0]


def test_the_shutdown_is_asked_again_until_upsmon_takes_it():
    w = watcher(watch.parse_upsc("ups.status: OB LB\n", AT))
    w.observe(None, "Data stale", AT + 1)
    assert w.observe(None, "Data stale", AT + 21)[1]
    assert w.observe(None, "Data stale", AT + 26)[1]  # upsmon -c fsd failed: fired stays False
    w.fired = True
    assert not w.observe(None, "Data stale", AT + 31)[1]


def test_lost_on_mains_never_shuts_down():
    w = watcher(watch.parse_upsc("ups.status: OL\n", AT))
    w.observe(None, "Data stale", AT + 1)
    messages, fire = w.observe(None, "Data stale", AT + 30)
    assert not fire and "not on battery" in messages[0]
    assert not w.observe(None, "Data stale", AT + 100_000)[1]
    assert w.observe(watch.parse_upsc("ups.status: OL\n", AT + 100_001), "", AT + 100_001)[0] == \
        ["ups@localhost: link back (OL)"]

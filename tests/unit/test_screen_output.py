"""The project's screen output (scripts/ansible_plugins/callback/unitctl_default.py): the
connection probe's expected refusal by a bare machine is one plain line."""

from __future__ import annotations

import importlib.util

from unitctl.paths import PROJECT_ROOT

SPEC = importlib.util.spec_from_file_location(
    "unitctl_default", PROJECT_ROOT / "scripts" / "ansible_plugins" / "callback" / "unitctl_default.py")
unitctl_default = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(unitctl_default)


def test_the_probe_line_names_the_host_and_the_first_line_of_the_reason():
    mitogen = ("Task failed: SSH password was requested, but none specified\n"
               "Traceback (most recent call last):\n  File ...")
    assert unitctl_default.probe_line("court-ws1", mitogen) == (
        "probe: [court-ws1] does not answer as the automation account "
        "(SSH password was requested, but none specified)")


def test_a_long_or_empty_reason_stays_one_short_line():
    line = unitctl_default.probe_line("court-srv", "\n\n" + "x" * 500)
    assert "\n" not in line and len(line) < 240 and line.endswith("…)")
    assert unitctl_default.probe_line("court-srv", "").endswith("(no answer)")


def test_ansible_uses_it_for_the_screen():
    config = (PROJECT_ROOT / "ansible.cfg").read_text()
    assert "stdout_callback = unitctl_default" in config

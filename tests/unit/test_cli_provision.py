"""`unitctl provision`: the command it prints and runs, and a refused unknown unit (nothing run)."""

from __future__ import annotations

from unitctl import cli
from unitctl.cli.provision import command_for
from unitctl.paths import PROJECT_ROOT


def test_the_command_names_the_units_groups_playbooks_and_modes():
    args = cli.build_parser().parse_args(
        ["provision", "qom-court", "qom-prosecutor", "--inventory", str(PROJECT_ROOT / "inventory" / "qom.unitctl.yml"),
         "--playbook", "playbooks/servers.yml", "--check", "--diff"])
    command = command_for(args)
    assert command[0].endswith("/ansible-playbook")
    assert command[1:] == ["-i", "inventory/qom.unitctl.yml", "playbooks/servers.yml",
                           "--limit", "unit_qom_court:unit_qom_prosecutor", "--check", "--diff"]


def test_site_yml_by_default():
    args = cli.build_parser().parse_args(["provision", "lab-court"])
    command = command_for(args)
    assert command[1:] == ["-i", "inventory/lab.unitctl.yml", "playbooks/site.yml", "--limit", "unit_lab_court"]


def test_an_unknown_unit_is_refused_before_anything_runs(capsys):
    status = cli.main(["provision", "lab-court", "no-such-unit"])
    captured = capsys.readouterr()
    assert status == 2
    assert "no unit no-such-unit in" in captured.err and "lab-court, lab-prosecutor" in captured.err
    assert "running:" not in captured.out

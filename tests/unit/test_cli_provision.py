"""`unitctl provision`: the command it prints and runs, and a refused unknown unit (nothing run)."""

from __future__ import annotations

import pytest

from unitctl import cli
from unitctl.cli.provision import command_for
from unitctl.paths import PROJECT_ROOT

from fixture_province import copy_fixture_province


def test_the_command_names_the_units_groups_playbooks_and_modes():
    args = cli.build_parser().parse_args(
        ["provision", "qom-court", "qom-prosecutor", "--inventory", str(PROJECT_ROOT / "inventory" / "qom.unitctl.yml"),
         "--playbook", "playbooks/servers.yml", "--check", "--diff"])
    command = command_for(args)
    assert command[0].endswith("/ansible-playbook")
    assert command[1:] == ["-i", "inventory/qom.unitctl.yml", "playbooks/servers.yml",
                           "--limit", "unit_qom_court:unit_qom_prosecutor", "--check", "--diff"]


def test_site_yml_by_default(lab_vault_args):
    args = cli.build_parser().parse_args(["provision", "lab-court"])
    command = command_for(args)
    assert command[1:] == ["-i", "inventory/lab.unitctl.yml", "playbooks/site.yml", "--limit", "unit_lab_court",
                           *lab_vault_args("lab-court")]


def test_a_playbook_is_found_from_the_current_folder_then_from_the_checkouts_top(tmp_path, monkeypatch):
    # ansible-playbook runs from the checkout's top: the printed command names the playbook from there.
    own = tmp_path / "my-job.yml"
    own.write_text("- hosts: all\n", encoding="utf-8")
    monkeypatch.chdir(PROJECT_ROOT / "inventory")
    args = cli.build_parser().parse_args(["provision", "lab-court", "--playbook", "../playbooks/servers.yml",
                                          "--playbook", "playbooks/staff.yml", "--playbook", str(own)])
    assert command_for(args)[3:6] == ["playbooks/servers.yml", "playbooks/staff.yml", str(own)]


@pytest.mark.parametrize("typed, why", [
    ("servers.yml", "servers.yml is not a playbook file; did you mean playbooks/servers.yml?"),
    ("playbooks/server.yml", "playbooks/server.yml is not a playbook file; did you mean playbooks/servers.yml?"),
    ("nothing.yml", "nothing.yml is not a playbook file; the jobs are in playbooks/ (such as playbooks/servers.yml)"),
])
def test_a_playbook_that_is_not_there_is_refused_before_anything_runs(typed, why, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        cli.main(["provision", "lab-court", "--playbook", typed])
    captured = capsys.readouterr()
    assert exited.value.code == 2 and "running:" not in captured.out
    assert captured.err.splitlines()[-1] == f"unitctl provision: error: argument --playbook: {why}"


def test_an_unknown_unit_is_refused_before_anything_runs(capsys):
    status = cli.main(["provision", "lab-court", "no-such-unit"])
    captured = capsys.readouterr()
    assert status == 2
    assert "no unit no-such-unit in" in captured.err and "lab-court, lab-prosecutor" in captured.err
    assert "running:" not in captured.out


# --- a unit that is not in the inventory in use -------------------------------------------------

def test_a_unit_of_another_inventory_is_pointed_to_it(capsys):
    assert cli.main(["provision", "qom-court"]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "unitctl: no unit qom-court in inventory/lab.unitctl.yml (the default). qom-court is in "
        "inventory/qom.unitctl.yml: use --inventory inventory/qom.unitctl.yml or set UNITCTL_INVENTORY "
        "(`unitctl use inventory/qom.unitctl.yml` sets it for this checkout)\n")
    assert "running:" not in captured.out


NOT_LAB_CORT = "no unit lab-cort in inventory/lab.unitctl.yml ({origin}). lab-cort: did you mean lab-court?"


@pytest.mark.parametrize("argv, origin", [
    (["provision", "lab-cort"], "the default"),
    (["check", "lab-cort"], "the default"),
    (["check", "lab-cort", "-i", "inventory/lab.unitctl.yml"], "--inventory"),
])
def test_a_mistyped_unit_gets_the_ids_that_look_like_it(argv, origin, capsys):
    assert cli.main(argv) == 2
    assert capsys.readouterr().err == f"unitctl: {NOT_LAB_CORT.format(origin=origin)}\n"


def test_staff_points_to_the_inventory_that_has_the_unit():
    with pytest.raises(SystemExit) as exited:  # with a message: exit status 1
        cli.main(["staff", "list", "lab-court"])  # staff's default is the province
    assert exited.value.code == (
        "unitctl staff: no unit lab-court in inventory/qom.unitctl.yml (the default). lab-court is in "
        "inventory/lab.unitctl.yml: use --inventory inventory/lab.unitctl.yml or set UNITCTL_INVENTORY "
        "(`unitctl use inventory/lab.unitctl.yml` sets it for this checkout)")


def test_a_unit_in_a_source_beside_the_one_named_is_found_there(tmp_path, capsys):
    root = copy_fixture_province(tmp_path / "inventory")
    (root / "north.unitctl.yml").write_text("plugin: unitctl_province\nunits_dir: north\n", encoding="utf-8")
    (root / "north" / "far-court").mkdir(parents=True)
    assert cli.main(["provision", "far-court", "court", "nowhere-x", "--inventory",
                     str(root / "province.unitctl.yml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"unitctl: no unit far-court, nowhere-x in {root / 'province.unitctl.yml'} (--inventory). ")
    assert (f"far-court is in {root / 'north.unitctl.yml'}: use --inventory {root / 'north.unitctl.yml'} or set "
            "UNITCTL_INVENTORY") in err
    assert "nowhere-x is in no inventory source of this checkout; this one has: centre, court" in err

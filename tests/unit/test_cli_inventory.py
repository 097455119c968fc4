"""`unitctl validate` and `unitctl new-unit`, run in-process on copies of the fixture province."""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from unitctl.cli import build_parser, main
from unitctl.inventory.load import load_units_dir
from unitctl.inventory.newunit import free_block
from unitctl.inventory.validate import pending_todos, validate_province

from unitctl.paths import PROJECT_ROOT

from fixture_province import copy_fixture_province



@pytest.fixture
def province(tmp_path: Path, monkeypatch) -> Path:
    root = copy_fixture_province(tmp_path / "inventory")
    monkeypatch.chdir(tmp_path)  # file names are printed relative to where the technician stands
    return root


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def new_unit(root: Path, unit_id: str, kind: str = "county_court", *extra: str) -> int:
    return main(["new-unit", unit_id, "--kind", kind, "--name-fa", "دادگستری جعفریه", "--name-en",
                 "Courts of Jafarieh", "--units-dir", str(root / "units"), *extra])


# --- validate -----------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["inventory", "inventory/units", "inventory/province.unitctl.yml",
                                    "inventory/units/court"])
def test_validate_a_valid_province_exits_0(province, capsys, target):
    assert main(["validate", target]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "inventory valid: 2 units, 5 hosts (inventory/units)"


def test_validate_lists_every_problem_and_exits_1(province, capsys):
    hosts_file = province / "units" / "court" / "hosts.yml"
    hosts_file.write_text(hosts_file.read_text(encoding="utf-8").replace("vlan: 10", "vlan: 40")
                          .replace("10.99.18.20", "10.99.18.300"), encoding="utf-8")
    assert main(["validate", "inventory"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "inventory/units/court/hosts.yml:6: hosts[0].vlan: VLAN 40 is not defined in this unit's addressing.yml",
        "inventory/units/court/hosts.yml:16: hosts[2].address: '10.99.18.300' is not an IPv4 address: write four "
        "numbers from 0 to 255 separated by dots, such as 10.25.16.10",
        "inventory/units/court/hosts.yml:26: hosts[3].ports[0].vlan: VLAN 40 is not defined in this unit's "
        "addressing.yml",
    ]
    assert "3 problems in 1 file" in captured.err
    # The command to run again names the source, so that copying it checks this province.
    assert f"then run `unitctl validate {province / 'province.unitctl.yml'}` again" in captured.err


def test_validate_without_a_path_checks_the_sample_and_the_lab_province(capsys):
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert out.count("inventory valid:") == 2
    assert "inventory valid: 5 units" in out  # the sample Qom province


def test_validate_a_missing_path_is_refused(province, capsys):
    assert main(["validate", "inventory/nowhere"]) == 2
    assert capsys.readouterr().err == "unitctl: inventory/nowhere does not exist\n"


def test_validate_with_a_folder_reports_a_broken_source(province, capsys):
    (province / "broken.unitctl.yml").write_text("units_dir: [\n", encoding="utf-8")
    assert main(["validate", "inventory"]) == 1
    out = capsys.readouterr().out
    assert "inventory/broken.unitctl.yml:2: this is not valid YAML" in out
    assert "inventory valid:" in out  # the good province is still checked


def test_validate_strict_refuses_todo_markers(province, capsys):
    rooms = province / "units" / "court" / "rooms.yml"
    rooms.write_text(rooms.read_text(encoding="utf-8").replace("APC Smart-UPS 3000", "TODO the UPS model"),
                     encoding="utf-8")
    assert main(["validate", "inventory/province.unitctl.yml"]) == 0
    capsys.readouterr()
    assert main(["validate", "--strict", "inventory/province.unitctl.yml"]) == 1
    assert "still to fill in: ups: {model: TODO the UPS model" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["staff", "appointments", "-i", "inventory/nowhere.unitctl.yml", "--csv", "x.csv"],
     "argument -i/--inventory: inventory/nowhere.unitctl.yml does not exist"),
    (["staff", "appointments", "-i", "inventory", "--csv", "x.csv"],
     "argument -i/--inventory: inventory is a folder, not an inventory source (*.unitctl.yml); name one of its "
     "sources: inventory/province.unitctl.yml"),
    (["evaluate", "--inventory", "inventory/units"], "argument -i/--inventory: inventory/units is a folder"),
    # A unit's own folder: its province's source is named, and the unit goes beside it.
    (["check", "court", "--inventory", "inventory/units/court"],
     "argument -i/--inventory: inventory/units/court is the folder of the unit court, not an inventory source "
     "(*.unitctl.yml); name its province's source, {root}/province.unitctl.yml (a command for one unit takes "
     "court beside it)"),
    (["net", "render", "-i", "inventory/nowhere.unitctl.yml"], "does not exist"),
])
def test_a_bad_inventory_path_is_one_plain_line_and_exit_2(province, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message.replace("{root}", str(province.resolve())) in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["net", "render", "-i", "inventory/province.unitctl.yml", "-l", "court-sw1"],
    ["staff", "list", "-i", "inventory/province.unitctl.yml"],
    ["provision", "court", "--inventory", "inventory/province.unitctl.yml"],
    ["check", "court", "--inventory", "inventory/province.unitctl.yml"],
])
def test_a_broken_inventory_is_refused_with_its_problems_and_exit_2(province, capsys, argv):
    hosts = province / "units" / "court" / "hosts.yml"
    hosts.write_text(hosts.read_text(encoding="utf-8") + "  - broken: [\n", encoding="utf-8")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "the inventory inventory/province.unitctl.yml is not valid; nothing was done" in err
    assert "inventory/units/court/hosts.yml:" in err and "Traceback" not in err


# --- new-unit -----------------------------------------------------------------------------------

def test_new_unit_writes_a_valid_unit_in_the_first_free_block(province, capsys):
    assert new_unit(province, "jafarieh-court", "county_court", "--city-fa", "قم", "--city-en", "Qom") == 0
    out = capsys.readouterr().out
    assert "created inventory/units/jafarieh-court" in out
    assert "inventory valid: 3 units, 7 hosts" in out
    assert validate_province(province, province / "units") == []

    unit = next(u for u in load_units_dir(province / "units").units if u.id == "jafarieh-court")
    block = ipaddress.IPv4Network("10.99.32.0/20")  # the fixture uses 10.99.0.0/20 and 10.99.16.0/20
    subnets = [ipaddress.IPv4Network(v["subnet"]) for v in unit.vlans if "subnet" in v]
    assert subnets and all(subnet.subnet_of(block) for subnet in subnets)
    assert unit.info["city_en"] == "Qom" and unit.info["supervisor"] == "todo.jafarieh-court"
    assert [h["name"] for h in unit.hosts] == ["jafarieh-court-srv1", "jafarieh-court-sw1"]


def test_new_unit_marks_what_only_a_person_knows(province, capsys):
    assert new_unit(province, "jafarieh-court") == 0
    todos = pending_todos(province / "units", province)
    texts = " ".join(todo.reason for todo in todos)
    assert "supervisor's public key" in texts and "city" in texts and "appointment date" in texts
    assert all(todo.file.startswith("inventory/units/jafarieh-court/") for todo in todos)
    assert f"({len(todos)} TODO markers still to fill in)" in capsys.readouterr().out


def test_new_unit_quotes_names_safely(province):
    assert main(["new-unit", "odd-court", "--kind", "prosecutor", "--name-fa", "دادسرا: «ویژه»",
                 "--name-en", 'Office "special": #1', "--units-dir", str(province / "units")]) == 0
    info = yaml.safe_load((province / "units" / "odd-court" / "unit.yml").read_text(encoding="utf-8"))["unit"]
    assert info["name_fa"] == "دادسرا: «ویژه»" and info["name_en"] == 'Office "special": #1'


def test_a_new_provincial_centre_gets_a_centre_server(province, tmp_path):
    shutil.rmtree(province / "units" / "centre")
    assert new_unit(province, "new-centre", "provincial_centre") == 0
    hosts = yaml.safe_load((province / "units" / "new-centre" / "hosts.yml").read_text(encoding="utf-8"))
    assert hosts["hosts"][0]["function"] == "centre_server"
    # the centre's old block 10.99.0.0/20 is free again and is the first one
    assert hosts["hosts"][0]["address"] == "10.99.0.10"


@pytest.mark.parametrize(("unit_id", "kind", "message"), [
    ("court", "county_court", "the unit 'court' already exists"),
    ("new-court", "county-court", "'county-court' is not a unit kind; choose one of: county_court, prosecutor, "
                                  "appeals_court, provincial_centre (did you mean 'county_court'?)"),
    ("Court_2", "county_court", "'Court_2' is not a valid unit id"),
    ("second-centre", "provincial_centre", "the province already has its provincial centre ('centre')"),
])
def test_new_unit_refuses_and_writes_nothing(province, capsys, unit_id, kind, message):
    before = snapshot(province)
    assert new_unit(province, unit_id, kind) == 1
    assert message in capsys.readouterr().err
    assert snapshot(province) == before


def test_new_unit_needs_the_province_plan(province, capsys):
    (province / "group_vars" / "all" / "addressing.yml").unlink()
    before = snapshot(province)
    assert new_unit(province, "jafarieh-court") == 1
    assert "province_address_space" in capsys.readouterr().err
    assert snapshot(province) == before


def test_free_block_skips_used_blocks_and_fills_gaps():
    space = ipaddress.IPv4Network("10.25.0.0/16")
    used = [ipaddress.IPv4Network(s) for s in ("10.25.0.0/24", "10.25.19.0/24", "10.25.48.0/20")]
    assert free_block(space, 20, used) == ipaddress.IPv4Network("10.25.32.0/20")
    assert free_block(ipaddress.IPv4Network("10.25.0.0/19"), 20, used) is None


def test_a_unit_with_todo_markers_is_not_evaluated(province, capsys):
    rooms = province / "units" / "court" / "rooms.yml"
    rooms.write_text(rooms.read_text(encoding="utf-8").replace("APC Smart-UPS 3000", "TODO the UPS model"),
                     encoding="utf-8")
    assert main(["check", "court", "--inventory", "inventory/province.unitctl.yml"]) == 2
    assert "these units still have TODO markers, so they cannot be evaluated yet" in capsys.readouterr().err


def test_new_unit_into_a_units_folder_that_does_not_exist_is_refused(province, capsys):
    assert main(["new-unit", "x-court", "--kind", "county_court", "--name-fa", "ایکس", "--name-en", "X",
                 "--units-dir", "inventory/no-such-units"]) == 1
    assert "inventory/no-such-units is not a folder of units (it does not exist)" in capsys.readouterr().err
    assert not (province / "no-such-units").exists()


@pytest.mark.parametrize("argv", [
    ["evaluate", "--inventory", "inventory/bad.unitctl.yml"],
    ["net", "render", "-i", "inventory/bad.unitctl.yml"],
    ["staff", "list", "-i", "inventory/bad.unitctl.yml"],
    ["validate", "inventory/bad.unitctl.yml"],
])
def test_a_source_that_is_not_yaml_is_one_plain_message_and_exit_2(province, capsys, argv):
    (province / "bad.unitctl.yml").write_text("plugin: unitctl_province\nunits_dir: [units\n", encoding="utf-8")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "names no 'units_dir'" not in err
    assert "bad.unitctl.yml" in err


@pytest.mark.parametrize("content, said", [
    ("plugin: unitctl_provinse\nunits_dir: units\n", "'plugin: unitctl_provinse' is not the toolkit's inventory plugin"),
    ("units_dir: units\n", "'plugin: None' is not the toolkit's inventory plugin"),
    ("plugin: unitctl_province\nunits_dirr: units\n", "names no 'units_dir'"),
    ("plugin: unitctl_province\nunits_dir: units\nlimit: court\n", "unknown key limit"),
])
def test_a_source_file_is_checked_itself(province, capsys, content, said):
    (province / "odd.unitctl.yml").write_text(content, encoding="utf-8")
    assert main(["validate", "inventory/odd.unitctl.yml"]) == 2
    assert said in capsys.readouterr().err


# --- the inventory in use: --inventory > UNITCTL_INVENTORY > unitctl.local.yml > the default ----

QOM = PROJECT_ROOT / "inventory" / "qom.unitctl.yml"
LAB = PROJECT_ROOT / "inventory" / "lab.unitctl.yml"

# Every command that acts on one inventory source, with its own default (staff: the province).
ONE_SOURCE_COMMANDS = [
    (["provision", "qom-court"], LAB), (["check", "qom-court"], LAB), (["evaluate"], LAB),
    (["net", "render"], LAB), (["net", "drift"], LAB), (["staff", "list"], QOM), (["staff", "appointments"], QOM),
]


def parsed(argv: list[str]):
    return build_parser().parse_args(argv)


@pytest.mark.parametrize("argv, default", ONE_SOURCE_COMMANDS)
def test_each_source_wins_over_the_next(argv, default, fresh_inventory_choice, monkeypatch):
    args = parsed(argv)
    assert (args.inventory, args.inventory_choice.origin) == (default, "default")

    assert main(["use", str(LAB if default == QOM else QOM)]) == 0  # the checkout's setting
    setting = LAB if default == QOM else QOM
    args = parsed(argv)
    assert (args.inventory.resolve(), args.inventory_choice.origin) == (setting, "setting")

    monkeypatch.setenv("UNITCTL_INVENTORY", str(default))  # the environment, over the setting
    args = parsed(argv)
    assert (args.inventory, args.inventory_choice.origin) == (default, "environment")

    args = parsed([*argv, "--inventory", str(setting)])  # the command line, over both
    assert (args.inventory, args.inventory_choice.origin) == (setting, "option")


def test_use_writes_the_setting_relative_to_the_checkout_and_shows_it(fresh_inventory_choice, capsys, tmp_path,
                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)  # from anywhere: the path is found in the checkout
    assert main(["use", "inventory/qom.unitctl.yml"]) == 0
    assert yaml.safe_load(fresh_inventory_choice.read_text(encoding="utf-8")) == {
        "inventory": "inventory/qom.unitctl.yml"}
    assert "this checkout now acts on inventory/qom.unitctl.yml" in capsys.readouterr().out
    assert main(["use"]) == 0
    assert capsys.readouterr().out == f"inventory/qom.unitctl.yml (from {fresh_inventory_choice})\n"
    assert main(["use", "--clear"]) == 0
    assert not fresh_inventory_choice.exists()
    capsys.readouterr()
    assert main(["use"]) == 0
    assert capsys.readouterr().out.startswith("inventory/lab.unitctl.yml: the lab's inventory, the default")


def test_use_refuses_what_is_not_an_inventory_source(fresh_inventory_choice, capsys):
    assert main(["use", str(PROJECT_ROOT / "inventory" / "policy-schema.yml")]) == 2
    assert "names no 'units_dir'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["use", "inventory/nowhere.unitctl.yml"])
    assert exited.value.code == 2
    assert "inventory/nowhere.unitctl.yml does not exist" in capsys.readouterr().err
    assert not fresh_inventory_choice.exists()


def test_use_says_when_the_environment_comes_first(fresh_inventory_choice, capsys, monkeypatch):
    monkeypatch.setenv("UNITCTL_INVENTORY", "inventory/lab.unitctl.yml")
    assert main(["use", "inventory/qom.unitctl.yml"]) == 0
    assert ("UNITCTL_INVENTORY is set in this shell, so it comes first: inventory/lab.unitctl.yml"
            in capsys.readouterr().err)


@pytest.mark.parametrize("argv", [["provision", "qom-court"], ["check", "qom-court"], ["net", "render"],
                                  ["staff", "list"]])
@pytest.mark.parametrize("value, said", [
    ("inventory/nope.unitctl.yml", "UNITCTL_INVENTORY=inventory/nope.unitctl.yml does not exist; an inventory "
                                   "source is a file such as inventory/qom.unitctl.yml (set UNITCTL_INVENTORY to "
                                   "one, or unset it)"),
    ("inventory", "UNITCTL_INVENTORY=inventory is a folder, not an inventory source (*.unitctl.yml); name one of its "
                  "sources: inventory/lab.unitctl.yml, inventory/qom.unitctl.yml"),
    ("inventory/units/qom-court", "UNITCTL_INVENTORY=inventory/units/qom-court is the folder of the unit qom-court, "
                                  "not an inventory source (*.unitctl.yml); name its province's source, "
                                  "inventory/qom.unitctl.yml (a command for one unit takes qom-court beside it)"),
])
def test_a_bad_environment_value_is_refused_naming_the_variable(argv, value, said, monkeypatch, capsys):
    monkeypatch.setenv("UNITCTL_INVENTORY", value)
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


@pytest.mark.parametrize("content, said", [
    ("inventory: inventory/gone.unitctl.yml\n",
     "{settings}: inventory: inventory/gone.unitctl.yml does not exist; an inventory source is a file such as "
     "inventory/qom.unitctl.yml (`unitctl use SOURCE` sets another, `unitctl use --clear` removes the setting)"),
    ("inventory: [\n", "{settings} cannot be read (ParserError)"),
    ("inventry: inventory/qom.unitctl.yml\n", "{settings} names no inventory"),
])
def test_a_bad_setting_is_refused_naming_its_file(content, said, fresh_inventory_choice, capsys):
    fresh_inventory_choice.write_text(content, encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["check", "qom-court"])
    assert exited.value.code == 2
    assert said.format(settings=fresh_inventory_choice) in capsys.readouterr().err
    assert main(["use", "--clear"]) == 0  # the way out works even then
    assert not fresh_inventory_choice.exists()


def test_a_bad_setting_does_not_matter_when_the_command_line_names_the_inventory(fresh_inventory_choice,
                                                                                  monkeypatch):
    monkeypatch.setenv("UNITCTL_INVENTORY", "inventory/nope.unitctl.yml")
    fresh_inventory_choice.write_text("inventory: [\n", encoding="utf-8")
    assert parsed(["check", "qom-court", "-i", str(QOM)]).inventory == QOM


def test_a_relative_path_is_found_from_the_checkout_when_not_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UNITCTL_INVENTORY", "inventory/qom.unitctl.yml")
    assert parsed(["check", "qom-court"]).inventory.resolve() == QOM
    monkeypatch.delenv("UNITCTL_INVENTORY")
    assert parsed(["check", "qom-court", "--inventory", "inventory/qom.unitctl.yml"]).inventory.resolve() == QOM


def test_the_inventory_in_use_is_said_in_one_line_and_in_help(monkeypatch, capsys, fresh_inventory_choice):
    from unitctl.cli import provision

    monkeypatch.setattr(provision.subprocess, "run",
                        lambda command, **kwargs: subprocess.CompletedProcess(command, 0))
    assert main(["use", "inventory/qom.unitctl.yml"]) == 0
    capsys.readouterr()
    assert main(["provision", "qom-court"]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"unitctl: inventory inventory/qom.unitctl.yml (from {fresh_inventory_choice})\n"
    # The command printed to copy names the inventory used, not ansible.cfg's default (the lab).
    assert captured.out == ("running: ansible-playbook -i inventory/qom.unitctl.yml playbooks/site.yml "
                            "--limit unit_qom_court\n")

    monkeypatch.setenv("UNITCTL_INVENTORY", "inventory/qom.unitctl.yml")
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    assert ("(default: inventory/qom.unitctl.yml, from UNITCTL_INVENTORY)"
            in " ".join(capsys.readouterr().out.split()))
    assert main(["provision", "qom-court", "-i", "inventory/qom.unitctl.yml"]) == 0
    assert capsys.readouterr().err == ""  # named on the command line: nothing to say


def test_validate_without_a_path_validates_the_inventory_in_use(monkeypatch, capsys):
    monkeypatch.setenv("UNITCTL_INVENTORY", "inventory/qom.unitctl.yml")
    assert main(["validate"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("inventory valid:") == 1 and "inventory valid: 5 units" in captured.out
    assert captured.err == "unitctl: inventory inventory/qom.unitctl.yml (from UNITCTL_INVENTORY)\n"


def test_new_unit_goes_into_the_province_of_the_inventory_in_use(province, capsys, monkeypatch, tmp_path):
    other = copy_fixture_province(tmp_path / "other")
    monkeypatch.setenv("UNITCTL_INVENTORY", str(province / "province.unitctl.yml"))
    naming = ["--kind", "county_court", "--name-fa", "دادگستری جعفریه", "--name-en", "Courts of Jafarieh"]
    assert main(["new-unit", "jafarieh-court", *naming]) == 0
    assert (province / "units" / "jafarieh-court" / "unit.yml").is_file()
    captured = capsys.readouterr()
    assert "created inventory/units/jafarieh-court" in captured.out
    assert captured.err == f"unitctl: inventory {province / 'province.unitctl.yml'} (from UNITCTL_INVENTORY)\n"
    # --inventory comes first; --units-dir names the folder itself.
    assert main(["new-unit", "kahak-court", *naming, "--inventory", str(other / "province.unitctl.yml")]) == 0
    assert main(["new-unit", "salafchegan-court", *naming, "--units-dir", str(other / "units")]) == 0
    assert sorted(p.name for p in (other / "units").iterdir()) == ["centre", "court", "kahak-court",
                                                                   "salafchegan-court"]
    assert not (province / "units" / "kahak-court").exists()


def test_check_prints_and_reports_each_fix_on_the_inventory_it_used(monkeypatch, capsys, tmp_path):
    from unitctl.cli import evaluate

    ssh = {"id": "SSH-002", "title_en": "Password login is off", "title_fa": "ورود با گذرواژه خاموش است",
           "severity": "critical", "applies_to": ["unit_server"], "policy": "ssh.yml", "fix": "playbooks/servers.yml"}
    ran = []

    def run_suite(source, unit_ids, workers, keyword, *rest, **kwargs):
        ran.append((source, unit_ids))
        return {"checks": {"SSH-002": ssh}, "results": [
            {"check_id": "SSH-002", "host": "qom-court-srv1", "unit_id": "qom-court", "outcome": "fail",
             "evidence": "PasswordAuthentication yes", "seconds": 0.1}]}

    monkeypatch.setattr(evaluate, "run_suite", run_suite)
    monkeypatch.setenv("UNITCTL_INVENTORY", "inventory/qom.unitctl.yml")
    assert main(["check", "qom-court", "--output", str(tmp_path / "out")]) == 1
    assert ran == [(QOM, ["qom-court"])]
    fix = "ansible-playbook -i inventory/qom.unitctl.yml playbooks/servers.yml --limit qom-court-srv1"
    assert f"[critical] SSH-002 qom-court-srv1: Password login is off  -> fix: {fix}\n" in capsys.readouterr().out
    page = (tmp_path / "out" / "evaluation.html").read_text(encoding="utf-8")
    commands = [re.sub(r"<[^>]+>", "", code.split("</code>")[0]) for code in page.split('<code class="command">')[1:]]
    assert fix in commands
    report = json.loads((tmp_path / "out" / "evaluation.json").read_text(encoding="utf-8"))
    assert report["run"]["inventory"] == "inventory/qom.unitctl.yml"
    assert report["units"]["qom-court"]["failures"][0]["fix_command"] == fix


# --- where a problem's file is, for the person at the shell -------------------------------------

@pytest.mark.parametrize("inside, typed, named", [
    ("", "province.unitctl.yml", "units/court/hosts.yml"),        # the inventory's own folder
    ("units/court", "../../province.unitctl.yml", "hosts.yml"),   # the unit's folder, where it is edited
    (None, "{root}/province.unitctl.yml", "{root}/units/court/hosts.yml"),  # elsewhere: the whole path
])
def test_each_problems_file_is_named_from_the_current_folder(inside, typed, named, tmp_path, monkeypatch, capsys):
    # validate names files from the inventory folder's parent (inventory/units/... at the checkout's
    # top); outside the checkout that was a path from nowhere ('f14inv/units/court/hosts.yml').
    root = copy_fixture_province(tmp_path / "elsewhere" / "qom-inventory")
    hosts = root / "units" / "court" / "hosts.yml"
    hosts.write_text(hosts.read_text(encoding="utf-8").replace("vlan: 10", "vlan: 40"), encoding="utf-8")
    (tmp_path / "another").mkdir()
    monkeypatch.chdir(root / inside if inside is not None else tmp_path / "another")
    assert main(["validate", typed.format(root=root)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(named.format(root=root) + ":6: hosts[0].vlan: VLAN 40 "), out
    # The refusal of a command on the broken inventory names the file alike.
    assert main(["staff", "list", "--inventory", typed.format(root=root)]) == 2
    assert f"\n{named.format(root=root)}:6: hosts[0].vlan: VLAN 40 " in capsys.readouterr().err

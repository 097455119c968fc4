"""`unitctl validate` and `unitctl new-unit`, run in-process on copies of the fixture province."""

from __future__ import annotations

import ipaddress
import shutil
from pathlib import Path

import pytest
import yaml

from unitctl.cli import main
from unitctl.inventory.load import load_units_dir
from unitctl.inventory.newunit import free_block
from unitctl.inventory.validate import pending_todos, validate_province

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
     "sources, such as inventory/province.unitctl.yml"),
    (["evaluate", "--inventory", "inventory/units"], "argument --inventory: inventory/units is a folder"),
    (["net", "render", "-i", "inventory/nowhere.unitctl.yml"], "does not exist"),
])
def test_a_bad_inventory_path_is_one_plain_line_and_exit_2(province, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


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

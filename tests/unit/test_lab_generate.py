"""A synthetic lab province (`unitctl lab generate`, unitctl.lab.generate) and the pure parts of its
benchmark (tests/benchmarks/bench_scale.py), offline: the province validates with no problem, the
lab's plan of it has 2N+1 machines on the lab's network plan, each unit's vault gets its own
identity and password from the lab's own secret machinery (into a temporary state folder), Ansible
reads it with the province's policy, and UNITLAB_UNITS_DIR points the lab at it."""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from unitctl import cli, paths, unit_results
from unitctl.inventory import vaults
from unitctl.inventory.load import load_units_dir
from unitctl.inventory.validate import pending_todos, validate_province
from unitctl.lab import generate, load_plan
from unitctl.lab import net as labnet
from unitctl.lab.proc import LabError

BIN = Path(sys.executable).parent


def bench():
    """tests/benchmarks/bench_scale.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location(
        "bench_scale", paths.PROJECT_ROOT / "tests" / "benchmarks" / "bench_scale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def twelve(tmp_path_factory):
    """The province of 12 units the benchmark's largest size boots."""
    return generate.generate(12, tmp_path_factory.mktemp("generated") / "province")


def test_a_generated_province_validates_with_no_problem_and_no_todo(twelve):
    units_dir = twelve.parent / generate.UNITS_FOLDER
    assert validate_province(twelve.parent, units_dir) == []
    assert pending_todos(units_dir, twelve.parent) == []
    province = load_units_dir(units_dir)
    assert [unit.id for unit in province.units] == ["lab-centre"] + [f"lab-u{n:02d}" for n in range(1, 13)]
    assert {unit.info["kind"] for unit in province.units} == {"provincial_centre", "county_court", "prosecutor"}


def test_unitctl_validate_accepts_the_generated_source_strictly(twelve, capsys):
    assert cli.main(["validate", "--strict", str(twelve)]) == 0
    assert "inventory valid: 13 units, 37 hosts" in capsys.readouterr().out


@pytest.mark.parametrize("units", [1, 3, 6, 12, generate.MAX_UNITS])
def test_the_labs_plan_has_a_server_and_a_workstation_per_unit_and_the_centre_on_the_lab_network(tmp_path, units):
    source = generate.generate(units, tmp_path / "province")
    plan = load_plan(units_dir=source.parent / generate.UNITS_FOLDER)
    assert len(plan.machines) == generate.lab_hosts(units) == 2 * units + 1
    assert plan.switches == ()
    names = [machine.name for machine in plan.machines]
    addresses = [machine.address for machine in plan.machines]
    assert len(set(names)) == len(names) and len(set(addresses)) == len(addresses)
    assert all(ipaddress.ip_address(address) in generate.LAB_NETWORK for address in addresses)
    assert labnet.MIRROR_ADDRESS not in addresses
    assert sorted(m.name for m in plan.machines if m.unit_id != "lab-centre") == sorted(
        [f"u{n:02d}-srv" for n in range(1, units + 1)] + [f"u{n:02d}-ws1" for n in range(1, units + 1)])
    # Every lab namespace's bridge-side link has a name the kernel takes, and they differ.
    links = [labnet.link_name(name) for name in names]
    assert len(set(links)) == len(links) and all(len(link) <= labnet.MAX_LINK_NAME for link in links)


def test_every_subnet_of_the_largest_province_lies_in_the_lab_network_apart_from_the_bridge_and_centre(tmp_path):
    source = generate.generate(generate.MAX_UNITS, tmp_path / "province")
    province = load_units_dir(source.parent / generate.UNITS_FOLDER)
    subnets = [ipaddress.ip_network(vlan["subnet"]) for unit in province.units for vlan in unit.vlans
               if vlan.get("subnet")]
    assert all(subnet.subnet_of(generate.LAB_NETWORK) for subnet in subnets)
    bridge = ipaddress.ip_network(f"{labnet.MIRROR_ADDRESS}/24", strict=False)
    generated = [ipaddress.ip_network(vlan["subnet"]) for unit in province.units if unit.id != "lab-centre"
                 for vlan in unit.vlans if vlan.get("subnet")]
    assert not any(subnet.overlaps(bridge) for subnet in generated)
    assert str(generated[-1]) == "10.213.253.0/24"  # the last unit ends where the /16 has room
    assert generate.MAX_UNITS == 24


@pytest.mark.parametrize("units", [0, -1, generate.MAX_UNITS + 1, 100])
def test_a_count_the_address_plan_cannot_hold_is_refused_and_nothing_written(tmp_path, units, capsys):
    with pytest.raises(generate.GenerateRefused, match="holds 1 to 24 generated units"):
        generate.generate(units, tmp_path / "province")
    assert not (tmp_path / "province").exists()
    with pytest.raises(SystemExit) as stopped:
        cli.main(["lab", "generate", "--units", str(units), "--output", str(tmp_path / "province")])
    assert stopped.value.code == 2
    assert "argument --units: " in capsys.readouterr().err
    assert not (tmp_path / "province").exists()


def test_generate_replaces_its_own_province_and_refuses_a_folder_of_something_else(tmp_path):
    first = generate.generate(6, tmp_path / "province")
    (first.parent / "units" / "lab-u06" / "vault.yml").write_text("made by lab up\n")
    again = generate.generate(3, tmp_path / "province")
    assert sorted(p.name for p in (again.parent / "units").iterdir()) == ["lab-centre", "lab-u01", "lab-u02", "lab-u03"]
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine\n")
    with pytest.raises(generate.GenerateRefused, match="not empty"):
        generate.generate(3, other)
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]


def test_the_centre_is_the_labs_own_without_its_vault(twelve):
    ours = paths.DEFAULT_LAB_UNITS_DIR / "lab-centre"
    copied = twelve.parent / "units" / "lab-centre"
    assert sorted(p.name for p in copied.iterdir()) == sorted(
        p.name for p in ours.iterdir() if not p.name.startswith("vault"))
    assert (copied / "hosts.yml").read_text() == (ours / "hosts.yml").read_text()


def test_the_lab_makes_each_generated_unit_its_own_vault_identity_and_password(tmp_path, monkeypatch):
    """What `lab up` does for the generated province (unitctl.lab.services.ensure_unit_vaults), with
    the lab's state folder in a temporary one."""
    from unitctl.lab import services as labservices  # noqa: PLC0415

    source = generate.generate(3, tmp_path / "province")
    units = source.parent / generate.UNITS_FOLDER
    monkeypatch.setattr(paths, "LAB_STATE_DIR", tmp_path / "state")
    monkeypatch.setattr(paths, "LAB_UNITS_DIR", units)
    written = labservices.ensure_unit_vaults()
    province = load_units_dir(units)
    assert sorted(path.parent.name for path in written) == sorted(unit.id for unit in province.units)
    passwords = {unit.id: (tmp_path / "state" / "vault-pass.d" / unit.id).read_text().strip() for unit in province.units}
    assert len(set(passwords.values())) == len(passwords)
    for unit in province.units:
        path = units / unit.id / "vault.yml"
        assert vaults.read_header(path) == vaults.Header("1.2", unit.id)
        secrets = vaults.open_vault(path, unit.id, passwords[unit.id])
        assert set(secrets["vault_power_monitor_passwords"]) <= {host["name"] for host in unit.hosts}
        assert set(secrets["vault_archive_share_passwords"]) == {person["username"] for person in unit.staff}
    with pytest.raises(ValueError):
        vaults.open_vault(units / "lab-u02" / "vault.yml", "lab-u02", passwords["lab-u01"])
    # Validation opens every vault with its unit's password and finds each holding its own secrets only.
    assert validate_province(source.parent, units, vault_passwords=passwords) == []


def test_ansible_reads_the_generated_inventory_with_the_province_policy_and_the_labs_settings(twelve):
    env = dict(os.environ, ANSIBLE_CONFIG=str(paths.PROJECT_ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    listed = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(twelve), "--host", "u12-ws1"],
                            capture_output=True, text=True, env=env, cwd=paths.PROJECT_ROOT, check=True)
    host = json.loads(listed.stdout)
    assert host["ansible_host"] == "10.213.131.11" and host["unit_id"] == "lab-u12"
    assert host["province_apt_mirror"].startswith(f"http://{labnet.MIRROR_ADDRESS}:")  # group_vars/lab
    assert host["province_automation_user"] == "unitctl"  # group_vars/all
    assert host["unit_vault_file"].endswith("units/lab-u12/vault.yml")


def test_unitlab_units_dir_points_the_lab_at_another_folder_of_units(tmp_path, twelve):
    probe = "from unitctl import paths; print(paths.LAB_UNITS_DIR)"
    env = dict(os.environ, PYTHONPATH=str(paths.PROJECT_ROOT / "scripts"))
    env.pop("UNITLAB_UNITS_DIR", None)
    default = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert Path(default.stdout.strip()) == paths.DEFAULT_LAB_UNITS_DIR
    units = twelve.parent / generate.UNITS_FOLDER
    chosen = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            env={**env, "UNITLAB_UNITS_DIR": str(units)})
    assert Path(chosen.stdout.strip()) == units
    with pytest.raises(LabError, match="does not exist"):
        load_plan(units_dir=tmp_path / "missing")


def test_unitctl_lab_generate_writes_validates_and_says_how_to_boot_it(tmp_path, capsys):
    assert cli.main(["lab", "generate", "--units", "2", "--output", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert "inventory valid: 3 units, 7 hosts" in out
    assert f"UNITLAB_UNITS_DIR={tmp_path / 'p' / 'units'} unitctl lab up" in out
    assert f"UNITCTL_INVENTORY={tmp_path / 'p' / generate.SOURCE_NAME}" in out


# --- the benchmark's pure parts ------------------------------------------------------------------

def test_the_slope_is_the_least_squares_seconds_per_added_host():
    module = bench()
    per, intercept = module.slope([(7, 100.0), (13, 160.0), (25, 280.0)])
    assert per == pytest.approx(10.0) and intercept == pytest.approx(30.0)
    per, _ = module.slope([(7, 10.0), (13, 22.0), (25, 40.0)])
    assert per == pytest.approx(((7 - 15) * (10 - 24) + (13 - 15) * (22 - 24) + (25 - 15) * (40 - 24))
                                / ((7 - 15) ** 2 + (13 - 15) ** 2 + (25 - 15) ** 2))
    with pytest.raises(ValueError):
        module.slope([(7, 1.0), (7, 2.0)])


def test_the_unit_counts_need_two_sizes_the_lab_holds():
    module = bench()
    assert module.unit_counts("12,3,6,3") == [3, 6, 12]
    for wrong in ("3", "3,25", "0,3", "a,b"):
        with pytest.raises(Exception) as refused:
            module.unit_counts(wrong)
        assert type(refused.value).__name__ == "ArgumentTypeError"


def test_the_table_and_the_slopes_of_a_finished_run():
    module = bench()
    sizes = [{"units": n, "hosts": 2 * n + 1, "lab_up_seconds": 3.0 + n, "converge": {"seconds": 100.0 * n},
              "rerun": {"seconds": 20.0 + 10 * (2 * n + 1), "changed": 0},
              "direct": {"seconds": 10.0 + 4 * (2 * n + 1)}, "collect": {"seconds": 5.0 + 0.1 * (2 * n + 1)}}
             for n in (3, 6, 12)]
    document = {"sizes": sizes, "slopes": module.slopes(sizes), "machine": {"cpus": 2, "load_at_start": 1.0,
                                                                            "load_at_end": 2.0}}
    assert document["slopes"]["rerun"] == {"seconds_per_host": 10.0, "intercept_seconds": 20.0}
    assert document["slopes"]["direct"]["seconds_per_host"] == 4.0
    assert document["slopes"]["collect"]["seconds_per_host"] == 0.1
    text = module.table(document)
    assert "   12    25" in text and "rerun      10.00 s per added host (intercept 20.0 s)" in text
    partial = {"sizes": [dict(sizes[0], rerun=sizes[0]["rerun"]), {k: v for k, v in sizes[1].items() if k not in
                                                                   ("direct", "collect")}],
               "machine": {"cpus": 2, "load_at_start": 1.0}}
    assert module.slopes(partial["sizes"]) == {"rerun": {"seconds_per_host": 10.0, "intercept_seconds": 20.0}}
    assert module.table(partial).count("\n") == 4


def test_the_direct_runs_results_become_one_file_per_unit_that_collect_mode_reads_as_reported(tmp_path):
    module = bench()
    source = generate.generate(2, tmp_path / "province")
    units_dir = source.parent / generate.UNITS_FOLDER
    senders = module.unit_senders(units_dir)
    assert senders == {"lab-centre": "centre-srv", "lab-u01": "u01-srv", "lab-u02": "u02-srv"}
    check = {"id": "SSH-002", "title_en": "SSH refuses passwords", "title_fa": "SSH گذرواژه نمی‌پذیرد",
             "policy": "ssh.yml", "fix": "playbooks/servers.yml", "severity": "high", "controls": []}
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    hosts = {"lab-centre": ["centre-srv"], "lab-u01": ["u01-srv", "u01-ws1"], "lab-u02": ["u02-srv", "u02-ws1"]}
    evaluation = {"run": {"started": started.isoformat(), "finished": (started + timedelta(minutes=2)).isoformat(),
                          "toolkit_commit": "abc123"},
                  "checks": {"SSH-002": check},
                  "results": [{"check_id": "SSH-002", "host": host, "unit_id": unit_id, "outcome": "pass",
                               "evidence": "", "seconds": 0.2} for unit_id, names in hosts.items() for host in names]}
    written = module.spool_from_evaluation(evaluation, senders, tmp_path / "collected")
    assert sorted(path.parent.name for path in written) == sorted(hosts)
    province = load_units_dir(units_dir)
    found = unit_results.newest_results(tmp_path / "collected", province, datetime.now(UTC))
    assert found.refused == []
    assert sorted(found.newest) == sorted(hosts)
    assert {result["host"] for result in found.newest["lab-u01"].compliance["results"]} == {"u01-srv", "u01-ws1"}


def test_the_benchmark_commands_get_the_generated_inventory_units_and_every_units_vault_identity(tmp_path):
    module = bench()
    env = module.province_environment(tmp_path / "s.unitctl.yml", tmp_path / "units", ["lab-centre", "lab-u01"],
                                      base={"PATH": "/usr/bin", "UNITLAB_UNITS_DIR": "/elsewhere"})
    assert env["UNITLAB_UNITS_DIR"] == str(tmp_path / "units")
    assert env["UNITCTL_INVENTORY"] == str(tmp_path / "s.unitctl.yml")
    assert env["ANSIBLE_VAULT_IDENTITY_LIST"] == f"lab-centre@{vaults.CLIENT},lab-u01@{vaults.CLIENT}"
    assert env["PATH"].endswith("/usr/bin")


def test_the_benchmark_explains_itself_without_root():
    result = subprocess.run([sys.executable, str(paths.PROJECT_ROOT / "tests" / "benchmarks" / "bench_scale.py"),
                             "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "--units" in result.stdout and "--rounds" in result.stdout

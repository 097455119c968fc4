"""The Ansible side of the inventory: groups and variables, and refusal of a broken province."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from unitctl.paths import INVENTORY_DIR, PROJECT_ROOT

BIN = Path(sys.executable).parent


def ansible(tool: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_CONFIG=str(PROJECT_ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return subprocess.run([str(BIN / tool), *args], capture_output=True, text=True, env=env,
                          cwd=PROJECT_ROOT, timeout=120, check=False)


@pytest.fixture(scope="module")
def lab_inventory():
    result = ansible("ansible-inventory", "-i", str(INVENTORY_DIR / "lab.unitctl.yml"), "--list")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_groups_cut_by_unit_and_by_function(lab_inventory):
    assert set(lab_inventory["unit_lab_court"]["hosts"]) == {"court-srv", "court-ws1", "court-ws2", "court-prn1", "court-sw1"}
    assert set(lab_inventory["unit_servers"]["hosts"]) == {"court-srv", "pros-srv"}
    assert set(lab_inventory["cms_clients"]["hosts"]) == {"court-ws1", "court-ws2", "pros-ws1", "pros-ws2"}
    assert set(lab_inventory["ios"]["hosts"]) == {"court-sw1", "pros-sw1"}
    assert "ios" in lab_inventory["network_devices"]["children"]
    assert "court-prn1" not in lab_inventory["linux_hosts"]["hosts"]


def test_host_and_unit_variables():
    result = ansible("ansible-inventory", "-i", str(INVENTORY_DIR / "lab.unitctl.yml"), "--host", "court-srv")
    assert result.returncode == 0, result.stderr
    court_srv = json.loads(result.stdout)
    assert court_srv["ansible_host"] == "10.213.20.10"
    assert court_srv["unit_id"] == "lab-court"
    assert court_srv["unit"]["kind"] == "county_court"
    assert court_srv["province_centre"]["address"] == "10.213.10.10"
    assert any(person["role"] == "supervisor" for person in court_srv["unit_staff"])


def test_sample_province_loads(tmp_path):
    result = ansible("ansible-inventory", "-i", str(INVENTORY_DIR / "qom.unitctl.yml"), "--graph")
    assert result.returncode == 0, result.stderr
    assert "@kind_appeals_court" in result.stdout


def test_a_province_not_the_labs_runs_the_lab_only_plays_on_nothing_without_a_warning():
    # playbooks/cms_standin.yml (in site.yml) is for centre_servers:&lab; Ansible warned "Could not
    # match supplied host pattern, ignoring: lab" on every run of a real province.
    result = ansible("ansible-playbook", "-i", "inventory/qom.unitctl.yml", "playbooks/cms_standin.yml",
                     "--list-hosts")
    assert result.returncode == 0, result.stderr
    assert "Could not match" not in result.stdout + result.stderr
    assert result.stdout.count("hosts (0):") == 2  # the stand-in and its file integrity play: no host
    graph = ansible("ansible-inventory", "-i", "inventory/qom.unitctl.yml", "--graph", "lab")
    assert graph.returncode == 0 and graph.stdout.strip() == "@lab:", graph.stdout + graph.stderr


def broken_copy(tmp_path: Path) -> Path:
    """A copy of the lab province with two mistakes in one unit's hosts."""
    root = tmp_path / "inventory"
    shutil.copytree(INVENTORY_DIR / "lab", root / "lab")
    shutil.copytree(INVENTORY_DIR / "group_vars", root / "group_vars",
                    ignore=shutil.ignore_patterns("vault.yml"))
    shutil.copy(INVENTORY_DIR / "lab.unitctl.yml", root)
    hosts_file = root / "lab" / "units" / "lab-court" / "hosts.yml"
    hosts = yaml.safe_load(hosts_file.read_text(encoding="utf-8"))
    hosts["hosts"][0]["address"] = "10.213.99.10"
    hosts["hosts"][2]["vlan"] = 77
    hosts_file.write_text(yaml.safe_dump(hosts, allow_unicode=True), encoding="utf-8")
    return root / "lab.unitctl.yml"


def test_a_broken_province_is_refused_before_any_play(tmp_path):
    source = broken_copy(tmp_path)
    result = ansible("ansible-playbook", "-i", str(source), "playbooks/site.yml")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "PLAY [" not in output, "a play started on a broken inventory"
    assert "lab/units/lab-court/hosts.yml" in output
    assert "hosts[0].address" in output and "hosts[2].vlan" in output

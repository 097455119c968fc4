"""No path Ansible reads variables from can change a province-owned setting for one unit.

Each shape below puts a province policy key where Ansible's host_group_vars plugin reads it for a
host of the fixture province: beside the inventory source or beside the playbooks, in group_vars
or host_vars, as a file with each extension Ansible tries or as a folder. The test proves both
halves with the real tools: Ansible does apply every one of them to the host (ansible-inventory
on a plain YAML inventory of the same hosts and groups), and `validate_province` refuses every
one of them, naming the file and the key. A plaintext secret in any of them is refused too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from unitctl import paths
from unitctl.inventory.validate import validate_province

from fixture_province import copy_fixture_province

# (where, relative to the inventory root or to the playbooks' folder, the variable it sets)
SHAPES = [
    ("group_vars/unit_court.yml", "province_ssh_password_authentication"),
    ("group_vars/kind_county_court.yaml", "province_ssh_permit_root_login"),
    ("group_vars/unit_servers/ssh.yml", "province_ssh_port"),
    ("group_vars/unit_servers/deeper/more.yaml", "province_ssh_ciphers"),
    ("group_vars/linux_hosts", "province_ssh_macs"),
    ("host_vars/court-srv/main.yml", "province_ntp_servers"),
    ("host_vars/court-ws1.json", "province_cms_url"),
    ("playbooks:group_vars/unit_court.yml", "province_timezone"),
    ("playbooks:host_vars/court-srv.yaml", "network_snmp_managers"),
]


def _place(root: Path, playbooks: Path, shape: str, key: str, value) -> Path:
    base, _, relative = shape.rpartition(":")
    path = (playbooks if base == "playbooks" else root) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({key: value}) if path.suffix == ".json" else yaml.safe_dump({key: value})
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def bypasses(tmp_path, monkeypatch):
    """The fixture province with every shape written, and the playbooks' folder beside it."""
    root = copy_fixture_province(tmp_path / "inventory")
    project = tmp_path / "project"
    playbooks = project / "playbooks"
    playbooks.mkdir(parents=True)
    monkeypatch.setattr(paths, "PROJECT_ROOT", project)  # where validation looks for playbooks/
    placed = {shape: _place(root, playbooks, shape, key, "weakened") for shape, key in SHAPES}
    return root, playbooks, placed


def test_validation_refuses_every_shape(bypasses):
    root, _, _ = bypasses
    found = {(p.file, p.path) for p in validate_province(root, root / "units")}
    for shape, key in SHAPES:
        assert any(file.endswith(shape.rpartition(":")[2]) and where == key for file, where in found), \
            f"{shape} setting {key} was not refused; problems: {sorted(found)}"


def test_ansible_really_reads_every_shape(bypasses):
    """The shapes are real: Ansible applies each of them to its host."""
    root, playbooks, _ = bypasses
    plain = root / "plain-inventory.yml"  # the fixture's hosts and groups, as a plain YAML inventory
    plain.write_text(yaml.safe_dump({"all": {"children": {
        "unit_court": {"hosts": {"court-srv": {}, "court-ws1": {}}},
        "kind_county_court": {"hosts": {"court-srv": {}, "court-ws1": {}}},
        "unit_servers": {"hosts": {"court-srv": {}}},
        "linux_hosts": {"hosts": {"court-srv": {}, "court-ws1": {}}},
    }}}))
    seen = {}
    for host in ("court-srv", "court-ws1"):
        result = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(plain), "--playbook-dir",
             str(playbooks), "--host", host],
            capture_output=True, text=True, timeout=120, check=False,
            env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "ANSIBLE_INVENTORY_ENABLED": "yaml",
                 "HOME": str(root)})
        assert result.returncode == 0, result.stderr
        seen[host] = json.loads(result.stdout)
    for shape, key in SHAPES:
        host = "court-ws1" if "court-ws1" in shape else "court-srv"
        assert seen[host].get(key) == "weakened", f"Ansible did not read {shape} for {host}"


def test_a_plaintext_secret_is_refused_wherever_ansible_reads_it(tmp_path):
    root = copy_fixture_province(tmp_path / "inventory")
    for relative in ("group_vars/all.yml", "group_vars/unit_court/secrets.yml", "host_vars/court-srv/x.yml"):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("share_password: hunter2\n", encoding="utf-8")
    found = {(p.file, p.path) for p in validate_province(root, root / "units")}
    for relative in ("group_vars/all.yml", "group_vars/unit_court/secrets.yml", "host_vars/court-srv/x.yml"):
        assert (f"inventory/{relative}", "share_password") in found, sorted(found)


# Not policy keys, but as strong: a role's input, a play's setting, how Ansible connects.
OVERRIDES = [
    ("group_vars/unit_court.yml", "firewall_load", False,
     "'firewall_load' is an input of the firewall role, which the playbooks set from province policy; the group "
     "'unit_court' (group_vars) may not override it"),
    ("host_vars/court-srv.yml", "servers_management_sources", ["0.0.0.0/0"],
     "'servers_management_sources' is a setting of the toolkit's plays; a host (host_vars) may not override it"),
    ("host_vars/court-srv.yml", "ssh_server_firewall_sources", ["0.0.0.0/0"],
     "'ssh_server_firewall_sources' is an input of the ssh_server role, which the playbooks set from province policy; "
     "a host (host_vars) may not override it"),
    ("host_vars/court-srv/ssh.yml", "ssh_server_max_auth_tries", 100,
     "'ssh_server_max_auth_tries' is an input of the ssh_server role, which the playbooks set from province policy; "
     "a host (host_vars) may not override it"),
    ("group_vars/linux_hosts.yml", "ansible_ssh_extra_args", "-o StrictHostKeyChecking=no",
     "'ansible_ssh_extra_args' is how Ansible connects and gains privilege, set by the province (automation.yml); "
     "the group 'linux_hosts' (group_vars) may not override it"),
]


@pytest.mark.parametrize("relative, key, value, reason", OVERRIDES, ids=[case[1] for case in OVERRIDES])
def test_role_inputs_play_settings_and_connection_settings_are_refused_too(tmp_path, relative, key, value, reason):
    root = copy_fixture_province(tmp_path / "inventory")
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({key: value}), encoding="utf-8")
    found = [(p.file, p.path, p.reason) for p in validate_province(root, root / "units")]
    assert (f"inventory/{relative}", key, reason) in found, found


def test_a_hosts_own_address_port_and_python_may_be_set(tmp_path):
    root = copy_fixture_province(tmp_path / "inventory")
    (root / "host_vars" / "court-srv.yml").write_text(
        "ansible_host: 10.99.16.10\nansible_port: 2222\nansible_python_interpreter: /usr/bin/python3\n")
    assert validate_province(root, root / "units") == []


def test_an_encrypted_file_outside_the_policy_folders_is_refused(tmp_path):
    """Validation cannot read it, so it could hide a policy override (ansible-vault encrypts whole files)."""
    root = copy_fixture_province(tmp_path / "inventory")
    (root / "group_vars" / "unit_court.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n6233\n", encoding="utf-8")
    found = [(p.file, p.reason) for p in validate_province(root, root / "units")]
    assert any(file == "inventory/group_vars/unit_court.yml" and reason.startswith("an encrypted file here")
               for file, reason in found), found


def test_playbooks_group_vars_may_not_override_the_plays_either(bypasses):
    """The toolkit ships no playbooks/group_vars (each role hands its own firewall rules), so a
    file there is an override like any other."""
    root, playbooks, _ = bypasses
    (playbooks / "group_vars" / "unit_servers.yml").write_text("servers_management_sources: [0.0.0.0/0]\n")
    found = {(p.file.rsplit("/", 1)[-1], p.path) for p in validate_province(root, root / "units")}
    assert ("unit_servers.yml", "servers_management_sources") in found

"""Secrets per unit (unitctl.inventory.vaults): each unit's vault opens with its own identity alone,
and a run limited to one unit opens that unit's vault and no other, proved with ansible-core itself
on a copy of the lab inventory (connection local: nothing is contacted)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from unitctl import cli, paths
from unitctl.cli.provision import command_for
from unitctl.inventory import vaults
from unitctl.inventory.load import load_units_dir
from unitctl.inventory.validate import validate_province

BIN = Path(sys.executable).parent
UNITS = {"lab-centre": "centre-srv", "lab-court": "court-srv", "lab-prosecutor": "pros-srv"}
PROOF_PLAY = """
- hosts: all
  connection: local
  gather_facts: false
  tasks:
    - name: own and other units' secrets
      ansible.builtin.debug:
        msg: "OWN={{ vault_network_password | default('ABSENT') }}/{{ unit_vault_state }}
              PROS={{ hostvars['pros-srv'].vault_network_password | default('ABSENT') }}/{{ hostvars['pros-srv'].unit_vault_state }}"
    - name: delegated to the centre (as the backup key is)
      ansible.builtin.debug:
        msg: "DELEGATED={{ vault_backup_password }}"
      delegate_to: centre-srv
"""


@pytest.fixture
def province(tmp_path):
    """A copy of the inventory whose lab units each have a vault of their own identity, a folder of
    their passwords, and a password client that records every identity Ansible asks it for."""
    inventory = tmp_path / "inventory"
    shutil.copytree(paths.INVENTORY_DIR, inventory, ignore=shutil.ignore_patterns("vault*.yml"))
    passwords = tmp_path / "passwords"
    passwords.mkdir(mode=0o700)
    for unit_id, server in UNITS.items():
        (passwords / unit_id).write_text(f"password of {unit_id}\n")
        (passwords / unit_id).chmod(0o600)
        plaintext = yaml.safe_dump({"vault_network_password": f"switch secret of {unit_id}",
                                    "vault_backup_password": f"backup secret of {unit_id}",
                                    "vault_power_monitor_passwords": {server: f"ups secret of {unit_id}"}})
        (inventory / "lab" / "units" / unit_id / "vault.yml").write_text(
            vaults.encrypt(plaintext, unit_id, f"password of {unit_id}"))
    asked = tmp_path / "asked"
    client = tmp_path / "recording-client.py"
    client.write_text(f"#!{sys.executable}\nimport subprocess, sys\n"
                      f"open({str(asked)!r}, 'a').write(sys.argv[sys.argv.index('--vault-id') + 1] + '\\n')\n"
                      f"sys.exit(subprocess.run([{str(vaults.CLIENT)!r}, *sys.argv[1:]]).returncode)\n")
    client.chmod(0o755)
    (tmp_path / "proof.yml").write_text(PROOF_PLAY)
    return {"root": tmp_path, "inventory": inventory, "source": inventory / "lab.unitctl.yml",
            "passwords": passwords, "client": client, "asked": asked}


def ansible(tool: str, province: dict, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_CONFIG=str(paths.PROJECT_ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_STRATEGY="linear",
               # The audit callback would send its record to the lab centre's collector: left out.
               ANSIBLE_CALLBACKS_ENABLED="task_timer", ANSIBLE_DEPRECATION_WARNINGS="false",
               UNITCTL_VAULT_PASSWORD_DIR=str(province["passwords"]),
               PYTHONPATH=str(paths.PROJECT_ROOT / "scripts"))
    env.pop("ANSIBLE_VAULT_IDENTITY_LIST", None)
    env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)
    return subprocess.run([str(BIN / tool), *args], capture_output=True, text=True, env=env,
                          cwd=paths.PROJECT_ROOT, timeout=180, check=False)


def asked_for(province: dict) -> list[str]:
    return province["asked"].read_text().split() if province["asked"].exists() else []


def test_a_run_limited_to_the_court_opens_the_courts_vault_alone(province):
    result = ansible("ansible-playbook", province, "-i", str(province["source"]), str(province["root"] / "proof.yml"),
                     "--limit", "court-srv", "--vault-id", f"lab-court@{province['client']}", "-vvv")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OWN=switch secret of lab-court/opened" in result.stdout
    # Another unit's host, read through hostvars: its vault stays closed, its secrets absent.
    assert "PROS=ABSENT/locked" in result.stdout
    # A task delegated to the centre runs with the court's secrets, without the centre's password.
    assert "DELEGATED=backup secret of lab-court" in result.stdout
    opened = [line for line in result.stdout.splitlines() if "unitctl_unit_vaults" in line and "opened vault" in line]
    assert opened and all("lab-court/vault.yml" in line for line in opened), opened
    assert "secret of lab-prosecutor" not in result.stdout and "secret of lab-centre" not in result.stdout
    assert asked_for(province) == ["lab-court"]


def test_with_every_password_given_only_the_units_in_play_are_opened(province):
    ids = [arg for unit_id in UNITS for arg in ("--vault-id", f"{unit_id}@{province['client']}")]
    result = ansible("ansible-playbook", province, "-i", str(province["source"]), str(province["root"] / "proof.yml"),
                     "--limit", "court-srv", *ids, "-vvv")
    assert result.returncode == 0, result.stdout + result.stderr
    opened = {line.split("opened vault ")[1].strip() for line in result.stdout.splitlines()
              if "unitctl_unit_vaults" in line and "opened vault" in line}
    # the court's (in play), the prosecutor's (read through hostvars) and the centre's (delegated to):
    # only what the play itself reaches, never at inventory time.
    assert "PROS=switch secret of lab-prosecutor/opened" in result.stdout
    assert {Path(path).parent.name for path in opened} == {"lab-court", "lab-prosecutor", "lab-centre"}


def test_listing_the_inventory_opens_no_vault_even_with_every_password(province):
    ids = [arg for unit_id in UNITS for arg in ("--vault-id", f"{unit_id}@{province['client']}")]
    result = ansible("ansible-inventory", province, "-i", str(province["source"]), "--list", *ids, "-vvv")
    assert result.returncode == 0, result.stderr
    assert "secret of" not in result.stdout and "opened vault" not in result.stdout
    listed = json.loads(result.stdout[result.stdout.index("{"):])
    assert "lab/units/lab-court/vault.yml" in json.dumps(listed["_meta"]["hostvars"]["court-srv"]["unit_vault_file"])
    assert "unit_vault_state" not in listed["_meta"]["hostvars"]["court-srv"]


def test_another_units_password_does_not_open_the_courts_vault(province):
    wrong = province["root"] / "wrong"
    wrong.write_text("password of lab-prosecutor\n")
    result = ansible("ansible-playbook", province, "-i", str(province["source"]), str(province["root"] / "proof.yml"),
                     "--limit", "court-srv", "--vault-id", f"lab-court@{wrong}")
    assert result.returncode != 0
    assert "the vault of unit lab-court" in result.stdout + result.stderr
    # Under its own identity, the prosecutor's password is not even tried on the court's vault.
    result = ansible("ansible-playbook", province, "-i", str(province["source"]), str(province["root"] / "proof.yml"),
                     "--limit", "court-srv", "--vault-id", f"lab-prosecutor@{province['client']}")
    assert "OWN=ABSENT/locked" in result.stdout, result.stdout + result.stderr


def test_every_play_refuses_a_unit_whose_vault_the_run_cannot_open(province):
    # playbooks/connect.yml refuses before it reaches the host (the first tasks need no connection).
    result = ansible("ansible-playbook", province, "-i", str(province["source"]), "playbooks/connect.yml",
                     "--limit", "court-srv", "-e", "ansible_connection=local")
    assert result.returncode != 0
    assert "the vault of unit lab-court" in result.stdout and "has no password for the vault identity lab-court" \
        in result.stdout, result.stdout
    assert "Try the automation account" not in result.stdout


def test_the_password_client_answers_one_identity_from_the_technicians_folder(province):
    env = dict(os.environ, UNITCTL_VAULT_PASSWORD_DIR=str(province["passwords"]),
               UNITLAB_STATE_DIR=str(province["root"] / "no-lab"))
    found = subprocess.run([str(vaults.CLIENT), "--vault-id", "lab-court"], capture_output=True, text=True, env=env,
                           check=False)
    assert (found.returncode, found.stdout) == (0, "password of lab-court\n")
    missing = subprocess.run([str(vaults.CLIENT), "--vault-id", "qom-court"], capture_output=True, text=True, env=env,
                             check=False)
    assert missing.returncode == vaults.CLIENT_UNKNOWN_IDENTITY and "qom-court" in missing.stderr
    from ansible.parsing.vault import script_is_client  # noqa: PLC0415

    assert script_is_client(str(vaults.CLIENT))  # so Ansible passes it --vault-id NAME


def test_provision_passes_the_named_units_identities_and_no_other(province):
    args = cli.build_parser().parse_args(["provision", "lab-court", "--inventory", str(province["source"])])
    command = command_for(args)
    ids = [command[index + 1] for index, arg in enumerate(command) if arg == "--vault-id"]
    assert ids == ["lab-court@scripts/vault-password-client.py"]


# --- validation --------------------------------------------------------------------------------

def problems(province: dict, passwords: dict | None = None) -> list[tuple[str, str, str]]:
    inventory = province["inventory"]
    return [(p.file, p.path, p.reason) for p in validate_province(inventory, inventory / "lab" / "units", passwords)]


def own_passwords() -> dict[str, str]:
    return {unit_id: f"password of {unit_id}" for unit_id in UNITS}


def test_vaults_of_their_own_identity_are_valid_opened_or_not(province):
    assert problems(province) == []
    assert problems(province, own_passwords()) == []


def test_a_vault_of_another_identity_or_none_or_in_plain_text_is_refused(province):
    units = province["inventory"] / "lab" / "units"
    (units / "lab-court" / "vault.yml").write_text(vaults.encrypt("a: 1\n", "lab-prosecutor", "x"))
    (units / "lab-prosecutor" / "vault.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n6162\n")
    (units / "lab-centre" / "vault.yml").write_text("vault_network_password: plain\n")
    found = {file.split("/")[-2]: reason for file, _path, reason in problems(province)}
    assert "encrypted for the vault identity 'lab-prosecutor', not this unit's 'lab-court'" in found["lab-court"]
    assert "encrypted without a vault identity" in found["lab-prosecutor"]
    assert "is not encrypted" in found["lab-centre"]


def test_a_vault_that_does_not_open_or_has_no_password_is_named(province):
    passwords = own_passwords() | {"lab-court": "password of lab-prosecutor", "lab-prosecutor": None}
    found = {(file.split("/")[-2], reason) for file, _path, reason in problems(province, passwords)}
    assert ("lab-court", "the vault of unit lab-court cannot be opened with the password of the vault identity "
                         "lab-court") in found
    assert any(unit == "lab-prosecutor" and "no password for the vault identity lab-prosecutor" in reason
               for unit, reason in found)


def test_a_unit_vault_holding_another_units_or_the_centres_secret_is_refused(province):
    court = province["inventory"] / "lab" / "units" / "lab-court" / "vault.yml"
    plaintext = yaml.safe_dump({"vault_power_monitor_passwords": {"court-srv": "a", "centre-srv": "b"},
                                "vault_archive_share_passwords": {"z.ahmadi": "c"},
                                "vault_network_pasword": "d"})
    court.write_text(vaults.encrypt(plaintext, "lab-court", "password of lab-court"))
    owner_of_staff = next(unit.id for unit in load_units_dir(province["inventory"] / "lab" / "units").units
                          if any(person["username"] == "z.ahmadi" for person in unit.staff))
    found = {(path, reason) for _file, path, reason in problems(province, own_passwords())}
    assert ("vault_power_monitor_passwords.centre-srv",
            "'centre-srv' belongs to unit lab-centre: its secret goes into that unit's own vault, not this one") in found
    if owner_of_staff != "lab-court":
        assert any(path == "vault_archive_share_passwords.z.ahmadi" for path, _reason in found)
    assert any(path == "vault_network_pasword" and "did you mean 'vault_network_password'" in reason
               for path, reason in found)


def test_a_secret_in_the_province_files_is_refused(province):
    policy = province["inventory"] / "group_vars" / "all"
    (policy / "vault.yml").write_text(vaults.encrypt("vault_network_password: x\n", "province", "p"))
    (province["inventory"] / "group_vars" / "lab" / "secrets.yml").write_text(
        "vault_network_user: netadmin\nother: !vault |\n  $ANSIBLE_VAULT;1.2;AES256;lab-court\n  6162\n")
    found = {(file.split("inventory/")[-1], path, reason) for file, path, reason in problems(province)}
    assert any(file == "group_vars/all/vault.yml" and reason.startswith("an encrypted file here")
               and "every unit's run would need its password" in reason for file, _path, reason in found), found
    assert any(file == "group_vars/lab/secrets.yml" and path == "vault_network_user"
               and reason.startswith("'vault_network_user' is a unit's secret") for file, path, reason in found)
    assert any(file == "group_vars/lab/secrets.yml" and path == "other"
               and reason.startswith("an encrypted value here") for file, path, reason in found)


@pytest.mark.parametrize("place", ["group_vars/all/network_extra.yml", "group_vars/lab/network.yml",
                                   "host_vars/court-srv.yml"])
def test_a_units_secret_in_plaintext_outside_its_vault_is_one_problem(province, place):
    """One mistake, one line: not also "not a policy key" and "a plaintext secret"."""
    file = province["inventory"] / place
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("vault_network_password: hunter2\n")
    found = [(path, reason) for name, path, reason in problems(province) if name.endswith(place)]
    assert len(found) == 1, found
    assert found[0][0] == "vault_network_password"
    assert found[0][1].startswith("'vault_network_password' is a unit's secret: it belongs in each unit's own vault")


def test_an_inline_secret_in_a_unit_file_carries_the_units_identity(province):
    rooms = province["inventory"] / "lab" / "units" / "lab-court" / "rooms.yml"
    text = rooms.read_text()
    rooms.write_text(text.replace("rooms:", "rooms:\n  note: !vault |\n    $ANSIBLE_VAULT;1.2;AES256;lab-prosecutor\n"
                                  "    6162\n", 1))
    found = [(file, path, reason) for file, path, reason in problems(province) if file.endswith("rooms.yml")]
    assert any("encrypted for the vault identity 'lab-prosecutor'" in reason for _f, _p, reason in found), found


def test_the_fix_commands_for_a_vault_of_the_wrong_identity_work_with_ansible_vault(province, tmp_path):
    # `ansible-vault encrypt` refuses an encrypted file, and with vault_id_match a password labelled
    # with the unit id does not open a file that names no identity: the hints say rekey, as below.
    units = province["inventory"] / "lab" / "units"
    (units / "lab-court" / "vault.yml").write_text(vaults.encrypt("vault_backup_password: b\n", "lab-prosecutor", "p"))
    (tmp_path / "old").write_text("p\n")
    (tmp_path / "plain.yml").write_text("vault_backup_password: c\n")
    made = ansible("ansible-vault", province, "encrypt", "--vault-password-file", str(tmp_path / "old"),
                   "--output", str(units / "lab-centre" / "vault.yml"), str(tmp_path / "plain.yml"))
    assert made.returncode == 0, made.stderr
    found = {file.split("/")[-2]: reason for file, _path, reason in problems(province)}
    assert found["lab-court"].endswith("ansible-vault rekey --vault-id lab-prosecutor@prompt --new-vault-id "
                                       "lab-court@prompt FILE"), found
    assert found["lab-centre"].endswith("ansible-vault rekey --vault-id @prompt --new-vault-id lab-centre@prompt FILE")
    for unit_id, old_label in (("lab-court", "lab-prosecutor"), ("lab-centre", "")):
        done = ansible("ansible-vault", province, "rekey", "--vault-id", f"{old_label}@{tmp_path / 'old'}",
                       "--new-vault-id", f"{unit_id}@{province['passwords'] / unit_id}",
                       str(units / unit_id / "vault.yml"))
        assert done.returncode == 0, done.stderr
    assert problems(province, own_passwords()) == []


def test_validate_refuses_a_vault_id_that_is_no_unit_or_in_ansibles_form(province, capsys, monkeypatch):
    monkeypatch.setenv("UNITCTL_VAULT_PASSWORD_DIR", str(province["passwords"]))
    for value, said in (("lab-cort", "no unit of this inventory has that id (did you mean lab-court?)"),
                        ("lab-court@prompt", "give the unit id alone (--vault-id lab-court)")):
        assert cli.main(["validate", str(province["source"]), "--vault-id", value]) == 2
        assert said in capsys.readouterr().err
    assert cli.main(["validate", str(province["source"]), "--vault-id", "lab-court"]) == 0


def test_validate_refuses_a_password_file_others_can_read(province, capsys, monkeypatch):
    monkeypatch.setenv("UNITCTL_VAULT_PASSWORD_DIR", str(province["passwords"]))
    (province["passwords"] / "lab-court").chmod(0o644)
    assert cli.main(["validate", str(province["source"]), "--vault-id", "lab-court"]) == 2
    err = capsys.readouterr().err
    assert "the password of the vault identity lab-court is not used" in err
    assert f"chmod 600 {province['passwords'] / 'lab-court'}" in err


def test_a_plaintext_vault_variable_in_group_vars_gets_no_vault_vault_hint(province):
    (province["inventory"] / "group_vars" / "all" / "zz.yml").write_text("vault_smtp_password: plain\n")
    reasons = [reason for file, _path, reason in problems(province) if file.endswith("zz.yml")]
    assert reasons and not any("vault_vault_" in reason for reason in reasons), reasons
    assert any("holds a plaintext secret; it belongs, encrypted, in the unit's own vault" in r for r in reasons)


def test_an_inline_secret_of_another_identity_is_told_to_be_encrypted_again(province):
    rooms = province["inventory"] / "lab" / "units" / "lab-court" / "rooms.yml"
    rooms.write_text(rooms.read_text().replace("rooms:", "rooms:\n  note: !vault |\n    $ANSIBLE_VAULT;1.2;AES256;"
                                               "lab-prosecutor\n    6162\n", 1))
    found = [reason for file, _path, reason in problems(province) if file.endswith("rooms.yml")]
    assert any("ansible-vault encrypt_string --vault-id lab-court@prompt --encrypt-vault-id lab-court" in reason
               and "rekey" not in reason for reason in found), found


@pytest.mark.parametrize("file_mode, folder_mode, refused_for", [
    (0o644, 0o700, "chmod 600"),  # readable by every account of the machine
    (0o640, 0o700, "chmod 600"),  # readable by the file's group
    (0o600, 0o777, "chmod 700"),  # anyone may put a file of their own in the folder
    (0o600, 0o775, "chmod 700"),
])
def test_the_password_client_refuses_a_password_others_can_read_or_replace(province, file_mode, folder_mode,
                                                                           refused_for):
    password = province["passwords"] / "lab-court"
    password.chmod(file_mode)
    province["passwords"].chmod(folder_mode)
    env = dict(os.environ, UNITCTL_VAULT_PASSWORD_DIR=str(province["passwords"]),
               UNITLAB_STATE_DIR=str(province["root"] / "no-lab"))
    refused = subprocess.run([str(vaults.CLIENT), "--vault-id", "lab-court"], capture_output=True, text=True,
                             env=env, check=False)
    assert refused.returncode == vaults.CLIENT_REFUSED and refused.stdout == ""
    assert refused_for in refused.stderr and "lab-court" in refused.stderr


def test_the_password_client_refuses_an_empty_password(province):
    (province["passwords"] / "lab-court").write_text("\n")
    env = dict(os.environ, UNITCTL_VAULT_PASSWORD_DIR=str(province["passwords"]),
               UNITLAB_STATE_DIR=str(province["root"] / "no-lab"))
    refused = subprocess.run([str(vaults.CLIENT), "--vault-id", "lab-court"], capture_output=True, text=True,
                             env=env, check=False)
    assert (refused.returncode, refused.stdout) == (vaults.CLIENT_REFUSED, "")
    assert "is empty" in refused.stderr


def test_the_password_client_names_the_folder_it_looked_in(province):
    env = dict(os.environ, UNITCTL_VAULT_PASSWORD_DIR=str(province["passwords"]),
               UNITLAB_STATE_DIR=str(province["root"] / "no-lab"))
    missing = subprocess.run([str(vaults.CLIENT), "--vault-id", "qom-court"], capture_output=True, text=True,
                             env=env, check=False)
    assert str(province["passwords"] / "qom-court") in missing.stderr and "$UNITCTL" not in missing.stderr.split(
        "put it")[0]


# --- the lab's own vaults ----------------------------------------------------------------------

def test_the_lab_makes_one_password_and_one_vault_per_unit(tmp_path, monkeypatch):
    from unitctl.lab import secrets as labsecrets
    from unitctl.lab import services as labservices

    units = tmp_path / "inventory" / "lab" / "units"
    shutil.copytree(paths.LAB_UNITS_DIR, units, ignore=shutil.ignore_patterns("vault*.yml"))
    (tmp_path / "inventory" / "group_vars" / "lab").mkdir(parents=True)
    old = tmp_path / "inventory" / "group_vars" / "lab" / "vault.yml"
    old.write_text("$ANSIBLE_VAULT;1.1;AES256\n6162\n")
    monkeypatch.setattr(paths, "LAB_STATE_DIR", tmp_path / "state")
    monkeypatch.setattr(paths, "LAB_UNITS_DIR", units)
    monkeypatch.setattr(paths, "INVENTORY_DIR", tmp_path / "inventory")
    written = labservices.ensure_unit_vaults()
    assert sorted(path.parent.name for path in written) == sorted(UNITS)
    assert not old.exists()  # the former province-wide vault is gone
    province = load_units_dir(units)
    for unit in province.units:
        path = units / unit.id / "vault.yml"
        assert vaults.read_header(path) == vaults.Header("1.2", unit.id)
        password = (tmp_path / "state" / "vault-pass.d" / unit.id).read_text().strip()
        secrets = vaults.open_vault(path, unit.id, password)
        assert set(secrets) <= set(vaults.UNIT_SECRETS)
        assert set(secrets["vault_power_monitor_passwords"]) <= {host["name"] for host in unit.hosts}
        assert set(secrets["vault_archive_share_passwords"]) == {person["username"] for person in unit.staff}
    court_password = (tmp_path / "state" / "vault-pass.d" / "lab-court").read_text().strip()
    with pytest.raises(ValueError):
        vaults.open_vault(units / "lab-prosecutor" / "vault.yml", "lab-prosecutor", court_password)
    credentials = labsecrets.network_credentials(sorted(UNITS))
    assert credentials["lab-court"]["network_password"] != credentials["lab-prosecutor"]["network_password"]
    # A second run changes nothing (the same files, the same passwords).
    before = {path: path.read_bytes() for path in written}
    assert {path: path.read_bytes() for path in labservices.ensure_unit_vaults()} == before


def test_a_vault_written_after_the_first_load_is_opened_by_the_next(tmp_path, monkeypatch):
    """One process loads the inventory before a unit's vault exists and again after it was written
    (the test session's unit tests run before `unitctl lab up` writes the lab's vaults; CI red:
    every network lab test got masked credentials from a cached "no vault file")."""
    from unitctl.network import targets as network_targets  # noqa: PLC0415
    from unitctl.network.platforms import MASK  # noqa: PLC0415

    # This test's own vault secrets, not the session's (the lab tests later load the real ones).
    monkeypatch.setattr(network_targets, "_VAULT_SECRETS", [])
    monkeypatch.setattr(network_targets, "_ASKED", set())
    inventory = tmp_path / "inventory"
    shutil.copytree(paths.INVENTORY_DIR, inventory, ignore=shutil.ignore_patterns("vault*.yml"))
    passwords = tmp_path / "passwords"
    passwords.mkdir(mode=0o700)
    monkeypatch.setenv("UNITCTL_VAULT_PASSWORD_DIR", str(passwords))
    monkeypatch.setenv("UNITLAB_STATE_DIR", str(tmp_path / "no-lab"))
    source = inventory / "lab.unitctl.yml"

    before = {t.name: t for t in network_targets.load_targets(source)}["court-sw1"]
    assert before.settings["password"] == MASK

    (passwords / "lab-court").write_text("password of lab-court\n")
    (passwords / "lab-court").chmod(0o600)
    unit_id = "lab-court"
    (inventory / "lab" / "units" / unit_id / "vault.yml").write_text(vaults.encrypt(
        yaml.safe_dump({"vault_network_user": "netadmin", "vault_network_password": f"switch secret of {unit_id}",
                        "vault_network_enable_secret": f"enable secret of {unit_id}"}),
        unit_id, f"password of {unit_id}"))
    after = {t.name: t for t in network_targets.load_targets(source)}["court-sw1"]
    assert after.settings["password"] == f"switch secret of {unit_id}"


def test_unitctl_net_says_why_an_exposed_password_is_not_used(tmp_path, monkeypatch, capsys):
    from unitctl.network import targets as network_targets  # noqa: PLC0415
    from unitctl.network.platforms import MASK  # noqa: PLC0415

    monkeypatch.setattr(network_targets, "_VAULT_SECRETS", [])
    monkeypatch.setattr(network_targets, "_ASKED", set())
    inventory = tmp_path / "inventory"
    shutil.copytree(paths.INVENTORY_DIR, inventory, ignore=shutil.ignore_patterns("vault*.yml"))
    passwords = tmp_path / "passwords"
    passwords.mkdir(mode=0o700)
    unit_id = "lab-court"
    (passwords / unit_id).write_text(f"password of {unit_id}\n")
    (passwords / unit_id).chmod(0o644)  # readable by every account
    (inventory / "lab" / "units" / unit_id / "vault.yml").write_text(vaults.encrypt(
        yaml.safe_dump({"vault_network_password": f"switch secret of {unit_id}"}), unit_id, f"password of {unit_id}"))
    monkeypatch.setenv("UNITCTL_VAULT_PASSWORD_DIR", str(passwords))
    monkeypatch.setenv("UNITLAB_STATE_DIR", str(tmp_path / "no-lab"))

    court = {t.name: t for t in network_targets.load_targets(inventory / "lab.unitctl.yml")}["court-sw1"]
    assert court.settings["password"] == MASK
    assert (f"unitctl: the password of the vault identity lab-court is not used: {passwords / unit_id} can be "
            f"read or changed by others (mode 0644); run: chmod 600 {passwords / unit_id}") in capsys.readouterr().err

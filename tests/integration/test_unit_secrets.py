"""Secrets per unit, on the lab (unitctl.inventory.vaults, the vars plugin unitctl_unit_vaults).

`unitctl lab up` made one vault password per lab unit, the centre's included, and each unit's vault
(inventory/lab/units/<unit>/vault.yml) encrypted with its own identity. Here, on the converged lab
province:
- the court's password opens the court's vault and not the prosecutor's (nor the centre's), under
  either identity, with ansible-vault itself;
- the court is provisioned (playbooks/site.yml --limit unit_lab_court, with its task delegated to
  the centre) and checked (the compliance suite, its switch included) with the court's password
  alone: a password client that knows only the court's password, and records every identity it
  is asked for, is asked for the court's identity and no other.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from unitctl.inventory import vaults
from unitctl.lab import secrets as labsecrets

from lab_helpers import assert_run_clean, compliance, playbook

pytestmark = pytest.mark.lab

OTHER_UNITS = ("lab-prosecutor", "lab-centre")


@pytest.fixture
def court_only(tmp_path):
    """A password folder and client that know the court's password alone, recording what is asked."""
    folder = tmp_path / "passwords"
    folder.mkdir(mode=0o700)
    (folder / "lab-court").write_text(labsecrets.vault_password("lab-court") + "\n")
    (folder / "lab-court").chmod(0o600)
    asked = tmp_path / "asked"
    client = tmp_path / "court-only-client.py"
    client.write_text(
        f"#!{sys.executable}\nimport sys\nfrom pathlib import Path\n"
        "identity = sys.argv[sys.argv.index('--vault-id') + 1]\n"
        f"open({str(asked)!r}, 'a').write(identity + '\\n')\n"
        f"found = Path({str(folder)!r}) / identity\n"
        "if not found.is_file():\n    sys.exit(2)\n"
        "print(found.read_text().strip())\n")
    client.chmod(0o700)
    return {"client": client, "asked": asked, "password_file": folder / "lab-court",
            # Nothing else reaches a password: no identity list, and no lab folder for the real client.
            "env": {"ANSIBLE_VAULT_IDENTITY_LIST": f"lab-court@{client}", "UNITCTL_VAULT_PASSWORD_DIR": str(folder)}}


def asked_for(court_only) -> set[str]:
    return set(court_only["asked"].read_text().split()) if court_only["asked"].exists() else set()


def ansible_vault_view(identity: str, password_file: Path, vault_file: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "ansible-vault"), "view", "--vault-id",
                           f"{identity}@{password_file}", str(vault_file)],
                          capture_output=True, text=True, timeout=60, check=False,
                          env=dict(os.environ, ANSIBLE_VAULT_IDENTITY_LIST=""))


def test_each_lab_unit_has_its_own_vault_and_password(lab_up):
    passwords = {}
    for unit_id in ("lab-court", *OTHER_UNITS):
        path = labsecrets.unit_vault_path(unit_id)
        assert vaults.read_header(path) == vaults.Header("1.2", unit_id), path
        passwords[unit_id] = labsecrets.vault_password(unit_id)
    assert len(set(passwords.values())) == len(passwords)
    assert not (labsecrets.paths.INVENTORY_DIR / "group_vars" / "lab" / "vault.yml").exists()


def test_the_courts_password_does_not_open_the_prosecutors_vault(lab_up, court_only):
    court_vault = labsecrets.unit_vault_path("lab-court")
    assert ansible_vault_view("lab-court", court_only["password_file"], court_vault).returncode == 0
    for unit_id in OTHER_UNITS:
        other = labsecrets.unit_vault_path(unit_id)
        for identity in (unit_id, "lab-court"):
            viewed = ansible_vault_view(identity, court_only["password_file"], other)
            assert viewed.returncode != 0, f"the court's password opened {other} as {identity}"
            assert "vault_network_password" not in viewed.stdout
        with pytest.raises(ValueError):
            vaults.open_vault(other, unit_id, labsecrets.vault_password("lab-court"))


def test_the_court_is_provisioned_with_its_password_alone(converged, court_only):
    run = playbook("playbooks/site.yml", "--limit", "unit_lab_court", env=court_only["env"])
    # Every court host, its switch included (network.yml, with the court's own device credentials).
    assert_run_clean(run, "court-srv,court-ws1,court-ws2,court-sw1", changed_zero=False)
    assert set(run.recap) <= {"court-srv", "court-ws1", "court-ws2", "court-sw1"}
    assert asked_for(court_only) == {"lab-court"}


def test_the_court_is_checked_with_its_password_alone(converged, court_only, tmp_path):
    results = compliance(tmp_path / "court.json", units=["lab-court"], env=court_only["env"])
    switch = {result["check_id"]: result for result in results if result["host"] == "court-sw1"}
    # The switch answered the court's own credentials (NET-001: it showed its running config).
    assert switch.get("NET-001", {}).get("outcome") == "pass", json.dumps(switch, indent=1, ensure_ascii=False)
    assert {result["host"] for result in results} <= {"court-srv", "court-ws1", "court-ws2", "court-sw1",
                                                      "court-prn1"}
    assert asked_for(court_only) <= {"lab-court"}

"""The lab's keys and secrets, made once and kept across `lab down` so reruns stay stable.

- the lab's own SSH key, authorised for root on every lab host;
- one SSH host key per lab host and per lab switch, recorded in the lab's known_hosts (by name
  and by address) so that host key checking stays on everywhere;
- one vault password per lab unit, the centre's included (`vault-pass.d/<unit id>` in the state
  directory, read by scripts/vault-password-client.py): each unit's vault
  (`inventory/lab/units/<unit>/vault.yml`, never committed) is encrypted with its own identity;
- each unit's switch login and enable credentials (random, made once per unit), kept in the
  state directory for the switch emulator and written into that unit's vault
  (unitctl.lab.services.ensure_unit_vaults, with the unit's service secrets).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import yaml

from unitctl import paths
from unitctl.files import write_atomic
from unitctl.inventory import vaults
from unitctl.lab.proc import run

NETWORK_USER = "netadmin"


def ssh_dir() -> Path:
    return paths.LAB_STATE_DIR / "ssh"


def lab_key_path() -> Path:
    return ssh_dir() / "id_ed25519"


def known_hosts_path() -> Path:
    return paths.LAB_STATE_DIR / "known_hosts"


def credentials_path() -> Path:
    return paths.LAB_STATE_DIR / "credentials.json"


def vault_password_dir() -> Path:
    """One password file per vault identity (unitctl.inventory.vaults.password_file looks here)."""
    return paths.LAB_STATE_DIR / "vault-pass.d"


def unit_vault_path(unit_id: str) -> Path:
    return paths.LAB_UNITS_DIR / unit_id / vaults.VAULT_FILE


# The lab's province-wide vault files before each unit had its own: removed by `lab up`
# (validation refuses secrets in group_vars).
OLD_PROVINCE_VAULTS = ("vault.yml", "vault_services.yml")


def write_private(path: Path, text: str) -> None:
    """Write a file only root can read, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode(), mode=0o600)  # its temporary file is 0600 from the start


def ensure_keypair(path: Path, comment: str) -> str:
    """An ed25519 key pair at `path` (made once); returns the public key line."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
    return path.with_suffix(".pub").read_text().strip()


def lab_public_key() -> str:
    return ensure_keypair(lab_key_path(), "unitlab")


def host_key_path(name: str) -> Path:
    return ssh_dir() / "host_keys" / f"{name}_ed25519"


def host_public_key(name: str) -> str:
    return ensure_keypair(host_key_path(name), f"root@{name}")


def write_known_hosts(entries: list[tuple[str, str, str]]) -> None:
    """Record (name, address, public key) of every lab host and switch."""
    lines = []
    for name, address, public_key in entries:
        key_type, key_data = public_key.split()[:2]
        lines.append(f"{name},{address} {key_type} {key_data}\n")
    write_atomic(known_hosts_path(), "".join(lines).encode())


def network_credentials(unit_ids: list[str]) -> dict[str, dict[str, str]]:
    """Each unit's switch login user, password and enable secret (random, made once per unit):
    unit id -> {network_user, network_password, enable_secret}. A file of the former province-wide
    shape (one set for every switch) is replaced."""
    path = credentials_path()
    known = json.loads(path.read_text()) if path.exists() else {}
    if "network_user" in known:  # the former single set: every unit now gets its own
        known = {}
    wanted = {unit_id: known.get(unit_id) or {
        "network_user": NETWORK_USER,
        "network_password": secrets.token_urlsafe(18),
        "enable_secret": secrets.token_urlsafe(18),
    } for unit_id in unit_ids}
    wanted = {**known, **wanted}
    if wanted != known:
        write_private(path, json.dumps(wanted, indent=2, sort_keys=True) + "\n")
    return wanted


def vault_password(identity: str) -> str:
    """The lab's password of a vault identity (a unit id), made once."""
    path = vault_password_dir() / identity
    if not path.exists():
        vault_password_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(path, secrets.token_urlsafe(32) + "\n")
    return path.read_text().strip()


def write_unit_vault(unit_id: str, variables: dict) -> Path:
    """Write a unit's vault (identity = unit id, the unit's own password) unless it already holds
    exactly `variables`. A file another identity encrypted, or one that does not open, is rewritten."""
    path = unit_vault_path(unit_id)
    password = vault_password(unit_id)
    if path.exists():
        try:
            if vaults.open_vault(path, unit_id, password) == variables:
                return path
        except ValueError:
            pass  # another identity's, or another password's: rewrite it
    plaintext = "---\n" + yaml.safe_dump(variables, default_flow_style=False, sort_keys=True)
    write_private(path, vaults.encrypt(plaintext, unit_id, password))
    return path


def remove_old_province_vaults() -> list[Path]:
    """Delete the lab's former province-wide vault files (group_vars/lab/), which every unit's run
    would need the one lab password for; returns those removed."""
    removed = []
    for name in OLD_PROVINCE_VAULTS:
        path = paths.INVENTORY_DIR / "group_vars" / "lab" / name
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed

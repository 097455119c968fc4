"""The lab's keys and secrets, made once and kept across `lab down` so reruns stay stable.

- the lab's own SSH key, authorised for root on every lab host;
- one SSH host key per lab host and per lab switch, recorded in the lab's known_hosts (by name
  and by address) so that host key checking stays on everywhere;
- the switches' login and enable credentials (random), kept in the state directory and also
  as the ansible-vault file `inventory/group_vars/lab/vault.yml` (never committed), encrypted
  with the lab's own vault password.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import yaml

from unitctl import paths
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


def vault_password_path() -> Path:
    return paths.LAB_STATE_DIR / "vault-pass"


def vault_file_path() -> Path:
    return paths.INVENTORY_DIR / "group_vars" / "lab" / "vault.yml"


def write_private(path: Path, text: str) -> None:
    """Write a file only root can read, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    temporary.replace(path)


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
    path = known_hosts_path()
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text("".join(lines))
    temporary.replace(path)


def network_credentials() -> dict[str, str]:
    """The switches' login user, password and enable secret (random, made once)."""
    path = credentials_path()
    if path.exists():
        return json.loads(path.read_text())
    credentials = {
        "network_user": NETWORK_USER,
        "network_password": secrets.token_urlsafe(18),
        "enable_secret": secrets.token_urlsafe(18),
    }
    write_private(path, json.dumps(credentials, indent=2) + "\n")
    return credentials


def vault_password() -> str:
    path = vault_password_path()
    if not path.exists():
        write_private(path, secrets.token_urlsafe(32) + "\n")
    return path.read_text().strip()


def _vault():
    from ansible.constants import DEFAULT_VAULT_ID_MATCH  # noqa: PLC0415  (slow import)
    from ansible.parsing.vault import VaultLib, VaultSecret  # noqa: PLC0415

    secret = VaultSecret(vault_password().encode())
    return VaultLib([(DEFAULT_VAULT_ID_MATCH, secret)])


def vault_variables(credentials: dict[str, str]) -> dict[str, str]:
    return {f"vault_lab_{key}": value for key, value in credentials.items()}


def ensure_vault_file(credentials: dict[str, str]) -> Path:
    """Write the encrypted vault file unless it already holds these credentials."""
    path = vault_file_path()
    wanted = vault_variables(credentials)
    vault = _vault()
    if path.exists():
        try:
            if yaml.safe_load(vault.decrypt(path.read_bytes())) == wanted:
                return path
        except Exception:  # noqa: BLE001  (unreadable or foreign: rewrite it)
            pass
    plaintext = "---\n" + yaml.safe_dump(wanted, default_flow_style=False, sort_keys=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, vault.encrypt(plaintext).decode())
    return path

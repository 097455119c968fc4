"""Secrets per unit: each unit's own ansible-vault file, in its own folder, with its own vault identity.

- **Where**: `<units folder>/<unit-id>/vault.yml`, one whole-file ansible-vault per unit, encrypted
  with the vault identity named after the unit (`ansible-vault encrypt --vault-id
  qom-court@prompt --encrypt-vault-id qom-court`), so that its first line reads
  `$ANSIBLE_VAULT;1.2;AES256;qom-court`. The provincial centre is a unit too: its vault, under its
  own id, holds the province's own secrets (its servers, switches and staff). No secret lives in
  `group_vars/` or `host_vars/`: Ansible reads those for every unit's hosts.
- **What**: the secrets below (UNIT_SECRETS), each declared once with its shape: a text, or a
  mapping keyed by a host or a staff member of that very unit (a unit's vault holds no other
  unit's secret, the centre's included).
- **When it is opened**: by the vars plugin `unitctl_unit_vaults` (scripts/ansible_plugins/vars),
  at task time, only for the hosts a run reaches and only when the run was given the password of
  that unit's identity; any other unit's vault stays closed (its variables are simply absent).
- **Passwords**: one per identity. `scripts/vault-password-client.py` (an Ansible vault password
  client: Ansible runs it as `... --vault-id NAME`) reads `NAME` from the technician's own folder
  (`UNITCTL_VAULT_PASSWORD_DIR`), else from the lab's (`<lab state>/vault-pass.d/NAME`). The
  unitctl commands pass only the identities of the units they act on (`vault_ids`).

Only the standard library at import time: the password client imports this module.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from unitctl import paths

VAULT_FILE = "vault.yml"
CLIENT = paths.PROJECT_ROOT / "scripts" / "vault-password-client.py"
# The technician's own folder of password files, one per vault identity, named by the identity.
FOLDER_VARIABLE = "UNITCTL_VAULT_PASSWORD_DIR"
# What Ansible's client protocol expects from a client that has no password for an identity.
CLIENT_UNKNOWN_IDENTITY = 2
# Any other failure: Ansible stops and shows what the client printed.
CLIENT_REFUSED = 1
IDENTITY = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
HEADER = re.compile(rb"^\$ANSIBLE_VAULT;(?P<version>[0-9.]+);(?P<cipher>[A-Z0-9]+)(;(?P<identity>[^\s;]+))?\s*$")


@dataclass(frozen=True)
class Secret:
    """A secret a unit's vault may hold. `shape`: "text", "by_host" (a mapping: host name of the
    unit -> value) or "by_staff" (username of the unit's roster -> value)."""

    name: str
    shape: str
    meaning: str


UNIT_SECRETS: dict[str, Secret] = {secret.name: secret for secret in (
    Secret("vault_network_user", "text", "the login user on the unit's network devices"),
    Secret("vault_network_password", "text", "that user's password on the unit's network devices"),
    Secret("vault_network_enable_secret", "text", "the enable secret of the unit's network devices"),
    Secret("vault_network_snmp_auth_password", "text", "SNMPv3 authentication password of the unit's devices"),
    Secret("vault_network_snmp_priv_password", "text", "SNMPv3 privacy password of the unit's devices"),
    Secret("vault_network_staff_passwords", "by_staff", "staff member -> password on the unit's network devices"),
    Secret("vault_archive_share_passwords", "by_staff", "staff member -> Samba password of the archive share"),
    Secret("vault_backup_password", "text", "the restic password of the unit's backup repository at the centre"),
    Secret("vault_power_monitor_passwords", "by_host", "server -> upsd password of its UPS monitor"),
    Secret("vault_log_tls", "by_host", "server -> {certificate, key} from the province CA, for the log transport"),
)}


def vault_path(unit_folder: Path) -> Path:
    return Path(unit_folder) / VAULT_FILE


@dataclass(frozen=True)
class Header:
    """The first line of an ansible-vault file; `identity` None for the 1.1 format (no vault ID)."""

    version: str
    identity: str | None


def read_header(path: Path) -> Header | None:
    """The vault header of `path`, or None when the file is not an ansible-vault file."""
    with open(path, "rb") as handle:
        first = handle.readline(512)
    return header_of(first)


def header_of(text: bytes | str) -> Header | None:
    first = (text.encode() if isinstance(text, str) else text).lstrip().split(b"\n", 1)[0]
    match = HEADER.match(first.strip())
    if not match:
        return None
    identity = match.group("identity")
    return Header(match.group("version").decode(), identity.decode() if identity else None)


def password_file(identity: str) -> Path | None:
    """Where this machine keeps the password of a vault identity, or None: the technician's own
    folder (UNITCTL_VAULT_PASSWORD_DIR) first, then the lab's (made by `unitctl lab up`)."""
    if not IDENTITY.match(identity):
        return None
    folders = []
    if os.environ.get(FOLDER_VARIABLE):
        folders.append(Path(os.environ[FOLDER_VARIABLE]))
    folders.append(paths.LAB_STATE_DIR / "vault-pass.d")
    for folder in folders:
        candidate = folder / identity
        if candidate.is_file() and os.access(candidate, os.R_OK):
            return candidate
    return None


def exposure(password: Path) -> str | None:
    """Why a password file is not safe to use, or None when it is: readable or writable by anyone
    but its owner (mode & 0o077), owned by another account than the caller's or root, in a folder
    others may write to (they could put their own file there), or empty. The mode rule is OpenSSH's
    for a private key ("UNPROTECTED PRIVATE KEY FILE": mode & 0o077); the owner and folder rules are
    this toolkit's. On a file system without Unix modes (vfat, NTFS) no chmod helps: mount it with
    fmask=0177, or keep the passwords on a Linux file system."""
    info = password.stat()
    if info.st_mode & 0o077:
        return (f"{password} can be read or changed by others (mode {info.st_mode & 0o777:04o}); "
                f"run: chmod 600 {password}")
    if info.st_uid not in (os.geteuid(), 0):
        return f"{password} belongs to another account (uid {info.st_uid})"
    folder = password.parent.stat()
    if folder.st_mode & 0o022 and not folder.st_mode & 0o1000:
        return (f"its folder {password.parent} can be written by others (mode {folder.st_mode & 0o777:04o}); "
                f"run: chmod 700 {password.parent}")
    if not password.read_text(encoding="utf-8").strip():
        return f"{password} is empty"
    return None


def refusal(identity: str, problem: str) -> str:
    """What the password client and `unitctl net` print for a password file `exposure` refuses."""
    return f"unitctl: the password of the vault identity {identity} is not used: {problem}"


def vault_ids(unit_ids: list[str] | tuple[str, ...], units_dir: Path) -> list[str]:
    """The `--vault-id` values a run on these units needs: one per unit that has a vault file, each
    opened through the password client. Nothing for a unit without one (the sample province)."""
    client = paths.in_checkout(CLIENT)
    return [f"{unit_id}@{client}" for unit_id in dict.fromkeys(unit_ids)
            if vault_path(Path(units_dir) / unit_id).exists()]


def client_main(argv: list[str]) -> int:
    """The vault password client: `vault-password-client.py --vault-id NAME` prints NAME's password.
    Exit status 2 (Ansible's "unknown identity") when this machine has none, with where it looked."""
    identity = argv[argv.index("--vault-id") + 1] if "--vault-id" in argv[:-1] else ""
    if not identity or identity == "default":
        print("unitctl: vault passwords are per unit: give the unit's identity, e.g. --vault-id "
              "qom-court@scripts/vault-password-client.py", file=sys.stderr)
        return CLIENT_UNKNOWN_IDENTITY
    found = password_file(identity)
    if found is None:
        # The folder itself, so that a typo in the variable's value shows.
        places = ([str(Path(os.environ[FOLDER_VARIABLE]) / identity)] if os.environ.get(FOLDER_VARIABLE) else []) \
            + [str(paths.LAB_STATE_DIR / "vault-pass.d" / identity)]
        print(f"unitctl: no password for the vault identity {identity} on this machine (looked in "
              f"{', '.join(places)}); put it in a file named {identity} in the folder "
              f"${FOLDER_VARIABLE} names, or give it with --vault-id {identity}@prompt", file=sys.stderr)
        return CLIENT_UNKNOWN_IDENTITY
    problem = exposure(found)
    if problem:
        print(refusal(identity, problem), file=sys.stderr)
        return CLIENT_REFUSED
    sys.stdout.write(found.read_text(encoding="utf-8").strip() + "\n")
    return 0


def open_vault(path: Path, identity: str, password: str) -> object:
    """The decrypted YAML of a unit's vault, opened with that identity's password alone. Raises
    ValueError when the password does not open it (or the file is not this identity's)."""
    import yaml  # noqa: PLC0415
    from ansible.parsing.vault import AnsibleVaultError, VaultLib, VaultSecret  # noqa: PLC0415

    header = read_header(path)
    if header is None or header.identity != identity:
        raise ValueError(f"{path} is not encrypted for the vault identity {identity}")
    vault = VaultLib([(identity, VaultSecret(password.encode()))])
    try:
        plaintext = vault.decrypt(Path(path).read_bytes())
    except AnsibleVaultError as error:
        raise ValueError(str(error)) from error
    return yaml.safe_load(plaintext)


def encrypt(plaintext: str, identity: str, password: str) -> str:
    """`plaintext` as an ansible-vault file of `identity` (header `$ANSIBLE_VAULT;1.2;AES256;identity`)."""
    from ansible.parsing.vault import VaultLib, VaultSecret  # noqa: PLC0415

    vault = VaultLib([(identity, VaultSecret(password.encode()))])
    return vault.encrypt(plaintext, secret=vault.secrets[0][1], vault_id=identity).decode()

"""The lab's service secrets: Samba passwords, backup repository passwords, UPS monitor passwords.

Made once (random) and kept across `lab down` in the lab's state directory (root only, like the
switch credentials), and written as the ansible-vault file
`inventory/group_vars/lab/vault_services.yml` (never committed) with the lab's vault password.
A real province keeps the same variables in its own vault files:

- `vault_archive_share_passwords`: staff username -> Samba password (role archive_share);
- `vault_backup_passwords`: unit id -> restic repository password (role backup);
- `vault_power_monitor_passwords`: host name -> upsd password of upsmon (role power);
- `vault_log_tls`: server name -> {certificate, key}, its certificate from the province CA for the
  log transport (roles log_forwarding and log_collector; in the lab from unitctl.lab.ca).

    python -m unitctl.lab.services     # idempotent; run by the lab tests before provisioning
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import yaml

from unitctl import paths
from unitctl.lab import ca as labca
from unitctl.lab import secrets as labsecrets
from unitctl.inventory.load import load_units_dir


def secrets_path() -> Path:
    return paths.LAB_STATE_DIR / "service-secrets.json"


def vault_file_path() -> Path:
    return paths.INVENTORY_DIR / "group_vars" / "lab" / "vault_services.yml"


def wanted_secrets(known: dict) -> dict:
    """Every secret the lab province needs, keeping the ones already made."""
    province = load_units_dir(paths.LAB_UNITS_DIR)
    maps = {key: dict(known.get(key, {})) for key in
            ("vault_archive_share_passwords", "vault_backup_passwords", "vault_power_monitor_passwords",
             "vault_log_tls")}
    for unit in province.units:
        for person in unit.staff:
            maps["vault_archive_share_passwords"].setdefault(person["username"], secrets.token_urlsafe(18))
        maps["vault_backup_passwords"].setdefault(unit.id, secrets.token_urlsafe(32))
        for host in unit.hosts:
            if host["function"] in ("unit_server", "centre_server"):
                maps["vault_power_monitor_passwords"].setdefault(host["name"], secrets.token_urlsafe(18))
                dns_names = [host["name"], f"{host['name']}.{unit.info['domain']}"]
                current = maps["vault_log_tls"].get(host["name"], {}).get("certificate", "")
                if not labca.host_certificate_is_current(current, dns_names, [host["address"]]):
                    maps["vault_log_tls"][host["name"]] = labca.host_certificate(host["name"], dns_names,
                                                                                  [host["address"]])
    return maps


def ensure_services_vault() -> Path:
    path = secrets_path()
    known = json.loads(path.read_text()) if path.exists() else {}
    wanted = wanted_secrets(known)
    if wanted != known:
        labsecrets.write_private(path, json.dumps(wanted, indent=2, sort_keys=True) + "\n")
    vault = labsecrets._vault()  # noqa: SLF001  (the lab's own vault, one password)
    target = vault_file_path()
    if target.exists():
        try:
            if yaml.safe_load(vault.decrypt(target.read_bytes())) == wanted:
                return target
        except Exception:  # noqa: BLE001  (unreadable or foreign: rewrite it)
            pass
    plaintext = "---\n" + yaml.safe_dump(wanted, default_flow_style=False, sort_keys=True)
    labsecrets.write_private(target, vault.encrypt(plaintext).decode())
    return target


def load_secrets() -> dict:
    """The lab's service secrets (for the lab tests)."""
    ensure_services_vault()
    return json.loads(secrets_path().read_text())


if __name__ == "__main__":
    print(ensure_services_vault())

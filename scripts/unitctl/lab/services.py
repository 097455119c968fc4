"""The lab's service secrets: Samba passwords, backup repository passwords, UPS monitor passwords.

Made once (random) and kept across `lab down` in the lab's state directory (root only, like the
switch credentials), and written, with each unit's switch credentials, into each lab unit's own
vault (`inventory/lab/units/<unit>/vault.yml`, never committed), encrypted with that unit's own
vault identity and password (unitctl.lab.secrets). A unit's vault holds only its own secrets, as a
real province's unit vaults do (unitctl.inventory.vaults.UNIT_SECRETS):

- `vault_network_user`, `vault_network_password`, `vault_network_enable_secret` and the SNMPv3
  passwords of the unit's switches;
- `vault_archive_share_passwords`: the unit's staff username -> Samba password (role archive_share);
- `vault_backup_password`: the unit's restic repository password (role backup);
- `vault_power_monitor_passwords`: the unit's server -> upsd password of upsmon (role power);
- `vault_log_tls`: the unit's server -> {certificate, key}, its certificate from the province CA for
  the log transport (roles log_forwarding and log_collector; in the lab from unitctl.lab.ca).

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


def unit_vault_variables(unit, maps: dict, credentials: dict[str, str]) -> dict:
    """What one lab unit's vault holds: its switch credentials and its share of the service secrets
    (its own staff, servers and backup repository, nothing of another unit)."""
    staff = {person["username"] for person in unit.staff}
    hosts = {host["name"] for host in unit.hosts}
    variables = {
        "vault_network_user": credentials["network_user"],
        "vault_network_password": credentials["network_password"],
        "vault_network_enable_secret": credentials["enable_secret"],
        # The lab's switch model has no SNMP: its SNMPv3 passwords are the login password, as before.
        "vault_network_snmp_auth_password": credentials["network_password"],
        "vault_network_snmp_priv_password": credentials["network_password"],
        "vault_archive_share_passwords": {user: password for user, password
                                          in maps["vault_archive_share_passwords"].items() if user in staff},
        "vault_power_monitor_passwords": {host: password for host, password
                                          in maps["vault_power_monitor_passwords"].items() if host in hosts},
        "vault_log_tls": {host: tls for host, tls in maps["vault_log_tls"].items() if host in hosts},
    }
    if unit.id in maps["vault_backup_passwords"]:
        variables["vault_backup_password"] = maps["vault_backup_passwords"][unit.id]
    return variables


def ensure_unit_vaults() -> list[Path]:
    """Every lab unit's vault, the centre's included, each with its own identity and password;
    the former province-wide vault files are removed. Returns the vault files."""
    path = secrets_path()
    known = json.loads(path.read_text()) if path.exists() else {}
    wanted = wanted_secrets(known)
    if wanted != known:
        labsecrets.write_private(path, json.dumps(wanted, indent=2, sort_keys=True) + "\n")
    province = load_units_dir(paths.LAB_UNITS_DIR)
    credentials = labsecrets.network_credentials([unit.id for unit in province.units])
    labsecrets.remove_old_province_vaults()
    return [labsecrets.write_unit_vault(unit.id, unit_vault_variables(unit, wanted, credentials[unit.id]))
            for unit in province.units]


def load_secrets() -> dict:
    """The lab's service secrets, province-wide maps as in the state directory (for the lab tests)."""
    ensure_unit_vaults()
    return json.loads(secrets_path().read_text())


if __name__ == "__main__":
    print("\n".join(map(str, ensure_unit_vaults())))

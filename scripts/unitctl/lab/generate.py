"""A synthetic lab province of N small units, to measure how the toolkit's costs grow with the
province (`unitctl lab generate --units N`, tests/benchmarks/bench_scale.py).

What it writes into OUTPUT (by default results/lab-generated/, git-ignored and left out of the linters):

    OUTPUT/lab-generated.unitctl.yml   the inventory source (plugin unitctl_province, lab: true)
    OUTPUT/units/lab-centre/           the lab's own centre unit, copied (centre-srv, 10.213.10.10)
    OUTPUT/units/lab-u01/ ... lab-uNN/ one small unit each: a unit server, a CMS workstation and
                                       a printer entry (a queue, not a machine); no switch
    OUTPUT/group_vars -> inventory/group_vars   a link: Ansible and `unitctl validate` read the
                                       province policy (group_vars/all) and the lab's stand-ins
                                       (group_vars/lab) beside an inventory source, so the
                                       generated source sees the checkout's own, never a copy

Every unit is complete (no TODO marker: plays refuse a unit that has one): its supervisor with an
appointment, a CMS operator, both with SSH keys (made from the username, so the same N always gives
the same files), rooms, four VLANs as the lab's court has them. Odd units are county courts, even
ones prosecutor's offices.

Addresses follow the lab's network plan (unitctl.lab.net): the lab is one flat segment,
10.213.0.0/16 on the bridge, where every host keeps its inventory address; 10.213.0.1 is the
bridge (the mirror) and 10.213.10.0/24 the centre. Unit i takes the four /24s from
10.213.(10 + 10 i).0, as the lab's court (i = 1) and prosecutor (i = 2) do: servers .10,
workstations .11, printers .20, management. The last unit that fits is i = 24 (10.213.250-253),
so a generated province has at most MAX_UNITS = 24 units (49 lab hosts).

Secrets: the generator writes none. Each unit's vault (`units/<unit>/vault.yml`, its own identity,
the unit id, and its own password) is made by `unitctl lab up` as for the lab's own units
(unitctl.lab.services.ensure_unit_vaults, passwords in the lab's state folder `vault-pass.d/`),
once the lab is told to boot this province:

    UNITLAB_UNITS_DIR=OUTPUT/units unitctl lab up
    UNITCTL_INVENTORY=OUTPUT/lab-generated.unitctl.yml unitctl provision ...
"""

from __future__ import annotations

import hashlib
import ipaddress
import shutil
from dataclasses import dataclass
from pathlib import Path

from unitctl import paths
from unitctl.i18n import _, number
from unitctl.lab import net as labnet

SOURCE_NAME = "lab-generated.unitctl.yml"
UNITS_FOLDER = "units"
CENTRE_UNIT = "lab-centre"
DEFAULT_OUTPUT = paths.PROJECT_ROOT / "results" / "lab-generated"
MIN_UNITS = 1
# The first generated unit's block starts at 10.213.20.0, each next one 10 /24s further; a unit uses
# four /24s. The lab's /16 ends at 10.213.255.255.
FIRST_BLOCK_OCTET = 20
BLOCK_STRIDE = 10
SUBNETS_PER_UNIT = 4
LAB_NETWORK = ipaddress.ip_network(f"{labnet.MIRROR_ADDRESS}/{labnet.PREFIX_LEN}", strict=False)
MAX_UNITS = (256 - SUBNETS_PER_UNIT - FIRST_BLOCK_OCTET) // BLOCK_STRIDE + 1
# What marks a folder as this generator's, so that writing again may replace it (and nothing else).
MARKER = "# Written by `unitctl lab generate`"


class GenerateRefused(Exception):
    """The province cannot be written as asked; nothing was written."""


@dataclass(frozen=True)
class GeneratedUnit:
    number: int

    @property
    def id(self) -> str:
        return f"lab-u{self.number:02d}"

    @property
    def short(self) -> str:
        return f"u{self.number:02d}"

    @property
    def kind(self) -> str:
        return "county_court" if self.number % 2 else "prosecutor"

    def subnet(self, index: int) -> ipaddress.IPv4Network:
        """The unit's index-th /24 (0 servers, 1 CMS clients, 2 printers, 3 management)."""
        octet = FIRST_BLOCK_OCTET + BLOCK_STRIDE * (self.number - 1) + index
        return ipaddress.ip_network(f"{LAB_NETWORK.network_address + (octet << 8)}/24")

    def address(self, index: int, host: int) -> str:
        return str(self.subnet(index).network_address + host)


def check_count(units: int) -> None:
    """Raises GenerateRefused unless `units` fits the lab's address plan."""
    if not MIN_UNITS <= units <= MAX_UNITS:
        raise GenerateRefused(_("{count} units: the lab's address plan (10.213.0.0/16, four /24s a unit from "
                                "10.213.20.0) holds {minimum} to {maximum} generated units").format(
                                    count=number(units), minimum=number(MIN_UNITS), maximum=number(MAX_UNITS)))


def ssh_public_key(username: str) -> str:
    """An ed25519 public key line made from the username (no one holds its private half in a
    usable place: it is derived here and dropped), the same on every run."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415  (keeps start-up light)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: PLC0415

    seed = hashlib.sha256(f"unitctl lab generate {username}".encode()).digest()
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return f"{public} {username}@lab"


def unit_files(unit: GeneratedUnit) -> dict[str, str]:
    """The five files of a generated unit, as text."""
    u = unit.short
    kind_en = "County courts" if unit.kind == "county_court" else "Prosecutor's office"
    kind_fa = "دادگستری شهرستان" if unit.kind == "county_court" else "دادسرای عمومی و انقلاب"
    supervisor, operator = f"{u}.supervisor", f"{u}.operator"
    servers, clients, printers, management = (unit.subnet(index) for index in range(SUBNETS_PER_UNIT))
    return {
        "unit.yml": f"""---
unit:
  id: {unit.id}
  kind: {unit.kind}
  name_fa: {kind_fa} {unit.number} (آزمایشگاه)
  name_en: {kind_en} {unit.number} (lab)
  city_fa: قم
  city_en: Qom
  supervisor: {supervisor}
  domain: {u}.lab.internal
  branches:
    - {{id: b1, name_fa: شعبه ۱, name_en: Branch 1}}
""",
        "staff.yml": f"""---
staff:
  - username: {supervisor}
    name_fa: سرپرست واحد {unit.number} (آزمایشگاه)
    name_en: Supervisor, unit {unit.number} (lab)
    role: supervisor
    area: servers and network
    ssh_key: {ssh_public_key(supervisor)}
    appointment:
      number: 8476/{1000 + unit.number}
      date: 1387/07/01
      issued_by: provincial_directorate
  - username: {operator}
    name_fa: کاربر سامانه مدیریت پرونده
    name_en: CMS operator
    role: cms_operator
    area: case registration
    ssh_key: {ssh_public_key(operator)}
""",
        "rooms.yml": """---
rooms:
  server_room:
    location: Lab bridge, host machine
    emergency_power: generator
    temperature_c: {min: 18, max: 27}
    humidity_pct: {min: 20, max: 80}
    ups: {model: Lab dummy UPS, capacity_va: 1500, runtime_min: 20, driver: dummy-ups}
  support_room:
    location: Lab bridge, host machine
    emergency_power: ups_only
    temperature_c: {min: 18, max: 30}
    ups: {model: Lab dummy UPS, capacity_va: 1000, runtime_min: 10, driver: dummy-ups}
""",
        "addressing.yml": f"""---
addressing:
  vlans:
    - {{id: 10, name: servers, purpose: servers, subnet: {servers}, gateway: {servers.network_address + 1}}}
    - {{id: 20, name: cms-clients, purpose: cms_clients, subnet: {clients}, gateway: {clients.network_address + 1},
       dhcp: {{start: {clients.network_address + 100}, end: {clients.network_address + 199}}}}}
    - {{id: 30, name: printers, purpose: printers, subnet: {printers}, gateway: {printers.network_address + 1}}}
    - {{id: 99, name: management, purpose: management, subnet: {management}, gateway: {management.network_address + 1}}}
    - {{id: 999, name: dead, purpose: unused_ports}}
""",
        "hosts.yml": f"""---
hosts:
  - name: {u}-srv
    function: unit_server
    address: {unit.address(0, 10)}
    vlan: 10
  - name: {u}-ws1
    function: cms_client
    profile: registry_office
    branch: b1
    address: {unit.address(1, 11)}
    vlan: 20
  - name: {u}-prn1
    function: printer
    address: {unit.address(2, 20)}
    vlan: 30
    model: Lab CUPS PDF queue
""",
    }


def source_text(units: int) -> str:
    return f"""---
{MARKER} --units {units}: a synthetic lab province
# (scripts/unitctl/lab/generate.py). Boot it with UNITLAB_UNITS_DIR set to the units folder beside
# this file; each unit's vault.yml is made there by `unitctl lab up`.
plugin: unitctl_province
units_dir: {UNITS_FOLDER}
lab: true
"""


def _is_generated(output: Path) -> bool:
    source = output / SOURCE_NAME
    return source.is_file() and MARKER in source.read_text(encoding="utf-8", errors="replace")


def generate(units: int, output: Path = DEFAULT_OUTPUT, centre_from: Path | None = None) -> Path:
    """Write the province (the module's docstring) into `output`; returns the inventory source.

    `output` must not exist, be empty, or hold an earlier generated province (replaced whole, its
    units' vaults with it: `lab up` makes them again, with the same passwords). The centre unit is
    copied from `centre_from` (default: the lab's own units folder), without its vault.
    Raises GenerateRefused, having written nothing."""
    check_count(units)
    output = Path(output).absolute()
    centre = Path(centre_from or paths.DEFAULT_LAB_UNITS_DIR) / CENTRE_UNIT
    if not (centre / "unit.yml").is_file():
        raise GenerateRefused(_("the lab's centre unit is not at {folder}").format(folder=centre))
    if output.exists() and not output.is_dir():
        raise GenerateRefused(_("{folder} is not a folder").format(folder=output))
    if output.is_dir() and any(output.iterdir()) and not _is_generated(output):
        raise GenerateRefused(_("{folder} is not empty and holds no generated province (no {source}): nothing "
                                "was written; name another folder").format(folder=output, source=SOURCE_NAME))
    staging = output.with_name(f".{output.name}.new")
    staging.parent.mkdir(parents=True, exist_ok=True)
    if staging.exists():
        shutil.rmtree(staging)
    units_dir = staging / UNITS_FOLDER
    shutil.copytree(centre, units_dir / CENTRE_UNIT, ignore=shutil.ignore_patterns("vault*.yml"))
    for number in range(1, units + 1):
        unit = GeneratedUnit(number)
        folder = units_dir / unit.id
        folder.mkdir(parents=True)
        for name, text in unit_files(unit).items():
            (folder / name).write_text(text, encoding="utf-8")
    (staging / "group_vars").symlink_to(paths.INVENTORY_DIR / "group_vars", target_is_directory=True)
    (staging / SOURCE_NAME).write_text(source_text(units), encoding="utf-8")
    if output.exists():
        shutil.rmtree(output)
    staging.rename(output)
    return output / SOURCE_NAME


def lab_hosts(units: int) -> int:
    """Lab machines of a generated province: a server and a workstation per unit, and the centre's."""
    return 2 * units + 1

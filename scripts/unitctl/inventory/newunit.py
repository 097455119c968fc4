"""Onboarding a unit: render its five files from the skeleton in templates/new-unit/.

Addresses come from the province plan (group_vars/all/addressing.yml): the unit gets the first
block of the province address space that no unit's subnet touches. What only a person can know
(names, keys, room numbers) is left as a `TODO` value that passes validation and is listed by
`unitctl validate` until someone replaces it.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jdatetime
import jinja2

from unitctl.i18n import N_, _
from unitctl.inventory.load import UNIT_FILES, load_units_dir, load_yaml_file
from unitctl.inventory.schema import PLACEHOLDER, UNIT_ID, UNIT_KINDS, did_you_mean

# The VLAN plan of a new unit: (id, name, purpose), one subnet each from the start of its block.
SKELETON_VLANS = ((10, "servers", "servers"), (20, "cms-clients", "cms_clients"), (30, "printers", "printers"),
                  (99, "management", "management"))


class NewUnitRefused(Exception):
    """The unit cannot be made as asked; nothing was written."""


@dataclass
class NewUnit:
    unit_id: str
    kind: str
    name_fa: str
    name_en: str
    city_fa: str = f"{PLACEHOLDER}: نام شهر"
    city_en: str = f"{PLACEHOLDER}: city"


def free_block(space: ipaddress.IPv4Network, prefix: int,
               used: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network | None:
    """The first block of `space` of size /prefix that overlaps no used subnet."""
    for block in space.subnets(new_prefix=prefix):
        if not any(block.overlaps(subnet) for subnet in used):
            return block
    return None


def vlan_plan(block: ipaddress.IPv4Network) -> list[dict]:
    # /24s in a /20 (the province default); smaller blocks are split in four.
    subnets = block.subnets(new_prefix=max(block.prefixlen + 2, 24))
    plan = []
    for (vlan_id, name, purpose), subnet in zip(SKELETON_VLANS, subnets):
        first = subnet.network_address
        vlan = {"id": vlan_id, "name": name, "purpose": purpose, "subnet": subnet, "gateway": first + 1, "dhcp": None}
        if purpose == "cms_clients" and subnet.num_addresses >= 256:
            vlan["dhcp"] = {"start": first + 100, "end": first + 199}
        plan.append(vlan)
    return plan


def _policy_value(inventory_root: Path, file_name: str, key: str):
    path = inventory_root / "group_vars" / "all" / file_name
    loaded = load_yaml_file(path) if path.is_file() else None
    return loaded.data.get(key) if loaded and isinstance(loaded.data, dict) else None


def _propose_block(inventory_root: Path, units_dir: Path) -> ipaddress.IPv4Network:
    policy = inventory_root / "group_vars" / "all" / "addressing.yml"
    try:
        space = ipaddress.IPv4Network(_policy_value(inventory_root, "addressing.yml", "province_address_space"))
        prefix = int(_policy_value(inventory_root, "addressing.yml", "province_unit_block_prefix"))
    except (TypeError, ValueError) as error:
        raise NewUnitRefused(_("cannot propose addresses: {file} must set province_address_space "
                               "(e.g. 10.25.0.0/16) and province_unit_block_prefix (e.g. 20) ({error})").format(
                                   file=policy, error=error)) from None
    used = []
    for unit in load_units_dir(units_dir).units:
        for vlan in unit.vlans:
            try:
                used.append(ipaddress.IPv4Network(vlan.get("subnet")))
            except (TypeError, ValueError):
                continue  # no subnet (unused ports) or a broken one validation reports
    block = free_block(space, prefix, used)
    if block is None:
        raise NewUnitRefused(_("the province address space {space} has no free /{prefix} block left; "
                               "the ICT council must widen it in {file}").format(
                                   space=space, prefix=prefix, file=policy))
    return block


def _refusal(request: NewUnit, units_dir: Path) -> str | None:
    if not re.fullmatch(UNIT_ID.pattern, request.unit_id):
        return _("'{id}' is not a valid unit id: {rule}").format(id=request.unit_id, rule=_(UNIT_ID.rule))
    if request.kind not in UNIT_KINDS:
        return _("'{kind}' is not a unit kind; choose one of: {kinds}{hint}").format(
            kind=request.kind, kinds=", ".join(UNIT_KINDS), hint=did_you_mean(request.kind, UNIT_KINDS))
    if not units_dir.is_dir():
        message = (N_("{folder} is not a folder of units (it does not exist as a folder); name the province's "
                      "units folder with --units-dir, such as inventory/units") if units_dir.exists() else
                   N_("{folder} is not a folder of units (it does not exist); name the province's units folder "
                      "with --units-dir, such as inventory/units"))
        return _(message).format(folder=units_dir)
    if (units_dir / request.unit_id).exists():
        return _("the unit '{id}' already exists in {folder}; nothing was written").format(
            id=request.unit_id, folder=units_dir)
    if request.kind == "provincial_centre":
        centre = next((u.id for u in load_units_dir(units_dir).units if u.info.get("kind") == "provincial_centre"),
                      None)
        if centre:
            return _("the province already has its provincial centre ('{unit}'); a province has exactly one").format(
                unit=centre)
    return None


def render_unit(request: NewUnit, inventory_root: Path, units_dir: Path, templates_dir: Path) -> dict[str, str]:
    """The five files of the new unit as text, keyed by file name."""
    block = _propose_block(inventory_root, units_dir)
    vlans = vlan_plan(block)
    by_purpose = {vlan["purpose"]: vlan for vlan in vlans}
    parent_zone = _policy_value(inventory_root, "dns.yml", "province_dns_parent_zone") or "judiciary.example"
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,  # noqa: S701 (YAML)
    )
    # A JSON string is a valid double-quoted YAML scalar: safe for any name a person types.
    environment.filters["yaml_text"] = lambda text: json.dumps(str(text), ensure_ascii=False)
    values = {
        **vars(request),
        "today": jdatetime.date.today().strftime("%Y/%m/%d"),
        "supervisor": f"todo.{request.unit_id}"[:32],
        "domain": f"{request.unit_id}.{parent_zone}",
        "block": block,
        "vlans": vlans,
        "server_function": "centre_server" if request.kind == "provincial_centre" else "unit_server",
        "servers_vlan": by_purpose["servers"]["id"],
        "server_address": by_purpose["servers"]["subnet"].network_address + 10,
        "management_vlan": by_purpose["management"]["id"],
        "switch_address": by_purpose["management"]["subnet"].network_address + 2,
        "trunk_vlans": [vlan["id"] for vlan in vlans],
    }
    return {name: environment.get_template(f"{name}.j2").render(values) for name in UNIT_FILES}


def create_unit(request: NewUnit, inventory_root: Path, units_dir: Path, templates_dir: Path) -> Path:
    """Write the new unit folder, all five files or none. Raises NewUnitRefused with the reason."""
    units_dir = Path(units_dir)
    reason = _refusal(request, units_dir)
    if reason:
        raise NewUnitRefused(reason)
    files = render_unit(request, Path(inventory_root), units_dir, Path(templates_dir))
    units_dir.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed at the end, so a failure never leaves half a unit.
    staging = Path(tempfile.mkdtemp(prefix=f".{request.unit_id}.", dir=units_dir))
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        target = units_dir / request.unit_id
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target

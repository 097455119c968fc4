"""Intended device configs: the inventory and the province's `network_*` policy through Jinja2.

The context is built here, in one place, from the same inputs whether `unitctl net` or the
Ansible module asks: the device's hosts.yml entry, its unit, the unit's addressing plan and hosts,
and the settings (every `network_*` variable, without the prefix). A value the template needs
but the inventory lacks raises MissingVariable naming the device and the variable, before
anything connects to the device.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

import jinja2

from unitctl import paths
from unitctl.network.platforms import MASK, PLATFORMS, Platform

# Settings that hold secrets: rendered as MASK when not given (offline, without the vault).
SECRET_SETTINGS = ("password", "enable_secret", "snmp_auth_password", "snmp_priv_password")
TEMPLATES = paths.TEMPLATES_DIR / "network"


class MissingVariable(Exception):
    """A template needs a value the inventory does not give for this device."""

    def __init__(self, device: str, variable: str):
        super().__init__(f"{device}: template variable '{variable}' is missing "
                         f"(nothing was sent to the device)")
        self.device, self.variable = device, variable


@dataclass
class Target:
    """One network device and everything its intended config is made from."""

    name: str
    unit_id: str
    host: dict[str, Any]                      # its entry in the unit's hosts.yml
    unit: dict[str, Any] = field(default_factory=dict)
    addressing: dict[str, Any] = field(default_factory=dict)
    unit_hosts: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def platform(self) -> Platform:
        return PLATFORMS[self.host.get("platform", "ios")]

    @property
    def managed_sections(self) -> list[str]:
        return list((self.settings.get("managed_sections") or {}).get(self.platform.name, []))

    @property
    def secrets_available(self) -> bool:
        return all(self.settings.get(name) not in (None, MASK) for name in SECRET_SETTINGS)


class _Scope(dict):
    """A dict that knows its name in the template context, for precise missing-variable errors."""

    def __init__(self, path: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.path = path


class _Undefined(jinja2.StrictUndefined):
    """Fails on any use, with the dotted name of what is missing as the message."""

    @property
    def _undefined_message(self) -> str:
        owner = getattr(self._undefined_obj, "path", None)
        return f"{owner}.{self._undefined_name}" if owner else str(self._undefined_name)


def vlan_ranges(ids) -> str:
    """[10, 11, 12, 20] -> "10-12,20", as IOS prints allowed VLAN lists."""
    numbers, parts = sorted(set(int(i) for i in ids)), []
    for number in numbers:
        if parts and number == parts[-1][1] + 1:
            parts[-1][1] = number
        else:
            parts.append([number, number])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in parts)


def expand_ports(layout: list[str]) -> list[str]:
    """["Gi1/0/1-3", "sfp1"] -> ["Gi1/0/1", "Gi1/0/2", "Gi1/0/3", "sfp1"]."""
    ports = []
    for entry in layout:
        match = re.match(r"^(.*?)(\d+)-(\d+)$", entry)
        ports += [f"{match.group(1)}{n}" for n in range(int(match.group(2)), int(match.group(3)) + 1)] \
            if match else [entry]
    return ports


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=_Undefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
    environment.filters["vlan_ranges"] = vlan_ranges
    return environment


_ENVIRONMENT = _environment()


def _vlan(vlan: dict) -> _Scope:
    scope = _Scope(f"vlan {vlan.get('id')}", vlan)
    if vlan.get("subnet"):
        network = ipaddress.ip_network(vlan["subnet"])
        scope.update(netmask=str(network.netmask), prefix=network.prefixlen)
    return scope


def _ports(target: Target, dead_vlan: dict | None) -> list[_Scope]:
    described = {port["port"]: port for port in target.host.get("ports", [])}
    model = target.host.get("model") or target.settings.get("default_model")
    layout = expand_ports((target.settings.get("port_layouts") or {}).get(model, []))
    ports = []
    for name in layout + [name for name in described if name not in layout]:
        port = described.get(name)
        if port is None:  # a port no host uses: shut and parked in the dead VLAN
            port = {"port": name, "mode": "access", "shutdown": True, "description": "unused",
                    "vlan": dead_vlan["id"] if dead_vlan else None}
        port = {"shutdown": False, **port}
        port.setdefault("description", port.get("connects"))
        ports.append(_Scope(f"port {name}", {k: v for k, v in port.items() if v is not None}))
    return ports


def context(target: Target, masked: bool = False) -> dict[str, Any]:
    """The template context of a device; `masked` renders every secret as `<masked>`."""
    vlans = [_vlan(vlan) for vlan in target.addressing.get("vlans", [])]
    by_id = {vlan.get("id"): vlan for vlan in vlans}
    dead = next((vlan for vlan in vlans if vlan.get("purpose") == "unused_ports"), None)
    management = _Scope("management", by_id.get(target.host.get("vlan"), {}))
    management["address"] = target.host.get("address")
    settings = _Scope("settings", target.settings)
    for name in SECRET_SETTINGS:
        if masked or settings.get(name) is None:
            settings[name] = MASK
    servers = [host["address"] for host in target.unit_hosts
               if host.get("function") in ("unit_server", "centre_server")]
    values = {
        "hostname": target.name, "host": _Scope("host", target.host),
        "unit": _Scope("unit", target.unit), "vlans": vlans, "ports": _ports(target, dead),
        "management": management, "settings": settings,
        # Devices take time from their unit's server (the centre's from the centre servers).
        "ntp_servers": servers[:2],
        "routed_vlans": [vlan for vlan in vlans if vlan.get("gateway")],
    }
    if dead is not None:
        values["dead_vlan"] = dead
    return {name: value for name, value in values.items() if value not in (None, [])}


def template_name(target: Target) -> str:
    role = target.host.get("role")
    try:
        return target.platform.templates[role]
    except KeyError:
        raise MissingVariable(target.name, f"a template for role {role!r} on {target.platform.name}") from None


def render(target: Target, masked: bool = False) -> str:
    """The intended configuration of one device (secrets masked when asked or not available)."""
    try:
        return _ENVIRONMENT.get_template(template_name(target)).render(context(target, masked))
    except jinja2.UndefinedError as error:
        raise MissingVariable(target.name, str(error)) from None

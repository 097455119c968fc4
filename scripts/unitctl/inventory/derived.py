"""Data derived from the inventory for the plays: computed once here, in Python, and tested.

Playbooks never compute these in Jinja (no JSON built in templates, no address arithmetic):
the inventory plugin hands them to Ansible as variables (see `ansible_groups`), per unit in the
unit's group and province-wide in `all`. Every function takes the loaded inventory (`Unit`,
`Province`) and returns plain lists and dicts, ready to be a role's input.

Addresses follow Python's `ipaddress` (RFC 4632 prefixes; a subnet written with a dotted mask
such as `10.25.65.0/255.255.255.0` is read as the same /24 network, never as a zero netmask).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from unitctl.inventory.load import UNIT_FILES, Province, Unit, todo_lines

# Host functions whose machines a unit's /etc/hosts, DNS and DHCP name.
UNIT_SERVER = "unit_server"
CENTRE_SERVER = "centre_server"
PRINTER = "printer"
CMS_CLIENT = "cms_client"
# Roster fields each role needs (a role never sees more of a person than it uses).
STAFF_ACCOUNT_FIELDS = ("username", "name_en", "role", "ssh_key")
STAFF_ROLE_FIELDS = ("username", "role")
DNS_HOST_FIELDS = ("name", "address", "mac")
# VLAN purposes whose machines use the unit server's services (names, DHCP, time).
CLIENT_PURPOSES = ("cms_clients", "printers", "servers")


def unit_group(unit_id: str) -> str:
    """The Ansible group of one unit: `unit_<id>` with dashes as underscores (`unit_lab_court`)."""
    return "unit_" + unit_id.replace("-", "_")


def _pick(entry: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {key: entry[key] for key in fields if key in entry}


def _network(subnet: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A VLAN's subnet as a network; raises ValueError for a value that is not one."""
    return ipaddress.ip_network(str(subnet), strict=False)


def networks_by_purpose(unit: Unit) -> dict[str, list[str]]:
    """The unit's subnets (CIDR text, prefix form) by VLAN purpose, in the plan's order.

    Shape: {"servers": ["10.213.20.0/24"], "cms_clients": [...], ...}; a purpose with no subnet
    (the dead VLAN of unused ports) is absent."""
    found: dict[str, list[str]] = {}
    for vlan in unit.vlans:
        if vlan.get("subnet") and vlan.get("purpose"):
            found.setdefault(vlan["purpose"], []).append(str(_network(vlan["subnet"])))
    return found


def client_networks(unit: Unit) -> list[str]:
    """The subnets whose machines use the unit server's names, DHCP and time: the CMS client,
    printer and server VLANs (CLIENT_PURPOSES), unique, in the plan's order.

    Shape: ["10.213.20.0/24", ...] (CIDR text, prefix form)."""
    by_purpose = networks_by_purpose(unit)
    return list(dict.fromkeys(subnet for purpose in CLIENT_PURPOSES for subnet in by_purpose.get(purpose, [])))


def dhcp_ranges(unit: Unit) -> list[dict[str, str]]:
    """One DHCP range per VLAN with a `dhcp` block, as dnsmasq's dhcp-range needs it.

    Shape: [{"tag": "vlan20", "start": "...", "end": "...", "netmask": "255.255.255.0",
    "router": "<gateway or ''>"}]; the netmask comes from the subnet's prefix length."""
    ranges = []
    for vlan in unit.vlans:
        dhcp = vlan.get("dhcp")
        if not isinstance(dhcp, dict) or not vlan.get("subnet"):
            continue
        ranges.append({"tag": f"vlan{vlan['id']}", "start": str(dhcp["start"]),
                       "end": str(dhcp["end"]), "netmask": str(_network(vlan["subnet"]).netmask),
                       "router": str(vlan.get("gateway", ""))})
    return ranges


def centre_host(province: Province) -> tuple[Unit, dict[str, Any]] | None:
    """The provincial centre's server and its unit, None in a province without one."""
    return next(((unit, host) for unit, host in province.all_hosts()
                 if host.get("function") == CENTRE_SERVER), None)


def hosts_entries(unit: Unit, province: Province) -> list[dict[str, str]]:
    """/etc/hosts of the unit's machines: every host of the unit and the centre host.

    Shape: [{"name", "address", "fqdn"}], sorted by name; fqdn = name + the host's unit domain."""
    entries = {host["name"]: (host, unit) for host in unit.hosts}
    centre = centre_host(province)
    if centre:
        centre_unit, centre_server = centre
        entries.setdefault(centre_server["name"], (centre_server, centre_unit))
    return [{"name": name, "address": host["address"],
             "fqdn": f"{name}.{owner.info.get('domain', '')}"}
            for name, (host, owner) in sorted(entries.items())]


def unit_server(unit: Unit) -> dict[str, str]:
    """The unit's own server (time, names, archive share for its workstations): the first by
    name, {} when the unit has none. Shape: {"name", "address"}."""
    servers = sorted((h for h in unit.hosts if h.get("function") == UNIT_SERVER),
                     key=lambda host: host["name"])
    return _pick(servers[0], ("name", "address")) if servers else {}


def printers_for(unit: Unit, host: dict[str, Any]) -> list[dict[str, str]]:
    """The printers a workstation prints to: those of its branch, or, when its branch has none
    (or it has no branch), the unit's printers that belong to no branch.

    Shape: [{"name", "address", "description", "location"}], sorted by name; description is the
    printer's model (its name without one), location the unit's English name."""
    printers = sorted((h for h in unit.hosts if h.get("function") == PRINTER),
                      key=lambda printer: printer["name"])
    branch = host.get("branch")
    mine = [p for p in printers if branch is not None and p.get("branch") == branch]
    chosen = mine or [p for p in printers if "branch" not in p]
    return [{"name": p["name"], "address": p["address"], "description": p.get("model", p["name"]),
             "location": unit.info.get("name_en", unit.id)} for p in chosen]


def todo_markers(unit: Unit) -> list[str]:
    """The TODO markers left in the unit's files ("file:line: text"): a unit made by
    `unitctl new-unit` and not yet filled in. Plays and evaluations refuse such a unit."""
    return [f"{file_name}:{number}: {text}" for file_name in UNIT_FILES if (unit.folder / file_name).is_file()
            for number, text in todo_lines(unit.folder / file_name)]


def unit_vars(unit: Unit, province: Province) -> dict[str, Any]:
    """Everything derived for one unit, as variables of the unit's group."""
    return {
        "unit_group": unit_group(unit.id),
        "unit_networks": networks_by_purpose(unit),
        "unit_client_networks": client_networks(unit),
        "unit_dhcp_ranges": dhcp_ranges(unit),
        "unit_hosts_entries": hosts_entries(unit, province),
        "unit_dns_hosts": [_pick(host, DNS_HOST_FIELDS) for host in unit.hosts],
        "unit_server": unit_server(unit),
        "unit_staff_accounts": [_pick(person, STAFF_ACCOUNT_FIELDS) for person in unit.staff],
        "unit_staff_roles": [_pick(person, STAFF_ROLE_FIELDS) for person in unit.staff],
        "unit_todo_markers": todo_markers(unit),
    }


def host_vars(unit: Unit, host: dict[str, Any]) -> dict[str, Any]:
    """What is derived for one host (only workstations have any: their printers)."""
    if host.get("function") == CMS_CLIENT:
        return {"host_printers": printers_for(unit, host)}
    return {}


def province_vars(province: Province) -> dict[str, Any]:
    """Everything derived across units, as variables of `all`.

    - province_centre: {"name", "address", "unit_id", "management_networks"} ({} without one)
    - province_unit_servers: [{"name", "address", "unit_id", "zone"}], sorted by name
    - province_unit_server_sources: ["<address>/32", ...] of those servers
    - province_backup_clients: [{"name": <unit id>}] of units with a server, sorted
    - province_results_clients: the same units, which send their compliance results to the centre
    - province_dns_delegations: [{"zone", "server"}]: each unit's zone to its server
    - province_cms_client_networks: every unit's CMS client subnets, sorted, unique
    """
    centre = centre_host(province)
    centre_vars: dict[str, Any] = {}
    if centre:
        centre_unit, centre_server = centre
        centre_vars = {"name": centre_server["name"], "address": centre_server["address"],
                       "unit_id": centre_unit.id,
                       "management_networks": networks_by_purpose(centre_unit).get("management", [])}
    servers = sorted(({"name": host["name"], "address": host["address"], "unit_id": unit.id,
                       "zone": unit.info.get("domain", "")}
                      for unit, host in province.all_hosts() if host.get("function") == UNIT_SERVER),
                     key=lambda server: server["name"])
    client_networks = {network for unit in province.units
                       for network in networks_by_purpose(unit).get("cms_clients", [])}
    clients = [{"name": unit_id} for unit_id in sorted({server["unit_id"] for server in servers})]
    return {
        "province_centre": centre_vars,
        "province_unit_servers": servers,
        "province_unit_server_sources": [f"{server['address']}/32" for server in servers],
        "province_backup_clients": clients,
        "province_results_clients": [dict(client) for client in clients],
        "province_dns_delegations": [{"zone": server["zone"], "server": server["address"]}
                                     for server in servers],
        "province_cms_client_networks": sorted(client_networks,
                                               key=lambda net: ipaddress.ip_network(net)),
    }


def log_upload_clients(servers: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The unit servers whose certificates the centre's log collector accepts, each with the
    loopback address its uploads reach systemd-journal-remote from: [{"name", "source"}].

    The collector's TLS front (roles/log_collector) checks a sender's certificate, then connects
    to journal-remote on loopback from the sender's own source address; journal-remote names each
    sender's journal by that address (remote-<source>.journal). The source is 127.<b>.<c>.<d> for
    a unit server at a.b.c.d: stable when units are added, and the file name shows the server.
    `servers` is province_unit_servers (name, address). Raises ValueError on an address that is
    not IPv4, or two servers that would share a source (or take the front's own 127.0.0.1)."""
    clients: list[dict[str, str]] = []
    taken: dict[str, str] = {"127.0.0.1": "the collector itself"}
    for server in servers:
        address = ipaddress.ip_address(server["address"])
        if address.version != 4:
            raise ValueError(f"{server['name']}: the log collector maps IPv4 senders only, not {address}")
        source = "127." + ".".join(str(address).split(".")[1:])
        if source in taken:
            raise ValueError(f"{server['name']} ({address}) and {taken[source]} would upload their logs from the "
                             f"same loopback address {source}: their journals would mix")
        taken[source] = f"{server['name']} ({address})"
        clients.append({"name": server["name"], "source": source})
    return clients


def printer_queues(printers: list[dict[str, str]], device_uri: str = "",
                   driver: str = "everywhere") -> list[dict[str, str]]:
    """CUPS queues for a workstation's printers (`host_printers`) under province policy.

    Each queue prints to `device_uri` when policy sets one (the lab: a PDF file), else to the
    printer's IPP Everywhere address, `ipp://<address>/ipp/print` (PWG 5100.14). Shape: the
    printers with "uri" and "driver" added and "address" dropped."""
    return [{"name": printer["name"],
             "uri": device_uri or f"ipp://{printer['address']}/ipp/print",
             "driver": driver or "everywhere",
             "description": printer.get("description", printer["name"]),
             "location": printer.get("location", "")}
            for printer in printers]

"""What the toolkit knows about each RouterOS menu path: identity, defaults, what RouterOS adds or hides.

One `PathInfo` per path in `PATHS`, each with its reason and source, read by
`unitctl.network.routeros_export` to compare a router's `/export` with the intended script by path and
property. Sources (as cited in the `source` of each entry):

- API-DATA: community.routeros, `plugins/module_utils/_api_data.py` (Ansible's RouterOS
  collection; per path `primary_keys`, `stratify_keys`, `fixed_entries`, `single_value` and each
  property's `KeyInfo(default=...)`, `automatically_computed_from`, `write_only`, for RouterOS 7.x).
- MT-DOCS: MikroTik's RouterOS manual (help.mikrotik.com): "Scripting", the menu's own page
  (Bridging and Switching, IP Addressing, DNS, Firewall filter, Services, SNMP, Log, NTP, User).
- EXPORT: RouterOS 7.x `/export` outputs in public repositories (e.g. a 7.16.1 RB5009 export):
  compact export leaves defaults out, prints `network=` on `/ip address`, prints no `/user` entries.
- ISSUE: RouterOS 7 exports hide sensitive values unless `show-sensitive` is given
  (beeyev/Mikrotik-RouterOS-automatic-backup-and-update issue 21,
  AntonAndreevichMoroz/RealMikrotikBackup issue 15).

Defaults are those of RouterOS 7.16; a property whose default is not listed is never reset by the
toolkit: when the router shows a value the intent does not name, that is drift for a person.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Callable, Mapping

# Every list path: an entry is enabled and has no comment unless it says so (API-DATA: every path
# with `disabled` has `default=False`, `comment` is `remove_value=''`).
COMMON_DEFAULTS = {"disabled": "no", "comment": ""}


def _network_of(props: Mapping[str, str]) -> str | None:
    """`/ip address` `network=`: RouterOS computes it from `address` (API-DATA:
    `automatically_computed_from=('address',)`) and prints it in every export (EXPORT)."""
    try:
        return str(ipaddress.ip_interface(props["address"]).network.network_address)
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True)
class PathInfo:
    path: str
    identity: tuple[str, ...]   # properties that tell one `add` entry from another
    reason: str                 # why those properties identify an entry
    source: str
    ordered_by: str = ""        # set: an ordered list, compared as a sequence per value of this property
    positional: str = "name"    # the property an unnamed `set X` argument names (`/ip service set ssh`)
    singleton: bool = False     # one settings entry: `set prop=value`, nothing to add or remove
    removable: bool = True      # an entry the intent lacks is removed by its identity (else: drift)
    listed: bool = True         # False: /export never lists the entries (absence proves nothing)
    defaults: Mapping[str, str] = field(default_factory=dict)
    entry_defaults: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # built-in entry -> defaults
    required: frozenset[str] = frozenset()   # no default: RouterOS always prints them
    derived: Mapping[str, Callable[[Mapping[str, str]], str | None]] = field(default_factory=dict)
    unordered: frozenset[str] = frozenset()  # comma lists whose order RouterOS does not keep
    addresses: frozenset[str] = frozenset()  # IP addresses (host bits kept; a /32 or /128 is the bare address)
    networks: frozenset[str] = frozenset()   # IP prefixes (RouterOS stores the network: 1.1.1.1/24 -> 1.1.1.0/24)
    hidden: frozenset[str] = frozenset()     # never in /export (write-only or sensitive): not verifiable

    def default(self, prop: str, entry: str | None = None) -> str | None:
        if entry is not None and prop in self.entry_defaults.get(entry, {}):
            return self.entry_defaults[entry][prop]
        if prop in self.defaults:
            return self.defaults[prop]
        return None if self.singleton else COMMON_DEFAULTS.get(prop)

    @property
    def booleans(self) -> frozenset[str]:
        values = {**({} if self.singleton else COMMON_DEFAULTS), **self.defaults}
        return frozenset(prop for prop, value in values.items() if value in ("yes", "no"))


_BRIDGE = PathInfo(
    "/interface bridge", ("name",),
    "interface names are unique on a router (RouterOS refuses a second interface of the same name)",
    "API-DATA primary_keys=('name',) and defaults; MT-DOCS Bridging and Switching",
    defaults={"admin-mac": "", "ageing-time": "5m", "arp": "enabled", "arp-timeout": "auto", "auto-mac": "yes",
              "dhcp-snooping": "no", "ether-type": "0x8100", "fast-forward": "yes", "forward-delay": "15s",
              "frame-types": "admit-all", "igmp-snooping": "no", "ingress-filtering": "yes",
              "max-message-age": "20s", "mtu": "auto", "multicast-querier": "no", "port-cost-mode": "long",
              "priority": "0x8000", "protocol-mode": "rstp", "pvid": "1", "transmit-hold-count": "6",
              "vlan-filtering": "no"},
    required=frozenset({"name"}))

_VLAN = PathInfo(
    "/interface vlan", ("name",),
    "interface names are unique on a router",
    "API-DATA primary_keys=('name',), mtu default 1500; MT-DOCS VLAN",
    defaults={"arp": "enabled", "arp-timeout": "auto", "loop-protect": "default", "loop-protect-disable-time": "5m",
              "loop-protect-send-interval": "5s", "mtu": "1500", "mvrp": "no", "use-service-tag": "no"},
    required=frozenset({"name", "interface", "vlan-id"}))

_BRIDGE_PORT = PathInfo(
    "/interface bridge port", ("interface",),
    "an interface is a port of at most one bridge (RouterOS refuses to add it to a second): keyed by the "
    "interface alone, a port found in another bridge (a factory `bridge`) is moved with `set bridge=`, "
    "where bridge+interface would add it before removing it and be refused",
    "API-DATA primary_keys=('interface',) and defaults; MT-DOCS Bridging and Switching",
    defaults={"auto-isolate": "no", "bpdu-guard": "no", "broadcast-flood": "yes", "edge": "auto", "fast-leave": "no",
              "frame-types": "admit-all", "horizon": "none", "hw": "yes", "ingress-filtering": "yes",
              "learn": "auto", "multicast-router": "temporary-query", "point-to-point": "auto", "priority": "0x80",
              "pvid": "1", "restricted-role": "no", "restricted-tcn": "no", "tag-stacking": "no", "trusted": "no",
              "unknown-multicast-flood": "yes", "unknown-unicast-flood": "yes"},
    required=frozenset({"bridge", "interface"}))

_BRIDGE_VLAN = PathInfo(
    "/interface bridge vlan", ("bridge", "vlan-ids"),
    "a bridge holds one entry per VLAN id (RouterOS refuses a VLAN id already in the bridge's table)",
    "API-DATA primary_keys=('bridge', 'vlan-ids'); EXPORT prints tagged ports in its own order "
    "(e.g. tagged=ether1,ether4,BR1: the bridge last)",
    defaults={"tagged": "", "untagged": "", "mvrp-forbidden": ""},
    required=frozenset({"bridge", "vlan-ids"}),
    unordered=frozenset({"tagged", "untagged", "vlan-ids", "mvrp-forbidden"}))

_ETHERNET = PathInfo(
    "/interface ethernet", ("default-name",),
    "built-in ports, addressed by their factory name (`set [ find default-name=ether1 ]`); never added or removed",
    "EXPORT (`set [ find default-name=ether1 ] ...`); API-DATA fixed_entries",
    removable=False)

_ADDRESS = PathInfo(
    "/ip address", ("address", "interface"),
    "an address with its prefix on one interface (RouterOS refuses the same address twice on an interface)",
    "API-DATA primary_keys=('address', 'interface'), network automatically_computed_from address; "
    "EXPORT prints network= on every entry",
    derived={"network": _network_of},
    required=frozenset({"address", "interface"}),
    addresses=frozenset({"address", "network"}))

_ROUTE = PathInfo(
    "/ip route", ("dst-address", "gateway", "routing-table"),
    "a destination through a gateway in one routing table (the same destination through another gateway "
    "is another route)",
    "API-DATA fields and defaults (routing-table main, distance 1 for static routes: MT-DOCS IP Routing)",
    defaults={"dst-address": "0.0.0.0/0", "distance": "1", "routing-table": "main", "suppress-hw-offload": "no",
              "scope": "30", "target-scope": "10"},
    networks=frozenset({"dst-address"}), addresses=frozenset({"gateway", "pref-src"}))

_DNS = PathInfo(
    "/ip dns", (), "settings: one entry", "API-DATA single_value and defaults; MT-DOCS DNS "
    "(allow-remote-requests: default no)",
    singleton=True,
    defaults={"allow-remote-requests": "no", "cache-max-ttl": "1w", "cache-size": "2048KiB",
              "max-concurrent-queries": "100", "max-concurrent-tcp-sessions": "20", "max-udp-packet-size": "4096",
              "query-server-timeout": "2s", "query-total-timeout": "10s", "servers": "", "use-doh-server": "",
              "verify-doh-cert": "no", "doh-max-concurrent-queries": "50", "doh-max-server-connections": "5",
              "doh-timeout": "5s"},
    addresses=frozenset({"servers"}))  # servers: asked in the order given (first server first), so ordered

_FILTER = PathInfo(
    "/ip firewall filter", (),
    "rules have no name: the first rule that matches decides, so each chain is an ordered list; a rule is "
    "matched by all its properties, a changed rule by chain + comment when that comment is unique",
    "API-DATA stratify_keys=('chain',) (no primary key) and defaults; MT-DOCS Filter "
    "(addresses are stored as networks: 1.1.1.1/24 becomes 1.1.1.0/24)",
    ordered_by="chain",
    defaults={"log": "no", "log-prefix": ""},
    required=frozenset({"chain", "action"}),
    unordered=frozenset({"connection-state", "connection-nat-state", "dst-port", "src-port", "port"}),
    networks=frozenset({"src-address", "dst-address"}))

_SERVICE_PORTS = {"telnet": "23", "ftp": "21", "www": "80", "ssh": "22", "www-ssl": "443", "api": "8728",
                  "winbox": "8291", "api-ssl": "8729"}
_SERVICE = PathInfo(
    "/ip service", ("name",),
    "built-in services, one per name (`set ssh port=22`); never added or removed",
    "API-DATA fixed_entries, primary_keys=('name',); MT-DOCS Services (default ports)",
    removable=False,
    defaults={"address": "", "max-sessions": "20", "vrf": "main"},
    entry_defaults={name: {"port": port} for name, port in _SERVICE_PORTS.items()},
    unordered=frozenset({"address"}), networks=frozenset({"address"}))

_SNMP = PathInfo(
    "/snmp", (), "settings: one entry", "API-DATA single_value and defaults; MT-DOCS SNMP",
    singleton=True,
    defaults={"contact": "", "enabled": "no", "location": "", "src-address": "::", "trap-community": "public",
              "trap-generators": "temp-exception", "trap-interfaces": "", "trap-target": "", "trap-version": "1",
              "engine-id-suffix": "", "vrf": "main"})

_SNMP_COMMUNITY = PathInfo(
    "/snmp community", ("name",),
    "community (SNMPv3: user) names are unique; the built-in one is `[ find default=yes ]`",
    "API-DATA primary_keys=('name',) and defaults; ISSUE (passwords hidden in RouterOS 7 exports)",
    defaults={"addresses": "::/0", "authentication-protocol": "MD5", "encryption-protocol": "DES",
              "read-access": "yes", "security": "none", "write-access": "no", "authentication-password": "",
              "encryption-password": ""},
    required=frozenset({"name"}),
    unordered=frozenset({"addresses"}), networks=frozenset({"addresses"}),
    hidden=frozenset({"authentication-password", "encryption-password"}))

_IDENTITY = PathInfo(
    "/system identity", (), "settings: one entry", "API-DATA single_value, name default MikroTik",
    singleton=True, defaults={"name": "MikroTik"})

_LOGGING = PathInfo(
    "/system logging", ("action", "topics"),
    "a rule has no name: it sends some topics to one action; two rules with the same action and topics are "
    "duplicates (the built-in rules are `set 0`, `set 1`...)",
    "API-DATA (no primary key) and defaults; MT-DOCS Log",
    defaults={"action": "memory", "prefix": "", "topics": "", "regex": ""},
    unordered=frozenset({"topics"}))

_LOGGING_ACTION = PathInfo(
    "/system logging action", ("name",),
    "action names are unique (the built-in memory, disk, echo and remote are `set 0`...`set 3`)",
    "API-DATA primary_keys=('name',) and defaults; MT-DOCS Log",
    defaults={"remote": "0.0.0.0", "remote-port": "514", "src-address": "0.0.0.0", "syslog-facility": "daemon",
              "syslog-severity": "auto", "syslog-time-format": "bsd-syslog", "remember": "yes",
              "memory-lines": "1000", "memory-stop-on-full": "no", "disk-file-count": "2", "disk-file-name": "log",
              "disk-lines-per-file": "1000", "disk-stop-on-full": "no", "email-start-tls": "no", "email-to": "",
              "remote-protocol": "udp", "remote-log-format": "default", "vrf": "main"},
    required=frozenset({"name", "target"}),
    addresses=frozenset({"remote", "src-address"}))

_NOTE = PathInfo(
    "/system note", (), "settings: one entry", "API-DATA single_value and defaults",
    singleton=True, defaults={"note": "", "show-at-login": "yes", "show-at-cli-login": "no"})

_NTP_CLIENT = PathInfo(
    "/system ntp client", (), "settings: one entry", "API-DATA single_value and defaults; MT-DOCS NTP",
    singleton=True, defaults={"enabled": "no", "mode": "unicast", "servers": "", "vrf": "main"})

_NTP_SERVERS = PathInfo(
    "/system ntp client servers", ("address",),
    "one entry per server address",
    "API-DATA primary_keys=('address',) and defaults; MT-DOCS NTP",
    defaults={"auth-key": "none", "iburst": "yes", "max-poll": "10", "min-poll": "6"},
    required=frozenset({"address"}),
    addresses=frozenset({"address"}))

_USER = PathInfo(
    "/user", ("name",),
    "user names are unique; never removed by the toolkit (the account it logs in with is one of them)",
    "API-DATA primary_keys=('name',), password write_only; EXPORT (RouterOS 7 exports list no users); "
    "MT-DOCS User",
    removable=False, listed=False,
    defaults={"address": ""},
    required=frozenset({"name", "group"}),
    hidden=frozenset({"password"}))

PATHS: dict[str, PathInfo] = {info.path: info for info in (
    _BRIDGE, _ETHERNET, _VLAN, _BRIDGE_PORT, _BRIDGE_VLAN, _ADDRESS, _ROUTE, _DNS, _FILTER, _SERVICE, _SNMP,
    _SNMP_COMMUNITY, _IDENTITY, _LOGGING_ACTION, _LOGGING, _NOTE, _NTP_CLIENT, _NTP_SERVERS, _USER)}

# The order in which commands are sent: what others refer to first (a bridge before its VLAN
# interfaces, those before their addresses). Removals go in the reverse order.
PATH_ORDER = tuple(PATHS)


def path_info(path: str) -> PathInfo:
    """The path's entry in PATHS; an unknown path is compared entry by entry, all properties being
    the identity, and nothing in it is ever removed (its entries the intent lacks are drift)."""
    if path in PATHS:
        return PATHS[path]
    return PathInfo(path, (), "unknown to the toolkit: an entry is identified by all its properties",
                    "none", removable=False)


def identity_table() -> list[tuple[str, str, str, str]]:
    """(path, identity, reason, source) for every known path: the table of README/report."""
    rows = []
    for info in PATHS.values():
        if info.singleton:
            identity = "(one entry)"
        elif info.ordered_by:
            identity = f"ordered per {info.ordered_by}"
        else:
            identity = "+".join(info.identity)
        rows.append((info.path, identity, info.reason, info.source))
    return rows

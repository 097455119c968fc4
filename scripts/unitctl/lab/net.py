"""The lab network: one Linux bridge and one network namespace per lab host.

Simplification: the lab is one flat layer-2 segment, 10.213.0.0/16 on the bridge `ulab0`.
Every lab host keeps its inventory address but with prefix /16, so hosts of all lab units reach
each other directly without a router, whatever VLAN the inventory puts them in. VLANs and
gateways exist in the inventory and the rendered configs only. The bridge carries the lab
mirror's address (10.213.0.1). No namespace gets a default route and nothing is forwarded or
NATed, so a lab host can reach the bridge and nothing beyond it. On the host itself, the nftables
table `ulab_guard` lets lab hosts reach only the mirror's port: any other service of the host
that listens on every address stays out of the lab's reach.

Every object made here is named with the `ulab` prefix, and only such objects are ever deleted.
"""

from __future__ import annotations

import json
import socket
import zlib

from unitctl.lab.proc import run

PREFIX = "ulab"
BRIDGE = "ulab0"
MIRROR_ADDRESS = "10.213.0.1"
MIRROR_PORT = 3142
PREFIX_LEN = 16
MAX_LINK_NAME = 15  # IFNAMSIZ - 1


def netns_name(name: str) -> str:
    return f"{PREFIX}-{name}"


def link_name(name: str) -> str:
    """The bridge-side veth of a lab namespace: `ulab-<name>`, or a stable hashed short form."""
    full = f"{PREFIX}-{name}"
    if len(full) <= MAX_LINK_NAME:
        return full
    return f"{PREFIX}-{name[:5]}{zlib.crc32(name.encode()):08x}"[:MAX_LINK_NAME]


def _ip(*args: str, check: bool = True):
    return run(["ip", *args], timeout=15, check=check)


def links() -> list[str]:
    """Names of the links in the host namespace that belong to the lab."""
    found = json.loads(_ip("-j", "link", "show").stdout or "[]")
    return [link["ifname"] for link in found if link["ifname"].startswith(PREFIX)]


def namespaces() -> list[str]:
    found = json.loads(_ip("-j", "netns", "list").stdout or "[]")
    return [ns["name"] for ns in found if ns["name"].startswith(f"{PREFIX}-")]


def netns_pids(netns: str) -> list[int]:
    result = _ip("netns", "pids", netns, check=False)
    return [int(pid) for pid in result.stdout.split()]


GUARD_TABLE = "ulab_guard"
GUARD_RULES = f"""\
table inet {GUARD_TABLE} {{
  chain input {{
    type filter hook input priority filter; policy accept;
    iifname "{BRIDGE}" ct state established,related accept
    iifname "{BRIDGE}" tcp dport {MIRROR_PORT} accept
    iifname "{BRIDGE}" icmp type echo-request accept
    iifname "{BRIDGE}" drop
  }}
  chain forward {{
    type filter hook forward priority filter; policy accept;
    iifname "{BRIDGE}" oifname != "{BRIDGE}" drop
    oifname "{BRIDGE}" iifname != "{BRIDGE}" drop
  }}
}}
"""


def ensure_bridge() -> None:
    if BRIDGE not in links():
        _ip("link", "add", BRIDGE, "type", "bridge")
    _ip("addr", "replace", f"{MIRROR_ADDRESS}/{PREFIX_LEN}", "dev", BRIDGE)
    _ip("link", "set", BRIDGE, "up")
    ensure_guard()


def ensure_guard() -> None:
    """Load the host-side guard (replacing any older copy of it); nothing else is touched."""
    remove_guard()
    run(["nft", "-f", "-"], input=GUARD_RULES, timeout=15)


def remove_guard() -> None:
    run(["nft", "delete", "table", "inet", GUARD_TABLE], timeout=15, check=False)


def create_namespace(name: str, addresses: list[str]) -> None:
    """A fresh namespace `ulab-<name>`: loopback, and `eth0` bridged onto the lab segment."""
    netns, link = netns_name(name), link_name(name)
    _ip("netns", "add", netns)
    _ip("-n", netns, "link", "set", "lo", "up")
    _ip("link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", netns)
    _ip("link", "set", link, "master", BRIDGE, "up")
    for address in addresses:
        _ip("-n", netns, "addr", "add", f"{address}/{PREFIX_LEN}", "dev", "eth0")
    _ip("-n", netns, "link", "set", "eth0", "up")
    for address in addresses:
        # A namespace made again has a new MAC: forget the old one rather than wait for
        # the neighbour cache to find out.
        _ip("neigh", "flush", "to", address, "dev", BRIDGE, check=False)


def delete_namespace(netns: str) -> None:
    """Delete a lab namespace (its veth pair goes with it)."""
    if netns.startswith(f"{PREFIX}-"):
        _ip("netns", "delete", netns, check=False)


def delete_link(link: str) -> None:
    if link.startswith(PREFIX):
        _ip("link", "delete", link, check=False)


def ssh_answers(address: str, port: int = 22, timeout: float = 1) -> bool:
    """True when an SSH server greets on address:port."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as connection:
            connection.settimeout(timeout)
            return connection.recv(8).startswith(b"SSH-")
    except OSError:
        return False

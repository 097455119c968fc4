"""Never cut the path the toolkit reaches an IOS switch by (its management address).

The toolkit talks to a switch over SSH to its management address, which lives on an SVI
(`interface Vlan99` with `ip address`). That path holds while the SVI has the address and is not
shut down, its VLAN exists and a port that may be the way in carries the VLAN: an uplink trunk
allowing it (or, on a switch with no trunk carrying it, such as one staged on VLAN 1, an access
port in it), neither routed nor with the management VLAN moved on or off its native VLAN; and,
seen from off the management subnet, while a default gateway stays. A remediation sent line by
line in hier_config's order can cut it
half way: moving the management VLAN from 99 to 199 starts with `no vlan 99` and
`no interface Vlan99`, and the session dies before the new VLAN and SVI exist.

`plan()` splits a remediation into what is sent now, the switch-over and what is held:
- now: everything that leaves the current path standing (the new VLAN, the new SVI without its
  address, the uplink's `switchport trunk allowed vlan add 199`);
- switch-over: when the address moves to another SVI, the address leaves the old SVI and is set
  on the new one in one write (IOS refuses an address on a second SVI in the same subnet,
  "% 10.0.0.0 overlaps with Vlan99", so the move cannot be made by adding first). A vty reads the
  lines already received after its address has gone, so the block completes, and the session
  goes on over the new SVI when the upstream carries the new VLAN;
- held: what would cut the path as it stands (removing the old SVI, its address or VLAN, the
  uplink's carrying of it, the default gateway). A push sends them only after the device has
  been read again: by then the path has moved and they no longer cut it. A line that cuts the
  path it is on is never sent. Interface names are compared in IOS's full form (netutils).

Sources: Cisco IOS 15.2 Catalyst 2960-X configuration guides (VLANs, "Configuring Switch
Interfaces": SVIs; IP addressing: "overlaps with" refusal), and the practice of sending a
management move as one block, with the new path built first.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from unitctl.network.ios import ALL_VLANS, ALLOWED_LINE, vlan_set

_SVI = re.compile(r"^interface Vlan(\d+)$", re.IGNORECASE)
_ADDRESS = re.compile(r"^ip address (\S+) (\S+)$")


@dataclass
class Port:
    """A physical port as far as carrying VLANs goes."""

    name: str
    mode: str = "access"          # access, trunk (dynamic modes count as access)
    access_vlan: int = 1
    allowed: set[int] | None = None   # trunk: None allows every VLAN
    native_vlan: int = 1
    shutdown: bool = False
    routed: bool = False          # `no switchport`: a layer 3 port carries no VLAN

    def carries(self, vlan: int) -> bool:
        if self.shutdown or self.routed:
            return False
        if self.mode == "trunk":
            return self.allowed is None or vlan in self.allowed
        return self.access_vlan == vlan


@dataclass
class Path:
    """How the device's management address is reached: its SVI, that SVI's VLAN, and the ports
    that carry the VLAN."""

    address: str
    svi: str                       # "interface Vlan99" as the config names it
    vlan: int
    carriers: list[str] = field(default_factory=list)
    mask: str = "255.255.255.255"


@dataclass
class PushPlan:
    now: list[str]                 # sent first, as a normal push
    switchover: list[str]          # then sent in one write: the address moves to its new SVI
    held: list[str]                # would cut the path as it stands: sent after a new read
    waiting: str = ""              # why the switch-over is not made yet (the new path not ready)

    @property
    def blocked(self) -> bool:
        """Nothing can be sent, yet something is left: only lines that cut the path."""
        return not self.now and not self.switchover and bool(self.held)


def vlan_list(text: str) -> set[int]:
    """`10,20,30-32` -> {10, 20, 30, 31, 32} (ios.vlan_set: netutils); empty when malformed."""
    try:
        return set(vlan_set(text))
    except ValueError:
        return set()


def _blocks(text: str) -> list[list[str]]:
    result: list[list[str]] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("!"):
            continue
        if line[:1].isspace() and result:
            result[-1].append(line.strip())
        else:
            result.append([line.strip()])
    return result


def canonical(line: str) -> str:
    """An `interface` line with IOS's full interface name (netutils: `Gi1/0/48` ->
    `GigabitEthernet1/0/48`, `vlan99` -> `Vlan99`); any other line as it is."""
    if not line.lower().startswith("interface "):
        return line
    from netutils.interface import canonical_interface_name  # noqa: PLC0415  (only when needed)

    name = canonical_interface_name(line.split(None, 1)[1].strip())
    return "interface " + re.sub(r"^VLAN(?=\d)", "Vlan", name, flags=re.IGNORECASE)


def _number(word: str) -> int | None:
    return int(word) if word.isdigit() else None   # `switchport access vlan dynamic`, a name


def _apply(port: Port, child: str) -> None:
    """What one interface line does to the VLANs a port carries."""
    words = child.split()
    if child == "no switchport":
        port.routed = True
    elif child == "switchport":
        port.routed = False
    elif child == "shutdown":
        port.shutdown = True
    elif child == "no shutdown":
        port.shutdown = False
    elif child.startswith("switchport mode "):
        port.mode = "trunk" if words[2] == "trunk" else "access"
    elif child.startswith("no switchport mode"):
        port.mode = "access"
    elif child.startswith("switchport access vlan "):
        port.access_vlan = _number(words[3]) or 0
    elif child.startswith("no switchport access vlan"):
        port.access_vlan = 1
    elif child.startswith("switchport trunk native vlan "):
        port.native_vlan = _number(words[4]) or 0
    elif child.startswith("no switchport trunk native vlan"):
        port.native_vlan = 1
    elif child.startswith("no switchport trunk allowed vlan"):
        port.allowed = None        # IOS: every VLAN allowed again
    elif (allowed := ALLOWED_LINE.match(child)) is not None:
        operation, value = allowed.groups()
        every = set(ALL_VLANS)
        listed = vlan_list(value)
        current = every if port.allowed is None else port.allowed
        port.allowed = {None: listed, "add": current | listed, "remove": current - listed,
                        "except": every - listed}[operation]


def ports(config: str) -> dict[str, Port]:
    """The physical ports of an IOS config and the VLANs each carries, by interface line."""
    result = {}
    for block in _blocks(config):
        top = canonical(block[0])
        if not top.startswith("interface ") or _SVI.match(top):
            continue
        port = Port(top)
        for child in block[1:]:
            _apply(port, child)
        result[top] = port
    return result


def path_of(config: str, address: str) -> Path | None:
    """The path to `address` in an IOS config: the SVI holding it (not shut down), or None."""
    for block in _blocks(config):
        top = canonical(block[0])
        svi = _SVI.match(top)
        if svi is None or "shutdown" in block[1:]:
            continue
        for child in block[1:]:
            found = _ADDRESS.match(child)
            if found and found.group(1) == address:
                vlan = int(svi.group(1))
                return Path(address, top, vlan, carriers_of(ports(config), vlan), found.group(2))
    return None


def carriers_of(all_ports: dict[str, Port], vlan: int) -> list[str]:
    """The ports that may carry the toolkit's traffic for `vlan`: the trunks carrying it when there
    are any (an uplink to a core switch or router is a trunk; a desk in the management VLAN is
    not the way in), else every port carrying it (a switch staged on VLAN 1, reached through an
    access port)."""
    carrying = {name: port for name, port in all_ports.items() if port.carries(vlan)}
    trunks = [name for name, port in carrying.items() if port.mode == "trunk"]
    return trunks or list(carrying)


def svi_address(config: str, svi: str) -> tuple[str, str] | None:
    """The (address, mask) an SVI's block sets in `config`, or None."""
    for block in _blocks(config):
        if canonical(block[0]) == svi:
            for child in block[1:]:
                if (found := _ADDRESS.match(child)) is not None:
                    return found.group(1), found.group(2)
    return None


def vlan_exists(config: str, vlan: int) -> bool:
    """Whether `vlan` is defined in a config that lists its VLANs (VTP transparent), or is VLAN 1."""
    return vlan == 1 or any(_vlan_line_lists(block[0], vlan) for block in _blocks(config))


def _vlan_line_lists(line: str, vlan: int) -> bool:
    match = re.match(r"^vlan ([\d,-]+)$", line)
    return bool(match) and vlan in vlan_list(match.group(1))


def _groups(commands: list[str]) -> list[list[str]]:
    """Remediation commands as top-level lines, each with its indented children."""
    groups: list[list[str]] = []
    for command in commands:
        if command[:1].isspace() and groups:
            groups[-1].append(command)
        else:
            groups.append([command])
    return groups


def _cuts(path: Path, group: list[str], carriers_left: set[str], running_ports: dict[str, Port],
          gateway_needed: bool) -> list[int]:
    """Indexes in `group` (0: its top line) of the lines that cut `path`. `gateway_needed`: the
    toolkit is off the management subnet and the remediation sets no default gateway again, so
    removing it cuts the way back."""
    top, children = canonical(group[0].strip()), [line.strip() for line in group[1:]]
    if top == f"no {path.svi}":
        return [0]
    negated_vlan = re.match(r"^no vlan ([\d,-]+)$", top)
    if negated_vlan and path.vlan in vlan_list(negated_vlan.group(1)):
        return [0]
    if top.startswith("no ip default-gateway") and gateway_needed:
        return [0]
    cutting = []
    if top == path.svi:
        for index, child in enumerate(children, start=1):
            address = _ADDRESS.match(child)
            if child == "shutdown" or child.startswith("no ip address") or (
                    child.startswith("ip address") and (address is None or address.group(1) != path.address)):
                cutting.append(index)
    elif _vlan_line_lists(top, path.vlan):
        cutting = [index for index, child in enumerate(children, start=1)
                   if child in ("shutdown", "state suspend")]
    elif top in running_ports and top in carriers_left:
        port = Port(**vars(running_ports[top]))
        for index, child in enumerate(children, start=1):
            before = Port(**vars(port))
            _apply(port, child)
            # the management VLAN going on or off the native (untagged) VLAN of the way in
            native = path.vlan in (before.native_vlan, port.native_vlan) and before.native_vlan != port.native_vlan
            if native or (not port.carries(path.vlan) and carriers_left == {top}):
                cutting.append(index)
                port = before  # the line is held: the port stays as it was
        if not cutting and not port.carries(path.vlan):
            carriers_left.discard(top)
    return cutting


def plan(running: str, intended: str, commands: list[str], address: str, peer: str | None = None) -> PushPlan:
    """Split a remediation (in send order, children indented) into now, switch-over and held,
    for a device reached at `address` from `peer` (the toolkit's own address as the device sees
    it; None: unknown, taken as off-subnet). Without a path in `running` (a switch reached by its
    console, or an address the config does not hold) everything is sent now."""
    path = path_of(running, address)
    if path is None:
        return PushPlan(list(commands), [], [])
    running_ports = ports(running)
    carriers_left = set(path.carriers)
    new_path = path_of(intended, address)
    moving = new_path is not None and new_path.svi != path.svi
    waiting = _not_ready(running, new_path, path) if moving else ""
    on_subnet = peer is not None and ipaddress.ip_address(peer) in ipaddress.ip_network(
        f"{path.address}/{path.mask}", strict=False)
    gateway_needed = not on_subnet and not any(command.startswith("ip default-gateway ") for command in commands)
    now: list[str] = []
    held: list[str] = []
    switchover: list[str] = []
    for group in _groups(commands):
        cutting = set(_cuts(path, group, carriers_left, running_ports, gateway_needed))
        if 0 in cutting:
            held.extend(group)
            continue
        sent, kept = [group[0]], [group[0]]
        for index, line in enumerate(group[1:], start=1):
            moved_here = moving and canonical(group[0].strip()) == new_path.svi and _ADDRESS.match(line.strip())
            if moved_here and _ADDRESS.match(line.strip()).group(1) == address:
                if waiting:
                    kept.append(line)
                else:
                    switchover = [path.svi, " no ip address", new_path.svi, line]
            elif index in cutting:
                kept.append(line)
            else:
                sent.append(line)
        # a block whose every line is held is not opened for its `exit` alone
        if len(group) == 1 or any(line.strip() != "exit" for line in sent[1:]):
            now.extend(sent)
        if len(kept) > 1:
            held.extend(kept)
    return PushPlan(now, switchover, held, waiting)


def _not_ready(running: str, new_path: Path, old_path: Path) -> str:
    """Why the address cannot move to `new_path`'s SVI yet, as `running` stands ("" when it can):
    the SVI must exist and be up, its VLAN exist, a port that may be the way in (carriers_of)
    carry it, and no SVI but the old one hold an address in the subnet (IOS would refuse it,
    after the old SVI had already lost the address)."""
    blocks = {canonical(block[0]): block[1:] for block in _blocks(running)}
    vlan = new_path.vlan
    if new_path.svi not in blocks:
        return f"{new_path.svi} does not exist yet"
    if "shutdown" in blocks[new_path.svi]:
        return f"{new_path.svi} is shut down"
    if not vlan_exists(running, vlan):
        return f"VLAN {vlan} does not exist yet"
    all_ports = ports(running)
    if not carriers_of(all_ports, vlan) or (any(all_ports[name].mode == "trunk" for name in old_path.carriers)
                                           and all(all_ports[name].mode != "trunk"
                                                   for name in carriers_of(all_ports, vlan))):
        return f"no uplink that is up carries VLAN {vlan} (an uplink trunk's allowed VLANs?)"
    return ""

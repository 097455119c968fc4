"""Never cut the management path (issue: a management VLAN move must not lose the device).

The planner (unitctl.network.management_path) on small IOS configs, then whole pushes through
unitctl.network.operations against the lab's Catalyst model, reached as over SSH at its
management address: the model drops a session whose path the lines it received have cut
(unitctl.lab.ios_switch.PathWatch), as a real switch's client would see it.
"""

from __future__ import annotations

import copy
import dataclasses
import re

import pytest

from unitctl import paths
from unitctl.lab.ios_switch import make_switch
from unitctl.network import load_targets, operations
from unitctl.network.management_path import path_of, plan, ports
from unitctl.network.platforms import IOS
from unitctl.network.session import DeviceError, SessionLost

ADDRESS = "192.0.2.2"
RUNNING_99 = """\
vlan 10
 name servers
vlan 99
 name management
interface GigabitEthernet1/0/1
 switchport access vlan 10
 switchport mode access
interface GigabitEthernet1/0/48
 switchport trunk allowed vlan 10,99
 switchport mode trunk
interface Vlan1
 no ip address
 shutdown
interface Vlan99
 description management
 ip address 192.0.2.2 255.255.255.0
ip default-gateway 192.0.2.1
"""
INTENDED_199 = RUNNING_99.replace("vlan 99\n", "vlan 199\n").replace("10,99", "10,199") \
    .replace("interface Vlan99", "interface Vlan199")


def test_the_path_is_the_svi_holding_the_address_and_the_ports_carrying_its_vlan():
    path = path_of(RUNNING_99, ADDRESS)
    assert (path.svi, path.vlan, path.carriers) == ("interface Vlan99", 99, ["interface GigabitEthernet1/0/48"])
    assert path_of(RUNNING_99, "192.0.2.3") is None
    assert path_of(RUNNING_99.replace(" description management\n", " shutdown\n"), ADDRESS) is None
    trunk = ports(RUNNING_99)["interface GigabitEthernet1/0/48"]
    assert trunk.carries(99) and not trunk.carries(20)


def test_a_management_vlan_move_builds_the_new_path_switches_over_then_removes_the_old():
    commands = IOS.remediate(RUNNING_99, INTENDED_199)
    # hier_config alone would start by cutting the path
    assert commands.index("no interface Vlan99") < commands.index("interface Vlan199")
    build = plan(RUNNING_99, INTENDED_199, commands, ADDRESS)
    assert "no vlan 99" in build.held and "no interface Vlan99" in build.held
    assert " switchport trunk allowed vlan remove 99" in build.held
    assert "vlan 199" in build.now and " switchport trunk allowed vlan add 199" in build.now
    assert "interface Vlan199" in build.now and " description management" in build.now
    assert not any("ip address" in line for line in build.now) and not build.switchover
    assert build.waiting == "interface Vlan199 does not exist yet"
    # read again once the new VLAN, its carrying and the SVI are in place: the address moves
    built = RUNNING_99.replace("vlan 99\n", "vlan 99\n name management\nvlan 199\n").replace("10,99", "10,99,199") \
        + "interface Vlan199\n description management\n"
    switch = plan(built, INTENDED_199, IOS.remediate(built, INTENDED_199), ADDRESS)
    assert switch.switchover == ["interface Vlan99", " no ip address", "interface Vlan199",
                                 " ip address 192.0.2.2 255.255.255.0"]
    # and once it has moved, removing the old path cuts nothing
    moved_over = built.replace(" ip address 192.0.2.2 255.255.255.0\n", "") \
        + " ip address 192.0.2.2 255.255.255.0\n"
    tidy = plan(moved_over, INTENDED_199, IOS.remediate(moved_over, INTENDED_199), ADDRESS)
    assert not tidy.held and not tidy.switchover
    assert {"no vlan 99", "no interface Vlan99", " switchport trunk allowed vlan remove 99"} <= set(tidy.now)


def test_the_address_waits_until_its_new_vlan_is_carried():
    built = RUNNING_99 + "vlan 199\n name management\ninterface Vlan199\n description management\n"
    intended = INTENDED_199.replace("10,199", "10,99")   # the uplink was not given the new VLAN
    result = plan(built, intended, IOS.remediate(built, intended), ADDRESS)
    assert result.blocked and "no uplink that is up carries VLAN 199" in result.waiting


def test_taking_the_management_vlan_off_the_only_uplink_is_never_sent():
    intended = RUNNING_99.replace("10,99", "10")
    result = plan(RUNNING_99, intended, IOS.remediate(RUNNING_99, intended), ADDRESS)
    assert result.blocked and result.held == ["interface GigabitEthernet1/0/48",
                                              " switchport trunk allowed vlan remove 99"]
    # a second carrier makes it safe
    second_uplink = RUNNING_99 + "interface GigabitEthernet1/0/47\n switchport mode trunk\n"
    intended = second_uplink.replace("10,99", "10")
    assert not plan(second_uplink, intended, IOS.remediate(second_uplink, intended), ADDRESS).held


@pytest.mark.parametrize("change", [
    ("interface Vlan99\n description management\n", "interface Vlan99\n description management\n shutdown\n"),
    ("vlan 99\n name management\n", ""),
    ("interface GigabitEthernet1/0/48\n switchport trunk allowed vlan 10,99\n switchport mode trunk\n",
     "interface GigabitEthernet1/0/48\n switchport trunk allowed vlan 10,99\n switchport mode trunk\n shutdown\n"),
])
def test_every_way_of_cutting_the_path_is_held(change):
    intended = RUNNING_99.replace(*change)
    result = plan(RUNNING_99, intended, IOS.remediate(RUNNING_99, intended), ADDRESS)
    assert result.blocked, result


def test_without_a_path_everything_is_sent_as_it_is():
    commands = IOS.remediate("hostname sw1\n", INTENDED_199)
    assert plan("hostname sw1\n", INTENDED_199, commands, ADDRESS).now == commands


# --- whole pushes against the lab's Catalyst model ---------------------------------------------

# Made up here, as the vault would give them.
SECRETS = {"user": "netadmin", **{name: f"lab-{name}-1" for name in
                                  ("password", "enable_secret", "snmp_auth_password", "snmp_priv_password")}}


class ModelSession:
    """unitctl.network.session.Session's interface over the model, as netmiko drives a switch:
    each config line in a write of its own, the switch-over's lines in one."""

    core = None
    opened = 0

    def __init__(self, target):
        self.target = target

    def __enter__(self):
        ModelSession.opened += 1
        try:
            self.console = self.core.console(user="netadmin", address=self.target.host["address"])
        except ConnectionError as error:
            raise DeviceError(f"cannot open a session: {error}") from None
        self.console.send("enable", SECRETS["enable_secret"])
        return self

    def __exit__(self, *exc):
        return None

    def _send(self, *lines, method="send"):
        try:
            return getattr(self.console, method)(*lines)
        except ConnectionError as error:
            raise DeviceError(f"sending the config failed: {error}") from None

    def running(self):
        return self._send("show running-config", method="run")

    def show(self, command):
        return self._send(command, method="run")

    def configure(self, commands):
        output = self._send("configure terminal")
        for command in commands:
            output += "".join(self._send(line) for line in command.split("\n"))
            if self.console.path.cut:
                raise DeviceError(f"sending the config failed: the session ended after '{command}'")
        rejected = [line for line in output.splitlines() if re.search(IOS.error_pattern, line)]
        self._send("end")
        if rejected:
            raise DeviceError(f"the device rejected a command: {rejected}")
        return output

    def configure_at_once(self, commands):
        output = self._send("configure terminal") + self._send(*commands)
        if self.console.path.cut:
            raise SessionLost("the session ended during the switch-over")
        self._send("end")
        return output

    def save(self):
        self._send("write memory")

    def local_address(self):
        return "10.213.0.1"   # the lab's controller, off the switches' management subnets


@pytest.fixture
def lab_switch(monkeypatch):
    target = next(t for t in load_targets(paths.LAB_INVENTORY) if t.name == "court-sw1")
    target = dataclasses.replace(target, settings={**target.settings, **SECRETS})
    core = make_switch("court-sw1", SECRETS["enable_secret"], management=f"{target.host['address']} 255.255.255.0",
                       gateway="10.213.23.1")
    monkeypatch.setattr(ModelSession, "core", core)
    monkeypatch.setattr(ModelSession, "opened", 0)
    monkeypatch.setattr(operations, "Session", ModelSession)
    return target


def moved(target, new_vlan: int = 199, carry: bool = True):
    """The target with its management VLAN renumbered (same subnet, same address)."""
    addressing = copy.deepcopy(target.addressing)
    old = next(vlan for vlan in addressing["vlans"] if vlan.get("purpose") == "management")
    old_id, old["id"] = old["id"], new_vlan
    host = copy.deepcopy(target.host)
    host["vlan"] = new_vlan
    for port in host.get("ports", []):
        if carry and old_id in port.get("vlans", []):
            port["vlans"] = sorted({*port["vlans"], new_vlan} - {old_id})
    return dataclasses.replace(target, addressing=addressing, host=host)


def svi_with(core, address: str) -> str:
    svis = [port.name for port in core.switch_configuration.ports
            if getattr(port, "ips", None) and any(str(ip.ip) == address for ip in port.ips)]
    return svis[0] if svis else ""


def test_a_naive_push_would_cut_the_session():
    core = make_switch("sw1", "s", management=f"{ADDRESS} 255.255.255.0")
    console = core.console(user="admin", address=ADDRESS)
    console.send("enable", "s")
    console.send("configure terminal", "interface Vlan1", "shutdown")
    assert console.path.cut
    with pytest.raises(ConnectionError):
        console.send("end")


def test_a_staged_switch_is_moved_from_vlan_1_to_its_management_vlan_without_losing_it(lab_switch):
    core = ModelSession.core
    assert svi_with(core, lab_switch.host["address"]) == "Vlan1"
    result = operations.push_one(lab_switch)
    assert result.ok and result.changed, result.message
    assert svi_with(core, lab_switch.host["address"]) == "Vlan99"
    assert ModelSession.opened >= 1
    again = operations.push_one(lab_switch)
    assert again.ok and not again.changed and not again.lines, again.lines


def test_a_management_vlan_move_completes_without_losing_the_device(lab_switch):
    assert operations.push_one(lab_switch).ok
    result = operations.push_one(moved(lab_switch))
    assert result.ok and result.changed, result.message
    core = ModelSession.core
    assert svi_with(core, lab_switch.host["address"]) == "Vlan199"
    assert core.switch_configuration.get_vlan(99) is None
    assert not operations.push_one(moved(lab_switch)).lines
    back = operations.push_one(lab_switch)  # and back again
    assert back.ok, back.message
    assert svi_with(core, lab_switch.host["address"]) == "Vlan99"


def test_a_move_to_a_vlan_the_uplink_does_not_carry_is_refused_and_rolled_back(lab_switch):
    assert operations.push_one(lab_switch).ok
    before = ModelSession.core.running_config()
    result = operations.push_one(moved(lab_switch, carry=False))
    assert not result.ok
    assert "would cut the management path" in result.message, result.message
    assert "no uplink that is up carries VLAN 199" in result.message, result.message
    assert "rolled back: the device is as it was before the push" in result.message, result.message
    assert svi_with(ModelSession.core, lab_switch.host["address"]) == "Vlan99"
    assert ModelSession.core.running_config().split("\n", 3)[3] == before.split("\n", 3)[3]


def test_a_rejected_push_is_rolled_back_snmpv3_users_included(lab_switch):
    """IOS refuses a VLAN name of two words after the management plane (its SNMPv3 user
    included) was sent: the roll-back takes the user away too, so "rolled back" is true."""
    core = ModelSession.core
    vlans = [dict(vlan, name="two words") if vlan["id"] == 999 else vlan for vlan in lab_switch.addressing["vlans"]]
    rejecting = dataclasses.replace(lab_switch, addressing={**lab_switch.addressing, "vlans": vlans})
    result = operations.push_one(rejecting)
    assert not result.ok and "Invalid input detected" in result.message, result.message
    assert "rolled back: the device is as it was before the push" in result.message, result.message
    assert not core.config.snmp_users
    assert svi_with(core, lab_switch.host["address"]) == "Vlan1"


TWO_PORTS = RUNNING_99 + "interface GigabitEthernet1/0/2\n switchport access vlan 99\n switchport mode access\n"


def test_a_desk_port_in_the_management_vlan_is_not_the_way_in():
    """A technician's access port in VLAN 99 does not make the only trunk dispensable."""
    intended = TWO_PORTS.replace("10,99", "10")
    result = plan(TWO_PORTS, intended, IOS.remediate(TWO_PORTS, intended), ADDRESS)
    assert result.blocked and " switchport trunk allowed vlan remove 99" in result.held


@pytest.mark.parametrize("change", [
    # the only uplink made a routed port
    (" switchport mode trunk\n", " switchport mode trunk\n no switchport\n"),
    # the management VLAN becomes the uplink's native (untagged) VLAN
    (" switchport mode trunk\n", " switchport mode trunk\n switchport trunk native vlan 99\n"),
    # the default gateway goes, with nothing in its place, and the toolkit is off-subnet
    ("ip default-gateway 192.0.2.1\n", "ip route 0.0.0.0 0.0.0.0 192.0.2.1\n"),
])
def test_more_ways_of_cutting_the_path_are_held(change):
    intended = RUNNING_99.replace(*change)
    result = plan(RUNNING_99, intended, IOS.remediate(RUNNING_99, intended), ADDRESS, peer="198.51.100.7")
    assert result.held, result
    assert not any(line.strip() in ("no switchport", "switchport trunk native vlan 99") or
                   line.startswith("no ip default-gateway") for line in result.now), result.now


def test_removing_the_gateway_is_safe_from_the_management_subnet():
    intended = RUNNING_99.replace("ip default-gateway 192.0.2.1\n", "")
    assert not plan(RUNNING_99, intended, IOS.remediate(RUNNING_99, intended), ADDRESS, peer="192.0.2.50").held


def test_abbreviated_interface_names_are_the_same_interfaces():
    running = RUNNING_99.replace("interface GigabitEthernet1/0/48", "interface Gi1/0/48")
    intended = RUNNING_99.replace("10,99", "10")
    assert path_of(running, ADDRESS).carriers == ["interface GigabitEthernet1/0/48"]
    commands = ["interface Gi1/0/48", " switchport trunk allowed vlan remove 99", " exit"]
    assert plan(running, intended, commands, ADDRESS).blocked
    assert path_of(RUNNING_99.replace("interface Vlan99", "interface vlan99"), ADDRESS).svi == "interface Vlan99"


def test_a_dynamic_access_vlan_is_read_not_a_crash():
    running = RUNNING_99 + "interface GigabitEthernet1/0/3\n switchport access vlan dynamic\n"
    assert path_of(running, ADDRESS).vlan == 99

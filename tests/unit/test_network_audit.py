"""The NET compliance checks' logic (unitctl.network.audit), offline: a sample switch's config as
a device would show it, then with one promise broken at a time. The checks against the lab's
emulated switches are in tests/integration/test_network.py."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from unitctl.network import audit, load_targets, render
from unitctl.network.platforms import IOS
from unitctl.paths import INVENTORY_DIR

ALL_IOS_SECTIONS = ["hostname", "management", "spanning_tree", "vlans", "interfaces", "port_protection", "routes"]
LAB_SECTIONS = ["vlans", "interfaces", "routes"]
# Dummy credentials, made up here (as the vault would give real ones).
SECRETS = {"user": "netadmin", **{name: f"dummy-{name}-42" for name in
                                  ("password", "enable_secret", "snmp_auth_password", "snmp_priv_password")}}


@pytest.fixture(scope="module")
def switch():
    """qom-court-sw2 (an access switch), with credentials as the vault would give them."""
    target = {t.name: t for t in load_targets(INVENTORY_DIR / "qom.unitctl.yml")}["qom-court-sw2"]
    return dataclasses.replace(target, settings={**target.settings, **SECRETS})


VTY = "line vty 0 15\n login local\n transport input ssh\n"
# The SNMPv3 user of the intended config, as `show snmp user` lists it.
SNMP_USERS = """\
User name: unitctl-monitor
Engine ID: 800000090300AABBCCDDEE00
storage-type: nonvolatile\t active
Authentication Protocol: SHA
Privacy Protocol: AES128
Group-name: unitctl-ro

"""


def as_device_shows(target) -> str:
    """The intended config as IOS prints it back: a header, secrets stored hashed, no default
    (`logging trap informational`) and no SNMPv3 user (IOS shows neither in the running config),
    the VTY lines in the two blocks IOS keeps them in (`line vty 0 4`, `line vty 5 15`)."""
    text = render(target)
    text = re.sub(r"secret dummy-\S+", r"secret 9 $9$hashedvalue", text)
    text = re.sub(r"(?m)^(logging trap informational|snmp-server user .*)\n", "", text)
    text = edited(text, VTY, VTY.replace("0 15", "0 4") + VTY.replace("0 15", "5 15"))
    return ("Building configuration...\n\nCurrent configuration : 4242 bytes\n!\n"
            "! Last configuration change at 10:01:02 UTC Sat Nov 1 2025 by netadmin\n!\nversion 15.2\n" + text)


def facts(target, running: str, managed=None, reason: str = "", shown=None) -> audit.DeviceFacts:
    settings = {**target.settings, "managed_sections": {"ios": managed or ALL_IOS_SECTIONS}}
    if reason:
        settings["unmanaged_reason"] = reason
    return audit.facts_of(dataclasses.replace(target, settings=settings), running, shown=shown)


def edited(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def all_problems(device: audit.DeviceFacts) -> dict[str, list[str]]:
    return {
        "vlans": audit.vlan_problems(IOS, device),
        "used_ports": audit.used_port_problems(IOS, device),
        "unused_ports": audit.unused_port_problems(IOS, device),
        "hostname": audit.hostname_problems(IOS, device),
        "management": audit.missing_lines(IOS, device, r"^(ip ssh |no ip http|line |username |enable secret )"),
        "time_logging": audit.missing_lines(IOS, device, r"^(ntp server |logging )"),
        "snmp": audit.missing_lines(IOS, device, r"^snmp-server "),
        "banner": audit.banner_problems(IOS, device),
        "spanning_tree": audit.missing_lines(IOS, device, r"^(spanning-tree |interface )"),
    }


def test_a_device_as_intended_has_no_problem_and_no_drift(switch):
    device = facts(switch, as_device_shows(switch), shown={"show snmp user": SNMP_USERS})
    assert device.reachable and device.remediation == []
    assert all(problems == [] for problems in all_problems(device).values()), all_problems(device)
    assert audit.snmp_user_problems(IOS, device) == []
    assert "dummy-" not in json.dumps(device.as_dict()) and "$9$" not in device.running  # secrets masked
    assert audit.DeviceFacts.from_dict(json.loads(json.dumps(device.as_dict()))) == device


def test_plan_of_ports_and_vlans(switch):
    device = facts(switch, as_device_shows(switch))
    ports = {port["port"]: port for port in device.ports}
    assert ports["GigabitEthernet0/1"]["vlan"] == 20 and not ports["GigabitEthernet0/1"]["shutdown"]
    assert ports["GigabitEthernet0/7"] == {**ports["GigabitEthernet0/7"], "shutdown": True, "vlan": 999}
    assert device.dead_vlan == 999 and {"id": 20, "name": "cms-clients"} in device.vlans


def test_missing_and_misnamed_vlans(switch):
    running = edited(edited(as_device_shows(switch), "vlan 30\n name printers\n", ""),
                     "vlan 20\n name cms-clients", "vlan 20\n name clients")
    assert audit.vlan_problems(IOS, facts(switch, running)) == [
        "vlan 20 is named 'clients', the addressing plan says 'cms-clients'",
        "vlan 30 (printers) of the addressing plan is missing"]


def test_a_used_port_moved_or_shut(switch):
    running = edited(as_device_shows(switch), "description qom-court-ws01\n switchport access vlan 20",
                     "description qom-court-ws01\n switchport access vlan 30")
    running = edited(running, "description qom-court-prn1\n switchport access vlan 30\n switchport mode access\n",
                     "description qom-court-prn1\n switchport access vlan 30\n switchport mode access\n shutdown\n")
    assert audit.used_port_problems(IOS, facts(switch, running)) == [
        "GigabitEthernet0/1: 'switchport access vlan 20' is missing (has 'switchport access vlan 30')",
        "GigabitEthernet0/4 (qom-court-prn1) is shut down"]


def test_a_trunk_missing_a_vlan(switch):
    running = edited(as_device_shows(switch), "switchport trunk allowed vlan 10,20,30,99",
                     "switchport trunk allowed vlan 10,20")
    assert audit.used_port_problems(IOS, facts(switch, running)) == [
        "GigabitEthernet0/24: 'switchport trunk allowed vlan 10,20,30,99' is missing "
        "(has 'switchport trunk allowed vlan 10,20')"]


def test_an_unused_port_left_open(switch):
    block = "interface GigabitEthernet0/7\n description unused\n switchport access vlan 999\n"
    running = edited(as_device_shows(switch), block, block.replace("999", "20"))
    running = edited(running, " switchport access vlan 20\n switchport mode access\n spanning-tree portfast\n"
                     " spanning-tree bpduguard enable\n shutdown\n!\ninterface GigabitEthernet0/8",
                     " switchport access vlan 20\n switchport mode access\n spanning-tree portfast\n"
                     " spanning-tree bpduguard enable\n!\ninterface GigabitEthernet0/8")
    assert audit.unused_port_problems(IOS, facts(switch, running)) == [
        "GigabitEthernet0/7 is unused but not shut down and not in the dead VLAN 999 ('switchport access vlan 20')"]


def test_management_plane_weakened(switch):
    running = edited(as_device_shows(switch), " transport input ssh", " transport input telnet ssh")
    running = edited(running, "ip ssh version 2\n", "ip http server\n")
    running = edited(running, "ntp server 10.25.16.10\n", "snmp-server community public RO\n")
    device = facts(switch, running)
    # IOS prints the intended `line vty 0 15` as `line vty 0 4` and `line vty 5 15`: the finding
    # names the printed block that lacks the line (it used to name the intended `line vty 0 15`,
    # which a real device never shows).
    assert audit.missing_lines(IOS, device, r"^(ip ssh |no ip http|line )") == [
        "missing: ip ssh version 2", "line vty 0 4: missing 'transport input ssh'"]
    assert audit.forbidden_lines(IOS, device, {r"^ip http (secure-)?server$": "web management is on",
                                               r"^transport input .*(telnet|all)": "telnet is allowed"}) == [
        "ip http server (web management is on)", "line vty 0 4: transport input telnet ssh (telnet is allowed)"]
    assert audit.missing_lines(IOS, device, r"^(ntp server |logging )") == ["missing: ntp server 10.25.16.10"]
    # the community string itself is masked in what the report shows
    assert audit.forbidden_lines(IOS, device, {r"^snmp-server community ": "clear-text"}) == [
        "snmp-server community <masked> RO (clear-text)"]


def test_hostname_and_banner(switch):
    running = edited(as_device_shows(switch), "hostname qom-court-sw2", "hostname Switch")
    running = edited(running, "Authorised staff", "Staff")
    device = facts(switch, running)
    assert audit.hostname_problems(IOS, device) == ["the hostname is 'Switch', the inventory name is 'qom-court-sw2'"]
    assert audit.banner_problems(IOS, device) == [
        "the login banner differs from the province's (Persian and English) text"]
    no_banner = re.sub(r"banner login \^C.*?\^C\n", "", as_device_shows(switch), flags=re.S)
    assert audit.banner_problems(IOS, facts(switch, no_banner)) == ["there is no login banner"]


def test_drift_evidence_is_the_remediation_shortened(switch):
    running = edited(as_device_shows(switch), "vlan 30\n name printers\n", "vlan 555\n name rogue\n")
    device = facts(switch, running)
    assert audit.drift_problems(device) == device.remediation
    assert "no vlan 555" in device.remediation and "vlan 30" in device.remediation
    long = dataclasses.replace(device, remediation=[f"line {n}" for n in range(30)])
    shown = audit.drift_problems(long, limit=20)
    assert shown[:20] == long.remediation[:20] and len(shown) == 21
    assert shown[-1] == "... and 10 more lines (`unitctl net diff -l qom-court-sw2` shows them all)"
    # The command to copy names the inventory the check ran on (quoted when it must be).
    assert audit.drift_problems(long, limit=20, inventory="inventory/qom.unitctl.yml")[-1] == (
        "... and 10 more lines (`unitctl net diff -i inventory/qom.unitctl.yml -l qom-court-sw2` shows them all)")
    assert "`unitctl net diff -i '/srv/my units/qom.unitctl.yml' -l qom-court-sw2`" in audit.drift_problems(
        long, limit=20, inventory="/srv/my units/qom.unitctl.yml")[-1]


def test_not_applicable_where_the_section_is_not_managed(switch):
    lab_like = facts(switch, as_device_shows(switch), managed=LAB_SECTIONS,
                     reason="the lab's switch emulator (fake-switches) rejects these commands")
    assert audit.not_applicable(lab_like, ("vlans",)) is None
    assert audit.not_applicable(lab_like, ("management",)) == (
        "the management section is not managed on qom-court-sw2 (network_managed_sections: vlans, interfaces, "
        "routes): the lab's switch emulator (fake-switches) rejects these commands")
    assert "spanning_tree, port_protection sections are" in audit.not_applicable(
        lab_like, ("spanning_tree", "port_protection"))
    router = dataclasses.replace(lab_like, platform="routeros")
    assert audit.not_applicable(router, ("vlans",)) == "this check reads ios configs; qom-court-sw2 is routeros"
    # only the managed sections count as drift: a lab-like device ignores its management plane
    bare = re.sub(r"(?m)^(ntp|logging|snmp-server) .*\n", "", as_device_shows(switch))
    assert facts(switch, bare, managed=LAB_SECTIONS).remediation == []
    assert facts(switch, bare).remediation != []


def test_a_device_that_did_not_answer(switch):
    device = audit.facts_of(switch, None, message="10.25.19.3 did not answer SSH within 30 s (unreachable?)")
    assert not device.reachable and device.running == "" and device.remediation is None
    assert "did not answer" in device.message
    with pytest.raises(ValueError, match="unknown"):
        audit.drift_problems(device)


def test_a_template_problem_leaves_the_device_answering_but_its_intent_unknown(switch):
    broken = dataclasses.replace(switch, host={k: v for k, v in switch.host.items() if k != "vlan"})
    device = audit.facts_of(broken, as_device_shows(switch))
    assert device.reachable and device.running and device.intended is None and device.remediation is None
    assert "template variable" in device.message and "qom-court-sw2" in device.message


def test_snmp_users_not_read_or_not_understood(switch):
    # where `show snmp user` was not read, NET-010 says so instead of passing
    assert audit.snmp_user_problems(IOS, facts(switch, as_device_shows(switch))) == [
        "the SNMPv3 users were not read (`show snmp user`)"]
    # an answer its ntc-template cannot read leaves the device's intent unknown (the checks are
    # in error), the other devices are still read
    device = facts(switch, as_device_shows(switch), shown={"show snmp user": "Translating \"snmp\"\n"})
    assert device.reachable and device.remediation is None and "`show snmp user` printed" in device.message
    with pytest.raises(ValueError, match="show snmp user"):
        audit.snmp_user_problems(IOS, device)

"""Network templates and remediation, offline: golden configs of the sample province and
hier_config remediation of the management-plane lines the lab's emulator does not support.

Regenerate the golden files after a deliberate template change: UPDATE_GOLDEN=1 pytest this file
(then read the diff before committing it).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import shutil
from pathlib import Path

import pytest

from unitctl.network import BackupRepository, MissingVariable, compare, load_targets, render
from unitctl.network.backup import backup_text
from unitctl.network.compare import UnsafeCommand, sendable
from unitctl.network.platforms import IOS, MASK, ROUTEROS, managed_config, mask_secrets
from unitctl.network.render import expand_ports, vlan_ranges
from unitctl.paths import INVENTORY_DIR

GOLDEN = Path(__file__).parent / "golden" / "network"
ALL_IOS_SECTIONS = ["hostname", "management", "spanning_tree", "vlans", "interfaces", "port_protection", "routes"]


@pytest.fixture(scope="module")
def sample():
    return {target.name: target for target in load_targets(INVENTORY_DIR / "qom.unitctl.yml")}


def test_a_vars_file_made_after_the_first_load_is_read(tmp_path):
    """In one process (the test suite; `unitctl lab up` writes the lab's vault after the unit tests
    loaded the lab), a group_vars file that appears later is read by the next load."""
    inventory = tmp_path / "inventory"
    shutil.copytree(INVENTORY_DIR, inventory, ignore=shutil.ignore_patterns("vault*.yml"))
    network = inventory / "group_vars" / "lab" / "network.yml"
    network.write_text(network.read_text().replace("network_timeout_s: 20\n", ""))
    first = {t.name: t for t in load_targets(inventory / "lab.unitctl.yml")}["court-sw1"]
    assert first.settings["timeout_s"] != 7  # the province's default, from group_vars/all
    (inventory / "group_vars" / "lab" / "timeouts.yml").write_text("---\nnetwork_timeout_s: 7\n")
    again = {t.name: t for t in load_targets(inventory / "lab.unitctl.yml")}["court-sw1"]
    assert again.settings["timeout_s"] == 7


def test_every_sample_device_matches_its_golden_config(sample):
    for name, target in sample.items():
        golden = GOLDEN / f"{name}.cfg"
        text = render(target)  # no vault here: every secret renders masked
        if os.environ.get("UPDATE_GOLDEN") == "1":
            GOLDEN.mkdir(parents=True, exist_ok=True)
            golden.write_text(text)
        assert text == golden.read_text(), f"{name} differs from {golden}"
    assert {path.stem for path in GOLDEN.glob("*.cfg")} == set(sample)


def test_sample_renders_without_secrets_and_masks_them(sample):
    text = render(sample["qom-court-sw2"])
    assert "username <masked> privilege 15 secret <masked>" in text
    assert "enable secret <masked>" in text
    assert not sample["qom-court-sw2"].secrets_available


def test_access_switch_promises(sample):
    text = render(sample["qom-court-sw2"])
    for line in ("hostname qom-court-sw2", "ip ssh version 2", "transport input ssh", "ntp server 10.25.16.10",
                 "logging host 10.25.0.10", "snmp-server group unitctl-ro v3 priv", "ip default-gateway 10.25.19.1",
                 "vlan 20\n name cms-clients", "interface Vlan99\n description management\n ip address 10.25.19.3 255.255.255.0"):
        assert line in text
    assert "transport input telnet" not in text and "transport input all" not in text
    assert "دسترسی فقط برای کارکنان مجاز" in text and "Authorised staff" in text
    # ports the inventory does not describe are shut and parked in the dead VLAN
    unused = text.split("interface GigabitEthernet0/7\n")[1].split("!")[0]
    assert unused == " description unused\n switchport access vlan 999\n switchport mode access\n" \
                     " spanning-tree portfast\n spanning-tree bpduguard enable\n shutdown\n"
    assert "interface GigabitEthernet0/1\n description qom-court-ws01\n switchport access vlan 20\n" in text
    assert "interface GigabitEthernet0/24\n description uplink to qom-court-sw1\n " \
           "switchport trunk allowed vlan 10,20,30,99\n switchport mode trunk\n!" in text


def test_core_switch_is_root_bridge(sample):
    assert "spanning-tree vlan 10,20,30,99,999 priority 4096" in render(sample["qom-court-sw1"])
    assert "priority 4096" not in render(sample["qom-court-sw2"])


def test_edge_router(sample):
    text = render(sample["qom-court-rtr1"])
    for line in ("set name=qom-court-rtr1", "add address=10.25.17.1/24 interface=vlan20-cms-clients",
                 "set telnet disabled=yes", "add action=drop chain=input", "remote=10.25.0.10 target=remote",
                 "add address=10.25.16.10", "authentication-password=<masked>"):
        assert line in text


def test_missing_variable_names_device_and_variable(sample):
    target = sample["qom-court-sw2"]
    broken = dataclasses.replace(target, host={k: v for k, v in target.host.items() if k != "vlan"})
    with pytest.raises(MissingVariable, match=r"qom-court-sw2: template variable 'management\.gateway' is missing"):
        render(broken)
    no_syslog = dataclasses.replace(target, settings={k: v for k, v in target.settings.items() if k != "syslog_server"})
    with pytest.raises(MissingVariable, match="'settings.syslog_server'"):
        render(no_syslog)


def test_helpers():
    assert vlan_ranges([30, 10, 11, 12, 99]) == "10-12,30,99"
    assert expand_ports(["Gi1/0/1-3", "sfp-sfpplus1"]) == ["Gi1/0/1", "Gi1/0/2", "Gi1/0/3", "sfp-sfpplus1"]


# --- remediation of what the emulator cannot show: offline, against hier_config -------------

RUNNING_IOS = """\
Building configuration...

Current configuration : 1234 bytes
! Last configuration change at 10:01:02 IRST Sat Nov 1 2025 by admin
! NVRAM config last updated at 10:01:05 IRST Sat Nov 1 2025
version 15.2
hostname qom-court-sw2
service timestamps log datetime msec localtime
ip ssh version 2
username netadmin privilege 15 secret 9 $9$abc$0123456789abcdef
enable secret 9 $9$def$fedcba9876543210
ntp server 10.25.16.99
ntp clock-period 36029056
logging host 10.25.0.10
snmp-server community public RO
line vty 0 15
 login local
 transport input telnet ssh
vlan 1
vlan 20
 name cms-clients
interface GigabitEthernet0/1
 switchport access vlan 20
 switchport mode access
end
"""


def test_management_plane_remediation(sample):
    target = dataclasses.replace(sample["qom-court-sw2"], settings={**sample["qom-court-sw2"].settings, "user": "netadmin"})
    comparison = compare(IOS, RUNNING_IOS, render(target), ALL_IOS_SECTIONS)
    commands = comparison.commands
    assert "no ntp server 10.25.16.99" in commands and "ntp server 10.25.16.10" in commands
    assert "no snmp-server community <masked> RO" in commands
    assert " transport input ssh" in commands
    # stored (hashed) secrets that are present are not a difference, and nothing is shown in clear
    assert not any(line.startswith(("username", "enable secret")) for line in commands)
    assert "$9$" not in "\n".join(commands + [comparison.before])
    # defaults and volatile lines are never a difference
    assert not any(line in ("vlan 1", "no vlan 1") or "clock-period" in line or line.startswith("version") for line in commands)


def test_lab_sections_leave_the_management_plane_alone(sample):
    lab_like = compare(IOS, RUNNING_IOS, render(sample["qom-court-sw2"]), ["vlans", "interfaces", "routes"])
    assert not any(line.startswith(("ntp", "no ntp", "snmp", "no snmp", "line", "logging", "hostname"))
                   for line in lab_like.commands)
    assert not any("spanning-tree" in line for line in lab_like.commands)
    assert "interface GigabitEthernet0/5" in lab_like.commands


def test_push_refuses_masked_secrets_and_unmasks_known_ones(sample):
    target = sample["qom-court-sw2"]
    intended = render(target)
    with pytest.raises(UnsafeCommand, match="not available"):
        sendable(IOS, ["username <masked> privilege 15 secret <masked>"], intended)
    with_secrets = dataclasses.replace(target, settings={**target.settings, "user": "netadmin", "password": "S3cret!",
                                                         "enable_secret": "En4ble", "snmp_auth_password": "a",
                                                         "snmp_priv_password": "p"})
    real = render(with_secrets)
    commands = compare(IOS, "hostname qom-court-sw2\n", real, ["management"]).commands
    assert "username netadmin privilege 15 secret <masked>" in commands
    assert "username netadmin privilege 15 secret S3cret!" in sendable(IOS, commands, real)


def test_routeros_diff_by_path_and_properties():
    """compare() takes RouterOS to unitctl.network.routeros_export: `www disabled=no` is RouterOS's
    default (no drift), a user the intent does not describe is drift for a person, never a secret."""
    intended = "/ip service\nset telnet disabled=yes\nset ssh port=22\n/system identity\nset name=r1\n"
    running = "# 2025-11-01 10:00:00 by RouterOS 7.15\n# software id = ABCD\n/ip service\nset ssh port=22\n" \
              "set www disabled=no\n/user\nadd name=x password=hunter2\n"
    comparison = compare(ROUTEROS, running, intended, ["services", "identity", "users"])
    assert comparison.commands == ["/ip service set telnet disabled=yes", "/system identity set name=r1"]
    assert comparison.extra == [f"not described by the intent (/user is in a managed section): /user add name=x "
                                f"password={MASK}"]
    assert "hunter2" not in "\n".join(comparison.lines())


def test_masking_and_volatile_lines():
    text = backup_text(IOS, RUNNING_IOS)
    assert "Last configuration change" not in text and "clock-period" not in text and "Current configuration" not in text
    assert "enable secret <masked>" in text and "snmp-server community <masked> RO" in text
    assert "username netadmin privilege 15 secret <masked>" in text
    assert mask_secrets(ROUTEROS, 'add name=u password="a b" group=full') == f"add name=u password={MASK} group=full\n"


def test_banner_stays_one_block(sample):
    managed = managed_config(IOS, render(sample["qom-court-sw2"]), ["management"])
    assert "banner login ^C\nدسترسی" in managed and "logged.\n^C\nline con 0" in managed


def test_backup_repository_commits_only_changes(tmp_path):
    repository = BackupRepository(tmp_path / "backups").ensure()
    assert repository.store("qom-court", "sw1", "hostname sw1\n")
    assert repository.commit("backup", [("qom-court", "sw1")])
    assert not repository.store("qom-court", "sw1", "hostname sw1\n")
    assert repository.commit("backup", []) is None
    log = subprocess.run(["git", "-C", str(repository.path), "log", "--format=%s"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert log == ["backup: qom-court: sw1"]

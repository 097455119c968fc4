"""Real Cisco IOS, offline: what a device prints and answers that the lab's lenient emulator does
not, and what the toolkit must make of it (unitctl.network.ios). Each test is one kind of fault,
with small configs as IOS prints them (documentation addresses 192.0.2.0/24, 198.51.100.0/24)
and the exact value expected:

1. every secret IOS prints is masked, names and numbers that are not secrets are kept, and a
   masked command is turned back into the real one from the right block;
2. header lines that change without a config change (a reload) never make a backup differ;
3. lines IOS never prints (defaults, SNMPv3 users) are not sent again and again, not expected
   by a verification or an audit; SNMPv3 users are checked through `show snmp user`;
4. a port's VLANs change by sending the new value: never `no switchport trunk allowed vlan`;
5. `line vty 0 15` is what IOS prints as `line vty 0 4` + `line vty 5 15`;
6. a banner is replaced by one command with a delimiter IOS reads right;
7. `%Warning` is reported, only real rejections fail a push;
and the Ansible module keeps every secret input out of its logs.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re

import pytest
import yaml

from unitctl import paths
from unitctl.network import audit, ios, load_targets, operations, render
from unitctl.network.backup import backup_text
from unitctl.network.compare import UnsafeCommand, compare, sendable
from unitctl.network.platforms import IOS, ROUTEROS, mask_line, mask_secrets, warnings
from unitctl.network.render import SECRET_SETTINGS
from unitctl.network.session import DeviceError, Session, command_groups

ALL = ["hostname", "management", "spanning_tree", "vlans", "interfaces", "port_protection", "routes"]


def masked(text: str) -> str:
    return mask_secrets(IOS, text).rstrip("\n")


# --- 1. secrets -----------------------------------------------------------------------------------

@pytest.mark.parametrize("line, expected", [
    # enable, with and without type digit and level
    ("enable secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM",
     "enable secret <masked>"),
    ("enable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0", "enable secret <masked>"),
    ("enable secret level 5 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0", "enable secret level 5 <masked>"),
    ("enable password 7 0822455D0A16", "enable password <masked>"),
    ("enable password Cl3ar text", "enable password <masked>"),
    # username: nothing between the name and `secret`, or privilege, algorithm-type, view before it
    ("username admin secret 9 $9$xyz$abcdefghijklmnop", "username admin secret <masked>"),
    ("username oper privilege 15 algorithm-type scrypt secret 9 $9$q",
     "username oper privilege 15 algorithm-type scrypt secret <masked>"),
    ("username ro privilege 1 view audit password 7 045802150C2E", "username ro privilege 1 view audit password <masked>"),
    ("username lab password 0 with spaces in it", "username lab password <masked>"),
    # line passwords (children of line con 0 / line vty)
    (" password 7 0822455D0A16", " password <masked>"),
    (" password linepass", " password <masked>"),
    # SNMP communities wherever they appear; RO/RW, view and ACL stay
    ("snmp-server community s3cr3tRO RO 10", "snmp-server community <masked> RO 10"),
    ("snmp-server community rw1 view v1 RW SNMP-ACL", "snmp-server community <masked> view v1 RW SNMP-ACL"),
    ("snmp-server host 192.0.2.30 version 2c pubtrap", "snmp-server host 192.0.2.30 version 2c <masked>"),
    ("snmp-server host 192.0.2.30 v1trap", "snmp-server host 192.0.2.30 <masked>"),
    ("snmp-server host 192.0.2.31 informs version 2c inf0rm udp-port 1162",
     "snmp-server host 192.0.2.31 informs version 2c <masked> udp-port 1162"),
    ("snmp-server host 192.0.2.32 vrf MGMT version 2c vrfcomm config",
     "snmp-server host 192.0.2.32 vrf MGMT version 2c <masked> config"),
    ("snmp-server host 192.0.2.33 traps version 1 trapcomm", "snmp-server host 192.0.2.33 traps version 1 <masked>"),
    ("snmp-server user mon grp v3 auth sha authpass1 priv aes 128 privpass1",
     "snmp-server user mon grp v3 auth sha <masked> priv aes 128 <masked>"),
    ("snmp-server user mon grp v3 encrypted auth md5 0A0B0C priv des 0D0E0F access 10",
     "snmp-server user mon grp v3 encrypted auth md5 <masked> priv des <masked> access 10"),
    # AAA server keys
    ("tacacs-server key 7 060506324F41", "tacacs-server key <masked>"),
    ("radius-server key radkey", "radius-server key <masked>"),
    ("radius-server host 192.0.2.5 auth-port 1645 acct-port 1646 key 7 01100F175804",
     "radius-server host 192.0.2.5 auth-port 1645 acct-port 1646 key <masked>"),
    (" server-private 192.0.2.12 key 7 1511021F0725", " server-private 192.0.2.12 key <masked>"),
    # pre-shared keys: what follows the key stays
    ("crypto isakmp key 6 Ike$Hash address 192.0.2.1", "crypto isakmp key <masked> address 192.0.2.1"),
    ("crypto isakmp key plainIKE address 198.51.100.1 no-xauth", "crypto isakmp key <masked> address 198.51.100.1 no-xauth"),
    (" pre-shared-key address 192.0.2.2 key 6 kr$hash", " pre-shared-key address 192.0.2.2 key <masked>"),
    ("  pre-shared-key local 6 loc$hash", "  pre-shared-key local <masked>"),
    ("  pre-shared-key plainpsk", "  pre-shared-key <masked>"),
    # routing authentication
    (" ip ospf authentication-key 7 1511021F0725", " ip ospf authentication-key <masked>"),
    (" ip ospf message-digest-key 1 md5 7 0822455D0A16", " ip ospf message-digest-key 1 md5 <masked>"),
    (" area 0 virtual-link 192.0.2.7 message-digest-key 2 md5 vlkey", " area 0 virtual-link 192.0.2.7 message-digest-key 2 md5 <masked>"),
    (" neighbor 192.0.2.1 password 7 0822455D0A16", " neighbor 192.0.2.1 password <masked>"),
    (" neighbor PEERS password bgp pass", " neighbor PEERS password <masked>"),
    # first-hop redundancy
    (" standby 1 authentication md5 key-string 7 01100F175804 timeout 30",
     " standby 1 authentication md5 key-string <masked> timeout 30"),
    (" standby 1 authentication hsrpplain", " standby 1 authentication <masked>"),
    (" standby 1 authentication text hsrpplain", " standby 1 authentication <masked>"),
    (" vrrp 1 authentication text vrrptext", " vrrp 1 authentication <masked>"),
    (" vrrp 2 authentication md5 key-string 7 0822455D0A16", " vrrp 2 authentication md5 key-string <masked>"),
    # key chains, PPP, wireless, NTP
    ("  key-string 7 060506324F41", "  key-string <masked>"),
    (" ppp chap password 7 0822455D0A16", " ppp chap password <masked>"),
    (" wpa-psk ascii 7 0822455D0A16", " wpa-psk ascii <masked>"),
    ("ntp authentication-key 1 md5 0822455D0A16 7", "ntp authentication-key 1 md5 <masked>"),
    ("key config-key password-encrypt masterkey", "key config-key password-encrypt <masked>"),
    ("archive\n path ftp://backup:ftpPass@192.0.2.9/$h", "archive\n path ftp://backup:<masked>@192.0.2.9/$h"),
    # found by a newcomer trying to break the masking
    ("crypto isakmp client configuration group VPNGRP\n key 6 EzVpnGroupKey",
     "crypto isakmp client configuration group VPNGRP\n key <masked>"),
    ("interface Vlan10\n ipv6 ospf authentication ipsec spi 500 md5 0123456789ABCDEF0123456789ABCDEF",
     "interface Vlan10\n ipv6 ospf authentication ipsec spi 500 md5 <masked>"),
    ("router ospfv3 1\n area 0 authentication ipsec spi 256 sha1 0123456789ABCDEF0123456789ABCDEF01234567",
     "router ospfv3 1\n area 0 authentication ipsec spi 256 sha1 <masked>"),
    ("router eigrp NAMED\n address-family ipv4 autonomous-system 1\n  af-interface default\n"
     "   authentication mode hmac-sha-256 7 EigrpHmacKey",
     "router eigrp NAMED\n address-family ipv4 autonomous-system 1\n  af-interface default\n"
     "   authentication mode hmac-sha-256 <masked>"),
    ("mpls ldp neighbor 192.0.2.70 password 7 LdpPass", "mpls ldp neighbor 192.0.2.70 password <masked>"),
    ("ip msdp password peer 192.0.2.71 7 MsdpPass", "ip msdp password peer 192.0.2.71 <masked>"),
    ("snmp mib community-map MapComm context ctx1", "snmp mib community-map <masked> context ctx1"),
    ("vtp password VtpSecret", "vtp password <masked>"),
])
def test_every_secret_ios_prints_is_masked(line, expected):
    assert masked(line) == expected


@pytest.mark.parametrize("line", [
    "key chain OSPF-KEYS", "key chain OSPF-KEYS\n key 1\n key 12",
    "snmp-server host 192.0.2.33 version 3 priv monitoruser",        # a v3 user name, not a secret
    "snmp-server host 192.0.2.34 informs version 3 auth monitoruser",
    "snmp-server group unitctl-ro v3 priv", "ip ssh version 2", "ip ssh time-out 60",
    "ip ssh authentication-retries 3", "username nop nopassword", "ntp trusted-key 1", "ntp authenticate",
    "interface Vlan10\n standby 3 authentication md5 key-chain HSRPCHAIN",  # a key chain's name
    "interface Vlan10\n ip rip authentication key-chain RIPKEYS",
    "service password-encryption", "banner login ^C\n password in a banner is text\n^C",
    "archive\n path tftp://192.0.2.9:69/cfg/$h@$t",   # a port and a path, then @: no userinfo (RFC 3986)
])
def test_names_and_numbers_that_are_not_secrets_are_kept(line):
    assert masked(line) == line


def test_a_key_is_a_secret_under_an_aaa_server_and_a_number_under_a_key_chain():
    text = ("tacacs server TAC1\n address ipv4 192.0.2.10\n key 7 070C285F4D06\n"
            "radius server RAD1\n address ipv4 192.0.2.11 auth-port 1812 acct-port 1813\n key 1234\n"
            "key chain OSPF-KEYS\n key 1\n  key-string 7 060506324F41\n")
    assert masked(text) == ("tacacs server TAC1\n address ipv4 192.0.2.10\n key <masked>\n"
                            "radius server RAD1\n address ipv4 192.0.2.11 auth-port 1812 acct-port 1813\n key <masked>\n"
                            "key chain OSPF-KEYS\n key 1\n  key-string <masked>")
    # a masked backup keeps every name: it can be restored once its secrets are filled in
    assert masked(masked(text)) == masked(text)


def test_routeros_secrets_and_communities():
    export = ("/user\nadd group=full name=admin password=hunter2\n"
              "/interface wireless security-profiles\nadd name=staff wpa2-pre-shared-key=Wifi2Pass wpa-pre-shared-key=WifiPass\n"
              "/ip ipsec identity\nadd peer=p1 secret=IpsecPsk\n/routing ospf interface-template\nadd auth-key=OspfKey\n"
              "/snmp community\nset [ find default=yes ] name=public\nadd addresses=192.0.2.0/24 name=monitor2c\n"
              "add authentication-password=AuthPw encryption-password=PrivPw name=v3user security=private\n"
              "/snmp\nset enabled=yes trap-community=trapcomm\n")
    assert mask_secrets(ROUTEROS, export) == (
        "/user\nadd group=full name=admin password=<masked>\n"
        "/interface wireless security-profiles\nadd name=staff wpa2-pre-shared-key=<masked> wpa-pre-shared-key=<masked>\n"
        "/ip ipsec identity\nadd peer=p1 secret=<masked>\n/routing ospf interface-template\nadd auth-key=<masked>\n"
        # v1/v2c: the community's name is what a manager must know to read the router: a secret;
        # a v3 community's name is a user name, kept (its passwords are masked)
        "/snmp community\nset [ find default=yes ] name=<masked>\nadd addresses=192.0.2.0/24 name=<masked>\n"
        "add authentication-password=<masked> encryption-password=<masked> name=v3user security=private\n"
        "/snmp\nset enabled=yes trap-community=<masked>\n")
    # found by a newcomer: dotted wifi names, RoMON, NTP and RIP keys, and a secret that /export
    # wrapped onto the next line (masked whole, the command joined)
    assert mask_secrets(ROUTEROS, (
        "/interface wifi\nadd configuration.ssid=Guest security.passphrase=\"Guest Pass 1\"\n"
        "set [ find default-name=wifi1 ] security.authentication-types=wpa2-psk .passphrase=StaffPass123\n"
        "/interface wireless security-profiles\nadd management-protection-key=MgmtProtKey1 name=p\n"
        "/tool romon\nset secrets=RomonSecret1,RomonSecret2\n/system ntp key\nadd key=NtpSecret key-id=1\n"
        "/interface wireguard\nadd name=wg1 private-key=\\\n    \"aGVsbG9TZWNyZXQ=\"\n"
        "/ppp secret\nadd name=u1 password=\"Very\\\n    SecretTail\" service=l2tp\n")) == (
        "/interface wifi\nadd configuration.ssid=Guest security.passphrase=<masked>\n"
        "set [ find default-name=wifi1 ] security.authentication-types=wpa2-psk .passphrase=<masked>\n"
        "/interface wireless security-profiles\nadd management-protection-key=<masked> name=p\n"
        "/tool romon\nset secrets=<masked>\n/system ntp key\nadd key=<masked> key-id=1\n"
        "/interface wireguard\nadd name=wg1 private-key=<masked>\n"
        "/ppp secret\nadd name=u1 password=<masked> service=l2tp\n")
    # the same rule on a flattened line (the form RouterOS diffs are made of)
    assert mask_line(ROUTEROS, "/snmp community add name=monitor2c") == "/snmp community add name=<masked>"
    assert mask_line(ROUTEROS, "/interface bridge add name=bridge-lan") == "/interface bridge add name=bridge-lan"


def test_a_masked_command_is_unmasked_from_its_own_block():
    running = "line con 0\n login local\nline vty 0 4\n login local\n"
    intended = "line con 0\n password ConPass1\n login local\nline vty 0 4\n password VtyPass2\n login local\n"
    commands = compare(IOS, running, intended, ALL).commands
    assert commands == ["line con 0", " password <masked>", " exit", "line vty 0 4", " password <masked>", " exit"]
    assert sendable(IOS, commands, intended, running) == [
        "line con 0", " password ConPass1", " exit", "line vty 0 4", " password VtyPass2", " exit"]


def test_a_removed_secret_line_is_sent_with_the_running_value_and_ambiguity_is_refused():
    running = "snmp-server community public RO\nsnmp-server community private RO\n"
    commands = compare(IOS, "snmp-server community old1 RW 10\n", "hostname sw1\n", ["management"]).commands
    assert commands == ["no snmp-server community <masked> RW 10"]
    assert sendable(IOS, commands, "hostname sw1\n", "snmp-server community old1 RW 10\n") == [
        "no snmp-server community old1 RW 10"]
    # two communities that differ only in their secret: which one a masked command means is unknown
    with pytest.raises(UnsafeCommand, match="ambiguous"):
        sendable(IOS, ["no snmp-server community <masked> RO"], "hostname sw1\n", running)
    with pytest.raises(UnsafeCommand, match="not available"):
        sendable(IOS, ["no snmp-server community <masked> RO"], "hostname sw1\n")


# --- 2. volatile lines ----------------------------------------------------------------------------

CONFIG = "version 15.2\nhostname sw1\n!\nntp server 192.0.2.123\n!\nend\n"


def test_a_reload_makes_no_backup_commit():
    before = ("Building configuration...\n\nCurrent configuration : 1234 bytes\n!\n"
              "! Last configuration change at 10:01:02 UTC Sat Nov 1 2025 by netadmin\n"
              "! NVRAM config last updated at 10:01:05 UTC Sat Nov 1 2025 by netadmin\n!\n" + CONFIG
              + "ntp clock-period 36029056\n")
    after_reload = ("Load for five secs: 5%/0%; one minute: 4%; five minutes: 4%\n"
                    "Time source is NTP, 08:00:00.123 UTC Sun Nov 2 2025\n\n"
                    "Building configuration...\n\nCurrent configuration : 1240 bytes\n!\n"
                    "! No configuration change since last restart\n"
                    "! NVRAM config last updated at 10:01:05 UTC Sat Nov 1 2025 by netadmin\n!\n" + CONFIG
                    + "ntp clock-period 36028997\n")
    assert backup_text(IOS, before) == backup_text(IOS, after_reload) == "!\n!\n" + CONFIG


# --- 3. lines IOS never prints --------------------------------------------------------------------

SNMP_USERS = """\
User name: monitor
Engine ID: 800000090300AABBCCDDEE00
storage-type: nonvolatile\t active
Authentication Protocol: SHA
Privacy Protocol: AES128
Group-name: ops

User name: legacy
Engine ID: 800000090300AABBCCDDEE00
storage-type: nonvolatile\t active\taccess-list: 10
Authentication Protocol: MD5
Privacy Protocol: None
Group-name: old

"""
MANAGEMENT = ("logging host 192.0.2.50\nlogging trap informational\nsnmp-server group ops v3 priv\n"
              "snmp-server user monitor ops v3 auth sha AuthPass1 priv aes 128 PrivPass1\n"
              "snmp-server host 192.0.2.51 version 3 priv monitor\n")
PRINTED = "logging host 192.0.2.50\nsnmp-server group ops v3 priv\nsnmp-server host 192.0.2.51 version 3 priv monitor\n"


def test_defaults_and_snmp_users_are_not_expected_in_the_running_config():
    assert compare(IOS, PRINTED, MANAGEMENT, ALL).commands == []  # a verification after a push passes
    # a running value other than the default is put back to the default (IOS: `no logging trap`)
    assert compare(IOS, PRINTED + "logging trap warnings\n", MANAGEMENT, ALL).commands == ["no logging trap warnings"]
    # an enabled port prints no `no shutdown`
    assert compare(IOS, "interface Gi0/1\n description a\n", "interface Gi0/1\n description a\n no shutdown\n",
                   ALL).commands == []


def test_snmp_users_are_checked_through_show_snmp_user():
    users = ios.parse_snmp_users(SNMP_USERS)
    assert [(u["user_name"], u["group_name"], u["authentication_protocol"], u["privacy_protocol"]) for u in users] == [
        ("monitor", "ops", "SHA", "AES128"), ("legacy", "old", "MD5", "None")]
    assert ios.missing_snmp_users(MANAGEMENT, users) == []
    assert ios.missing_snmp_users(MANAGEMENT, users[1:]) == ["SNMPv3 user monitor (group ops) is missing"]
    md5 = [{**users[0], "authentication_protocol": "MD5"}]
    assert ios.missing_snmp_users(MANAGEMENT, md5) == ["SNMPv3 user monitor has authentication 'MD5', intended 'SHA'"]
    # what a push sends: the user not intended removed, the intended one (re)made
    only_legacy = SNMP_USERS.split("\n\n", 1)[1]
    comparison = compare(IOS, PRINTED, MANAGEMENT, ALL, {"show snmp user": only_legacy})
    assert comparison.commands == ["no snmp-server user legacy old v3",
                                   "snmp-server user monitor ops v3 auth sha <masked> priv aes 128 <masked>"]
    assert sendable(IOS, comparison.commands, MANAGEMENT, PRINTED)[1] == \
        "snmp-server user monitor ops v3 auth sha AuthPass1 priv aes 128 PrivPass1"
    assert compare(IOS, PRINTED, MANAGEMENT, ALL, {"show snmp user": SNMP_USERS.split("\n\n")[0] + "\n"}).commands == []
    assert IOS.checks(ALL) == ["show snmp user"] and IOS.checks(["vlans", "interfaces"]) == []
    # no snmp-server line at all: IOS says so instead of listing users
    assert ios.parse_snmp_users("%SNMP agent not enabled\n") == []
    with pytest.raises(ValueError, match="show snmp user"):
        ios.parse_snmp_users("Translating \"snmp\"...domain server (255.255.255.255)\n")


# --- 4. a port's VLANs: the new value, never a negation -------------------------------------------

def trunk(*allowed: str, mode: str = "trunk") -> str:
    return "interface GigabitEthernet0/24\n" + "".join(f" switchport trunk allowed vlan {a}\n" for a in allowed) \
        + f" switchport mode {mode}\n"


def test_adding_a_vlan_to_a_trunk_sends_only_the_addition():
    assert compare(IOS, trunk("10,20,30,99,999"), trunk("10,20,30,40,99,999"), ALL).commands == [
        "interface GigabitEthernet0/24", " switchport trunk allowed vlan add 40", " exit"]
    assert compare(IOS, trunk("10,20,30,99,999"), trunk("10,20,99"), ALL).commands == [
        "interface GigabitEthernet0/24", " switchport trunk allowed vlan remove 30,999", " exit"]
    assert compare(IOS, trunk("10,20"), trunk("20,30"), ALL).commands == [
        "interface GigabitEthernet0/24", " switchport trunk allowed vlan add 30",
        " switchport trunk allowed vlan remove 10", " exit"]


def test_allowed_lists_compare_as_sets_with_ranges_and_wrapped_lines():
    assert compare(IOS, trunk("10,11,12,20"), trunk("10-12,20"), ALL).commands == []
    # IOS wraps a long list: the first line sets it, `add` lines continue it
    wrapped = trunk("1-3,5,6,100,102,104,106,108,110,112,114,116,118,120", "add 400,401,402")
    one_line = trunk("1,2,3,5,6,100,102,104,106,108,110,112,114,116,118,120,400-402")
    assert compare(IOS, wrapped, one_line, ALL).commands == []
    assert ios.allowed_vlans(wrapped.splitlines()) == frozenset([1, 2, 3, 5, 6, *range(100, 121, 2), 400, 401, 402])
    assert compare(IOS, wrapped, one_line.replace("400-402", "400-403"), ALL).commands == [
        "interface GigabitEthernet0/24", " switchport trunk allowed vlan add 403", " exit"]


def test_an_allowed_list_is_never_negated():
    for running, intended in ((trunk("10,20"), trunk(mode="trunk")), (trunk("10,20"), trunk(mode="access")),
                              (trunk("10,20,30"), trunk("40"))):
        commands = compare(IOS, running, intended, ALL).commands
        assert not any(line.strip().startswith("no switchport trunk allowed") for line in commands), commands
    # from all VLANs (no list printed) to a list: the list itself; long lists cut as IOS cuts them
    assert ios.trunk_allowed_commands(None, frozenset([10, 20])) == ["switchport trunk allowed vlan 10,20"]
    many = frozenset(range(100, 160, 2))
    assert ios.trunk_allowed_commands(None, many) == [
        "switchport trunk allowed vlan 100,102,104,106,108,110,112,114,116,118,120,122",
        "switchport trunk allowed vlan add 124,126,128,130,132,134,136,138,140,142,144",
        "switchport trunk allowed vlan add 146,148,150,152,154,156,158"]


def test_an_access_port_moves_by_sending_only_the_new_vlan():
    access = "interface GigabitEthernet0/1\n switchport access vlan {}\n switchport mode access\n"
    assert compare(IOS, access.format(20), access.format(30), ALL).commands == [
        "interface GigabitEthernet0/1", " switchport access vlan 30", " exit"]
    native = "interface GigabitEthernet0/24\n switchport trunk native vlan {}\n switchport mode trunk\n"
    assert compare(IOS, native.format(99), native.format(98), ALL).commands == [
        "interface GigabitEthernet0/24", " switchport trunk native vlan 98", " exit"]


# --- 5. VTY lines as IOS prints them --------------------------------------------------------------

INTENDED_LINES = "line con 0\n login local\nline vty 0 15\n login local\n transport input ssh\n"
SPLIT = "line con 0\n login local\nline vty 0 4\n login local\n transport input ssh\nline vty 5 15\n login local\n transport input ssh\n"


def test_line_vty_0_15_is_what_ios_prints_as_two_blocks():
    assert compare(IOS, SPLIT, INTENDED_LINES, ALL).commands == []
    # a small platform with five VTYs prints only `line vty 0 4`
    assert compare(IOS, SPLIT.split("line vty 5 15")[0], INTENDED_LINES, ALL).commands == []
    # a difference goes into the printed blocks, not `no line vty ...` and `line vty 0 15`
    telnet = SPLIT.replace("line vty 5 15\n login local\n transport input ssh",
                           "line vty 5 15\n login local\n transport input telnet ssh")
    assert compare(IOS, telnet, INTENDED_LINES, ALL).commands == ["line vty 5 15", " transport input ssh", " exit"]
    # a fresh device prints no VTY block: the intended range is sent as it is
    assert compare(IOS, "line con 0\n login local\n", INTENDED_LINES, ALL).commands == [
        "line vty 0 15", " login local", " transport input ssh", " exit"]
    assert ios.align_line_ranges([["line vty 0 15", " login"]], [["line vty 0 4"], ["line vty 10 15"]]) == [
        ["line vty 0 4", " login"], ["line vty 5 9", " login"], ["line vty 10 15", " login"]]


def test_a_password_goes_into_each_printed_block():
    running = "line con 0\n login local\nline vty 0 4\n login\nline vty 5 15\n login\n"
    intended = ("line con 0\n password ConPass1\n login local\n"
                "line vty 0 15\n password VtyPass2\n login local\n transport input ssh\n")
    commands = compare(IOS, running, intended, ALL).commands
    assert commands == ["line con 0", " password <masked>", " exit",
                        "line vty 0 4", " password <masked>", " login local", " transport input ssh", " exit",
                        "line vty 5 15", " password <masked>", " login local", " transport input ssh", " exit"]
    assert sendable(IOS, commands, intended, running) == [
        "line con 0", " password ConPass1", " exit",
        "line vty 0 4", " password VtyPass2", " login local", " transport input ssh", " exit",
        "line vty 5 15", " password VtyPass2", " login local", " transport input ssh", " exit"]


@pytest.fixture(scope="module")
def switch():
    """qom-court-sw2 of the sample province, with made-up credentials as the vault would give."""
    target = {t.name: t for t in load_targets(paths.INVENTORY_DIR / "qom.unitctl.yml")}["qom-court-sw2"]
    secrets = {"user": "netadmin", **{name: f"dummy-{name}-42" for name in SECRET_SETTINGS}}
    return dataclasses.replace(target, settings={**target.settings, **secrets})


def test_net_007_passes_on_an_ssh_only_switch_printed_that_way(switch):
    text = render(switch)
    assert "line vty 0 15\n login local\n transport input ssh\n" in text
    printed = text.replace("line vty 0 15\n", "line vty 0 4\n").replace(
        " transport input ssh\n", " transport input ssh\nline vty 5 15\n login local\n transport input ssh\n", 1)
    device = audit.facts_of(switch, printed)
    assert audit.missing_lines(IOS, device, r"^(ip ssh |no ip http|line )") == []
    assert audit.forbidden_lines(IOS, device, {r"^transport input .*(telnet|all)": "telnet"}) == []
    assert not any(line.startswith(("line", "no line")) for line in device.remediation)


# --- 6. banners -----------------------------------------------------------------------------------

OLD_BANNER = "banner login ^C\nAuthorised staff only.\nOld second line\n^C\n"
NEW_BANNER = "banner login ^C\nAuthorised staff of the unit only.\nAll activity is logged.\n^C\n"


def test_a_banner_is_replaced_by_one_command():
    commands = compare(IOS, "hostname sw1\n" + OLD_BANNER, "hostname sw1\n" + NEW_BANNER, ALL).commands
    assert commands == ["banner login ^C\nAuthorised staff of the unit only.\nAll activity is logged.\n^C"]
    # typed, `^C` would make `^` the delimiter and `C` the text's first letter: one character it is
    assert sendable(IOS, commands, NEW_BANNER) == [
        "banner login ^\nAuthorised staff of the unit only.\nAll activity is logged.\n^"]
    assert compare(IOS, "hostname sw1\n" + OLD_BANNER.replace("login", "motd"), "hostname sw1\n", ALL).commands == [
        "no banner motd"]


def test_a_banner_delimiter_is_one_its_text_does_not_hold():
    assert ios.typed_banner("banner motd ^C\nCPU ^ load 50% #1\n^C") == "banner motd @\nCPU ^ load 50% #1\n@"
    assert ios.typed_banner("banner exec ^C Welcome ^C") == "banner exec ^ Welcome ^"
    assert ios.typed_banner("hostname sw1") == "hostname sw1"
    with pytest.raises(ValueError, match="no delimiter"):
        ios.typed_banner("banner motd ^C\n" + ios.DELIMITERS + "\n^C")


class FakeConnection:
    """What Session needs of a netmiko connection, recording what is sent."""

    def __init__(self, answers=()):
        self.sent, self.answers = [], list(answers)

    def send_config_set(self, commands, **options):
        from netmiko.exceptions import ConfigInvalidException  # noqa: PLC0415

        self.sent.append(list(commands))
        output = "\n".join(f"sw1(config)#{command}" for command in commands) + "\n" + (
            self.answers.pop(0) if self.answers else "")
        match = re.search(options["error_pattern"], output, flags=re.M) if options.get("error_pattern") else None
        if match:
            raise ConfigInvalidException(f"Invalid input detected at command: x, matched error: {match.group(0)}")
        return output

    def check_config_mode(self):
        return False


def session_with(connection) -> Session:
    session = Session.__new__(Session)
    session.platform, session.timeout, session.connection = IOS, 5.0, connection
    return session


def test_a_banner_is_sent_alone_so_that_netmiko_handles_it_as_a_banner():
    commands = ["hostname sw1", "banner login ^\nAuthorised staff only.\n^", "line vty 0 4", " transport input ssh",
                " exit"]
    assert command_groups(commands) == [["hostname sw1"], ["banner login ^", "Authorised staff only.", "^"],
                                        ["line vty 0 4", " transport input ssh", " exit"]]
    connection = FakeConnection()
    session_with(connection).configure(commands)
    assert connection.sent[1] == ["banner login ^", "Authorised staff only.", "^"]
    # netmiko 4.8 turns its echo check off for a call with a line matching its bypass_commands
    assert re.search(r"^banner .*$", connection.sent[1][0])


def test_a_banner_the_device_refuses_is_a_rejection():
    refused = FakeConnection(["", "% Invalid input detected at '^' marker."])
    with pytest.raises(DeviceError, match="rejected a command"):
        session_with(refused).configure(["hostname sw1", "banner login ^\nAuthorised staff only.\n^"])


# --- 7. warnings are reported, rejections fail ----------------------------------------------------

PORTFAST = ("%Warning: portfast should only be enabled on ports connected to a single\n"
            " host. Connecting hubs, concentrators, switches, bridges, etc... to this\n"
            " interface  when portfast is enabled, can cause temporary bridging loops.\n"
            " Use with CAUTION\n\n"
            "%Portfast has been configured on GigabitEthernet0/1 but will only\n"
            " have effect when the interface is in a non-trunking mode.\n")


@pytest.mark.parametrize("answer", [
    "% Invalid input detected at '^' marker.", "% Incomplete command.", '% Ambiguous command:  "sh"',
    "% Unknown command or computer name, or unable to find computer address", "%Error opening tftp://192.0.2.9/x",
    "% Bad IP address or host name", "Command rejected: Bad VLAN list - character #5 (EOL) delimits a VLAN",
    "% 192.0.2.0 overlaps with Vlan10", "No such command",
])
def test_rejections_are_errors(answer):
    assert re.search(IOS.error_pattern, answer, flags=re.M)
    with pytest.raises(DeviceError, match="rejected a command"):
        session_with(FakeConnection([answer])).configure(["interface GigabitEthernet0/1", " spanning-tree portfast"])


def test_warnings_are_reported_not_failures():
    assert not re.search(IOS.error_pattern, PORTFAST, flags=re.M)
    output = session_with(FakeConnection([PORTFAST])).configure(["interface GigabitEthernet0/1", " spanning-tree portfast"])
    assert warnings(IOS, output) == [
        "%Warning: portfast should only be enabled on ports connected to a single host. Connecting hubs, "
        "concentrators, switches, bridges, etc... to this interface  when portfast is enabled, can cause "
        "temporary bridging loops. Use with CAUTION",
        "%Portfast has been configured on GigabitEthernet0/1 but will only have effect when the interface is "
        "in a non-trunking mode."]
    assert warnings(IOS, "% Access VLAN does not exist. Creating vlan 30\n") == [
        "% Access VLAN does not exist. Creating vlan 30"]


def test_a_push_with_a_warning_succeeds_and_reports_it(switch, monkeypatch):
    intended = render(switch)
    before = intended.replace(" spanning-tree portfast\n", "", 1)  # one port lacks portfast

    class FakeSession:
        printed = [before]

        def __init__(self, target):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def running(self):
            return self.printed[-1]

        def show(self, command):
            return "User name: unitctl-monitor\nEngine ID: 80\nstorage-type: nonvolatile\t active\n" \
                   "Authentication Protocol: SHA\nPrivacy Protocol: AES128\nGroup-name: unitctl-ro\n\n"

        def configure(self, commands):
            FakeSession.sent = commands
            FakeSession.printed.append(intended)
            return PORTFAST

        def save(self):
            pass

        def local_address(self):
            return None

    monkeypatch.setattr(operations, "Session", FakeSession)
    result = operations.push_one(switch)
    assert result.ok and result.changed, result.message
    assert FakeSession.sent == ["interface GigabitEthernet0/1", " spanning-tree portfast", " exit"]
    assert [w[:30] for w in result.warnings] == ["%Warning: portfast should only", "%Portfast has been configured "]


# --- the Ansible module keeps secrets out of its logs ---------------------------------------------

def test_the_network_module_marks_every_secret_input_no_log():
    path = paths.PROJECT_ROOT / "scripts" / "ansible_plugins" / "modules" / "unit_network.py"
    spec = importlib.util.spec_from_file_location("unit_network", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    arguments = module.ARGUMENT_SPEC

    def options(spec: dict, prefix: str = ""):
        for name, option in spec.items():
            yield prefix + name, option
            yield from options(option.get("options") or {}, f"{prefix}{name}.")

    secret_like = re.compile(r"pass|secret|key|token|community", re.I)
    for name, option in options(arguments):
        if secret_like.search(name):
            assert option.get("no_log") is True, f"{name} is not no_log"
    assert set(arguments["secrets"]["options"]) == set(SECRET_SETTINGS) == set(module.SECRET_OPTIONS)
    assert arguments["settings"]["no_log"] is False  # it holds no secret: the playbook passes them apart
    play = yaml.safe_load((paths.PROJECT_ROOT / "playbooks" / "network.yml").read_text())[1]
    names = play["vars"]["unit_network_secret_names"]
    assert [name.removeprefix("network_") for name in names] == list(SECRET_SETTINGS)
    task = next(task for task in play["tasks"] if "unit_network" in task)
    assert "unit_network_secret_names" in task["unit_network"]["secrets"]
    # Ansible itself takes every secret value as one to hide
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: PLC0415

    secrets = {name: f"made-up-{name}" for name in SECRET_SETTINGS}
    validated = ArgumentSpecValidator(arguments).validate(
        {"device": {"name": "sw1"}, "unit": {"id": "lab-court"}, "addressing": {}, "unit_hosts": [],
         "settings": {"user": "netadmin", "timeout_s": 30}, "secrets": secrets})
    assert validated.error_messages == [] and validated._no_log_values == set(secrets.values())


def test_a_roll_back_takes_away_the_snmpv3_users_the_push_added():
    before = ("User name: unitctl-old\nEngine ID: 80\nstorage-type: nonvolatile\t active\n"
              "Authentication Protocol: SHA\nPrivacy Protocol: AES128\nGroup-name: unitctl-ro\n\n")
    now = before + ("User name: unitctl-monitor\nEngine ID: 80\nstorage-type: nonvolatile\t active\n"
                    "Authentication Protocol: SHA\nPrivacy Protocol: AES128\nGroup-name: unitctl-ro\n\n")
    assert ios.snmp_users_added(before, now) == ["no snmp-server user unitctl-monitor unitctl-ro v3"]
    assert ios.snmp_users_added(now, before) == []   # a user the push removed cannot come back
    assert IOS.shown_undo[ios.SHOW_SNMP_USER] is ios.snmp_users_added

"""The lab's Catalyst/IOS 15.2 switch model (unitctl.lab.ios_switch), driven in-process: no SSH,
no network namespace. The config pushed is the one the toolkit renders for a lab switch
(templates/network/ios/base.j2 through unitctl.network.render, offline), with test secrets.
What is modelled and from which sources: docs/lab-switch.md.
"""

from __future__ import annotations

import dataclasses
import re
import secrets

import pytest

pytest.importorskip("fake_switches")

from fake_switches.switch_factory import SwitchFactory  # noqa: E402

from unitctl import paths  # noqa: E402
from unitctl.lab import switches  # noqa: E402
from unitctl.lab.ios_parser import md5_crypt, md5_crypt_matches, type7_decode, type7_encode, vlan_ranges  # noqa: E402
from unitctl.lab.ios_switch import (MAPPING, MODEL_NAME, PORTFAST_WARNING, CatalystSwitchCore,  # noqa: E402
                                    make_switch)
from unitctl.network import load_targets, render  # noqa: E402
from unitctl.network.platforms import IOS  # noqa: E402

NOW = 1700000000           # 22:13:20 UTC Tue Nov 14 2023
# Made per run: no secret-looking literal is committed (tests/unit/test_no_plaintext_secrets.py).
SECRETS = {"user": "netadmin", **{name: f"T{secrets.token_hex(6)}" for name in (
    "password", "enable_secret", "snmp_auth_password", "snmp_priv_password")}}
BANNER_FA = "دسترسی فقط برای کارکنان مجاز دادگستری کل استان قم. همهٔ فعالیت‌ها ثبت می‌شود."
BANNER_EN = "Authorised staff of the Judiciary of Qom province only. All activity is logged."


@pytest.fixture(scope="module")
def intended() -> str:
    """What the toolkit renders for the lab's court-sw1, with the secrets a push would send."""
    target = next(t for t in load_targets(paths.LAB_INVENTORY) if t.name == "court-sw1")
    return render(dataclasses.replace(target, settings={**target.settings, **SECRETS}))


class Clock:
    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now


def switch(vtp_mode="server", clock=None):
    core = make_switch("court-sw1", SECRETS["enable_secret"], vtp_mode=vtp_mode, clock=clock or Clock())
    console = core.console(user="netadmin")
    assert console.send("enable", SECRETS["enable_secret"]).endswith("court-sw1#")
    return core, console


def pushed(intended: str, vtp_mode="server"):
    """A fresh switch given the whole rendered config, line by line, as netmiko sends it."""
    core, console = switch(vtp_mode)
    output = console.send("configure terminal", *intended.splitlines())   # it ends with `end`
    assert output.endswith("(config-if)#court-sw1#")   # back in privileged EXEC
    return core, console, output


def running(console) -> str:
    return console.run("show running-config")


def block(text: str, first_line: str) -> str:
    """A top-level block of a running config: its first line and its indented children."""
    lines = text.split("\n")
    start = lines.index(first_line)
    end = start + 1
    while end < len(lines) and lines[end].startswith(" "):
        end += 1
    return "\n".join(lines[start:end])


# --- the model is a fake-switches model, and the lab serves it ---------------------------------

def test_created_through_fake_switches_factory_and_used_by_the_lab():
    core = SwitchFactory(MAPPING).get(MODEL_NAME, "sw9", "secret")
    assert isinstance(core, CatalystSwitchCore)
    assert switches.SWITCH_MODEL == MODEL_NAME and switches.LAB_VTP_MODE == "server"
    assert [p.name for p in core.switch_configuration.get_physical_ports()] == \
        [f"FastEthernet0/{n}" for n in range(1, 13)]      # the lab's port layout (network.yml)


# --- show running-config ---------------------------------------------------------------------

def test_a_fresh_switch_prints_the_ios_header_and_defaults():
    _, console = switch()
    text = running(console)
    header, body = text.split("!\n", 1)
    assert header == "Building configuration...\n\nCurrent configuration : %d bytes\n" % len(("!\n" + body).rstrip("\n").encode() + b"\n")
    assert body.startswith("! No configuration change since last restart\n!\nversion 15.2\nno service pad\n"
                           "service timestamps debug datetime msec\nservice timestamps log datetime msec\n"
                           "no service password-encryption\n!\nhostname court-sw1\n!\nboot-start-marker\n"
                           "boot-end-marker\n!\nenable secret 5 $1$")
    for line in ("no aaa new-model", "spanning-tree mode pvst", "spanning-tree extend system-id",
                 "vlan internal allocation policy ascending", "ip http server", "ip http secure-server"):
        assert f"\n{line}\n" in text
    assert "\ninterface FastEthernet0/1\n!\n" in text
    assert "\ninterface Vlan1\n no ip address\n shutdown\n!\n" in text
    assert text.endswith("line con 0\nline vty 0 4\n login\nline vty 5 15\n login\n!\nend\n\n")
    assert "NVRAM" not in text and "logging" not in text and "vlan 1\n" not in text


def test_the_toolkit_base_config_is_accepted_and_printed_as_ios_does(intended):
    _, console, output = pushed(intended)
    problems = [line for line in output.splitlines()
                if line.startswith("%") and not line.startswith(("%Warning: portfast", "%Portfast has been"))]
    assert problems == [] and "Invalid input" not in output
    text = running(console)
    assert "\n! Last configuration change at 22:13:20 UTC Tue Nov 14 2023 by netadmin\n" in text
    for line in ("service timestamps debug datetime msec localtime", "service timestamps log datetime msec localtime",
                 "service password-encryption", "hostname court-sw1", "no ip http server",
                 "no ip http secure-server", "ip domain-name lab.internal", "ip ssh version 2",
                 "ntp server 10.213.20.10", "logging host 10.213.10.10", "snmp-server group unitctl-ro v3 priv",
                 "snmp-server host 10.213.10.10 version 3 priv unitctl-monitor", "ip default-gateway 10.213.23.1",
                 "spanning-tree mode rapid-pvst", "spanning-tree extend system-id"):
        assert f"\n{line}\n" in text, line
    assert re.search(r"\nusername netadmin privilege 15 secret 5 \$1\$[./\w]{4}\$[./\w]{22}\n", text)
    assert re.search(r"\nenable secret 5 \$1\$[./\w]{4}\$[./\w]{22}\n", text)
    # hidden: never printed although configured
    assert "logging trap" not in text and "snmp-server user" not in text and "ip domain name" not in text
    for secret in SECRETS.values():
        if secret != "netadmin":
            assert secret not in text
    # VTYs configured as 0 15 are printed as IOS keeps them: 0 4 and 5 15
    assert "\nline con 0\n login local\nline vty 0 4\n login local\n transport input ssh\n" \
           "line vty 5 15\n login local\n transport input ssh\n!\n" in text
    assert "line vty 0 15" not in text
    # the banner: netmiko sends "banner login ^C" as typed, so '^' delimits and the 'C' is text
    assert f"\nbanner login ^CC\n{BANNER_FA}\n{BANNER_EN}\n^C\n" in text
    # The toolkit sets VTP transparent: the switch prints its VLANs (in server mode it would not:
    # test_vtp_server_by_default_transparent_prints_vlans)
    assert "\nvtp mode transparent\n" in text and "\nvlan 999\n name dead\n" in text
    assert block(text, "interface FastEthernet0/5") == (
        "interface FastEthernet0/5\n description unused\n switchport access vlan 999\n switchport mode access\n"
        " shutdown\n spanning-tree portfast\n spanning-tree bpduguard enable")
    assert block(text, "interface FastEthernet0/12") == (
        "interface FastEthernet0/12\n description uplink to lab bridge\n"
        " switchport trunk allowed vlan 10,20,30,99\n switchport mode trunk")
    assert block(text, "interface Vlan99") == \
        "interface Vlan99\n description management\n ip address 10.213.23.2 255.255.255.0"


def test_domain_name_form_and_no_forms(intended):
    core, console, _ = pushed(intended)
    console.configure("ip domain name court.example")
    assert "\nip domain-name court.example\n" in running(console)
    core.DOMAIN_NAME_KEYWORD = "ip domain name"   # the IOS XE 16+ spelling, for a model that wants it
    assert "\nip domain name court.example\n" in running(console)
    output = console.configure(
        "no ip domain-name", "no logging host 10.213.10.10", "logging trap warnings", "no ntp server 10.213.20.10",
        "no snmp-server host 10.213.10.10 version 3 priv unitctl-monitor", "no snmp-server group unitctl-ro v3 priv",
        "no banner login", "ip http server", "no ip ssh version", "no service password-encryption",
        "no username netadmin", "no ip default-gateway", "spanning-tree mode pvst",
        "interface FastEthernet0/2", "no spanning-tree portfast", "no spanning-tree bpduguard", "exit",
        "line vty 0 15", "no login", "no transport input")
    assert "%" not in output
    text = running(console)
    assert "\nlogging trap warnings\n" in text
    for gone in ("ip domain", "logging host", "ntp server", "snmp-server", "banner", "ip ssh", "username",
                 "ip default-gateway", "no ip http server", "rapid-pvst", "transport input"):
        assert gone not in text, gone
    assert "\nservice password-encryption\n" not in text and "\nno service password-encryption\n" in text
    assert block(text, "interface FastEthernet0/2") == \
        "interface FastEthernet0/2\n description court-ws1\n switchport access vlan 20\n switchport mode access"
    assert "\nline vty 0 4\nline vty 5 15\n!\n" in text


def test_line_passwords_are_type_7_with_password_encryption():
    _, console = switch()
    console.configure("line con 0", "password cisco", "exit", "service password-encryption")
    text = running(console)
    encoded = re.search(r"\nline con 0\n password 7 ([0-9A-F]+)\n", text).group(1)
    assert type7_decode(encoded) == "cisco" and "cisco" not in text


def test_vty_lines_5_to_15_can_be_removed_and_come_back():
    _, console = switch()
    assert console.configure("no line vty 5 15").count("%") == 0
    assert "\nline vty 0 4\n login\n!\n" in running(console)
    assert "%Can't delete last 5 VTY lines" in console.configure("no line vty 0 4")
    console.configure("line vty 0 15", "login local")
    assert "\nline vty 0 4\n login local\nline vty 5 15\n login local\n" in running(console)


def test_spanning_tree_priority_per_vlan(intended):
    _, console = switch()
    console.configure("spanning-tree vlan 10,20,30,99,999 priority 4096")
    assert "\nspanning-tree vlan 10,20,30,99,999 priority 4096\n" in running(console)
    assert "% Bridge Priority must be in increments of 4096." in console.configure("spanning-tree vlan 10 priority 100")


# --- interface warnings ------------------------------------------------------------------------

def test_portfast_prints_the_ios_warning():
    _, console = switch()
    output = console.send("configure terminal", "interface FastEthernet0/1", "spanning-tree portfast")
    warning = ("%Warning: portfast should only be enabled on ports connected to a single\n"
               " host. Connecting hubs, concentrators, switches, bridges, etc... to this\n"
               " interface  when portfast is enabled, can cause temporary bridging loops.\n"
               " Use with CAUTION\n\n"
               "%Portfast has been configured on FastEthernet0/1 but will only\n"
               " have effect when the interface is in a non-trunking mode.\n")
    assert output.endswith("court-sw1(config-if)#" + warning + "court-sw1(config-if)#")
    assert PORTFAST_WARNING.format(port="FastEthernet0/1") + "\n" == warning
    assert console.send("spanning-tree bpduguard enable") == "court-sw1(config-if)#"


def test_access_vlan_that_does_not_exist_is_created():
    _, console = switch()
    output = console.configure("interface fa0/3", "switchport access vlan 77")
    assert "% Access VLAN does not exist. Creating vlan 77\n" in output
    assert re.search(r"(?m)^77   VLAN0077 +active    Fa0/3$", console.run("show vlan brief"))


# --- VTP and VLANs -----------------------------------------------------------------------------

def test_show_vlan_brief_as_ios_and_ntc_templates_read_it(intended):
    _, console, _ = pushed(intended)
    text = console.run("show vlan brief")
    assert text.startswith("\nVLAN Name                             Status    Ports\n"
                           "---- -------------------------------- --------- -------------------------------\n"
                           "1    default                          active    \n"
                           "10   servers                          active    Fa0/1\n"
                           "20   cms-clients                      active    Fa0/2, Fa0/3\n")
    assert "\n999  dead                             active    Fa0/5, Fa0/6, Fa0/7, Fa0/8\n" + " " * 48 + \
        "Fa0/9, Fa0/10, Fa0/11\n" in text
    assert "\n1002 fddi-default                     act/unsup \n" in text
    parse_output = pytest.importorskip("ntc_templates.parse").parse_output
    parsed = {row["vlan_id"]: row for row in parse_output(platform="cisco_ios", command="show vlan brief", data=text)}
    assert parsed["20"]["vlan_name"] == "cms-clients" and parsed["20"]["interfaces"] == ["Fa0/2", "Fa0/3"]
    assert set(parsed) == {"1", "10", "20", "30", "99", "999", "1002", "1003", "1004", "1005"}


def in_server_mode(intended: str) -> str:
    """The rendered config without its `vtp mode transparent`: the switch stays in VTP server mode."""
    return intended.replace("vtp mode transparent\n", "")


def test_vtp_server_by_default_transparent_prints_vlans(intended):
    core, console, _ = pushed(in_server_mode(intended))
    status = console.run("show vtp status")
    assert "\nVTP Operating Mode                : Server\n" in status
    assert "Local updater ID is 10.213.23.2 on interface Vl99 (lowest numbered VLAN interface found)" in status
    parse_output = pytest.importorskip("ntc_templates.parse").parse_output
    [parsed] = parse_output(platform="cisco_ios", command="show vtp status", data=status)
    assert parsed["mode"] == "Server" and int(parsed["revision_number"]) > 0 and parsed["existing_vlan_count"] == "10"
    assert console.configure("vtp mode transparent").count("Setting device to VTP Transparent mode for VLANS.") == 1
    text = running(console)
    assert "\nvtp mode transparent\n" in text
    assert "\nvlan 10\n name servers\n!\nvlan 20\n name cms-clients\n!\nvlan 30\n name printers\n!\n" \
           "vlan 99\n name management\n!\nvlan 999\n name dead\n!\n" in text
    assert "Device mode already VTP Transparent for VLANS." in console.configure("vtp mode transparent")
    assert core.vlan_database.mode == "transparent"


# --- SNMP --------------------------------------------------------------------------------------

def test_show_snmp_user_as_ios(intended):
    core, console, _ = pushed(intended)
    text = console.run("show snmp user")
    assert text == ("\nUser name: unitctl-monitor\n"
                    f"Engine ID: 800000090300{core.mac}\n"
                    "storage-type: nonvolatile        active\n"
                    "Authentication Protocol: SHA\n"
                    "Privacy Protocol: AES128\n"
                    "Group-name: unitctl-ro\n\n")
    parse_output = pytest.importorskip("ntc_templates.parse").parse_output
    [parsed] = parse_output(platform="cisco_ios", command="show snmp user", data=text)
    assert parsed["user_name"] == "unitctl-monitor" and parsed["privacy_protocol"] == "AES128"
    console.configure("no snmp-server user unitctl-monitor unitctl-ro v3")
    assert console.run("show snmp user") == "\n"


# --- errors, as IOS words them -----------------------------------------------------------------

def test_invalid_incomplete_and_ambiguous_commands():
    _, console = switch()
    console.send("configure terminal")
    prompt = "court-sw1(config)#"
    assert console.send("hostname a b") == " " * (len(prompt) + 11) + "^\n" \
        "% Invalid input detected at '^' marker.\n\n" + prompt
    # the caret goes under the first character no command has: "loggin" is fine, "x" is not
    assert console.send("logginx host 1.2.3.4") == " " * (len(prompt) + 6) + "^\n" \
        "% Invalid input detected at '^' marker.\n\n" + prompt
    assert console.send("logging") == "% Incomplete command.\n\n" + prompt
    assert console.send("s") == '% Ambiguous command:  "s"\n' + prompt
    assert console.send("interface FastEthernet0/99").startswith(" " * (len(prompt) + 22) + "^\n% Invalid input")
    console.send("interface FastEthernet0/1")
    # an interface command the port lacks, and a global one that leaves the interface
    assert "% Invalid input detected at '^' marker." in console.send("ip address 10.0.0.1 255.255.255.0")
    assert console.send("hostname court-sw1") == prompt
    console.send("end")
    assert console.send("show foo") == " " * (len("court-sw1#") + 5) + "^\n" \
        "% Invalid input detected at '^' marker.\n\ncourt-sw1#"
    assert "% Unknown command or computer name" in console.send("foo")


def test_the_toolkit_error_pattern_matches_ios_errors():
    _, console = switch()
    console.send("configure terminal")
    for line in ("hostname a b", "logging", "s", "vtp mode bogus"):
        assert re.search(IOS.error_pattern, console.send(line), flags=re.M), line


def test_the_toolkit_error_pattern_does_not_take_warnings_for_errors():
    """IOS's portfast warning is a warning: a push of port_protection must not fail on it, while
    a real rejection of the same session still matches."""
    _, console = switch()
    output = console.send("configure terminal", "interface FastEthernet0/1", "spanning-tree portfast")
    assert "%Warning: portfast" in output
    assert not re.search(IOS.error_pattern, output, flags=re.M)
    rejected = console.send("spanning-tree portfas on")
    assert re.search(IOS.error_pattern, rejected, flags=re.M), rejected


# --- saving and reloading ----------------------------------------------------------------------

def test_write_memory_then_reload_brings_back_the_startup_config(intended):
    clock = Clock()
    core, console = switch(clock=clock)
    console.send("configure terminal", *in_server_mode(intended).splitlines())
    clock.now += 60
    assert console.run("write memory") == "Building configuration...\n[OK]\n"
    saved = core.running_config()
    clock.now += 60
    console.configure("hostname changed", "no ntp server 10.213.20.10", "vlan 555", "name rogue")
    assert console.run("show running-config").count("! NVRAM config last updated at 22:14:20 UTC Tue Nov 14 "
                                                    "2023 by netadmin\n") == 1
    core.reload()
    console = core.console(user="netadmin")
    console.send("enable", SECRETS["enable_secret"])   # the enable secret pushed, read back from NVRAM
    text = running(console)
    assert core.running_config() == saved                # every line IOS printed is read back the same
    assert "\n! No configuration change since last restart\n" \
           "! NVRAM config last updated at 22:14:20 UTC Tue Nov 14 2023 by netadmin\n!\nversion 15.2\n" in text
    assert "hostname court-sw1" in text and "ntp server 10.213.20.10" in text
    assert f"\nbanner login ^CC\n{BANNER_FA}\n{BANNER_EN}\n^C\n" in text
    # VLANs live in vlan.dat (VTP server): the unsaved one survives the reload too
    assert re.search(r"(?m)^555  rogue ", console.run("show vlan brief"))


def test_reload_in_transparent_mode_takes_vlans_from_the_startup_config():
    core, console = switch(vtp_mode="transparent")
    console.configure("vlan 20", "name saved")
    console.run("write memory")
    console.configure("vlan 30", "name unsaved")
    core.reload()
    console = core.console()
    console.send("enable", SECRETS["enable_secret"])
    vlans = console.run("show vlan brief")
    assert re.search(r"(?m)^20   saved ", vlans) and not re.search(r"(?m)^30 ", vlans)


def test_a_reload_without_write_memory_loses_the_running_config():
    core, console = switch()
    console.configure("hostname gone", "logging host 10.0.0.9")
    console.send("exit")
    core.reload()
    assert "hostname court-sw1" in core.running_config() and "logging host" not in core.running_config()


def test_an_snmp_community_is_printed_with_its_access():
    _, console = switch()
    console.configure("snmp-server community public", "snmp-server community private RW 10")
    text = running(console)
    assert "snmp-server community public RO\n" in text and "snmp-server community private RW 10\n" in text
    console.configure("no snmp-server community public RO")
    assert "snmp-server community public" not in running(console)


def test_write_erase_and_deleting_vlan_dat_bring_back_a_fresh_switch_at_the_next_reload(intended):
    """How the lab puts a switch back to fresh (tests/integration/test_network.py): IOS's
    `write erase` keeps VLANs (they are in vlan.dat), `delete flash:vlan.dat` removes them."""
    fresh_core, _ = switch()
    fresh = fresh_core.running_config()
    core, console = switch()
    console.send("configure terminal", *intended.splitlines())
    console.run("write memory")
    erased = console.send("write erase", "")
    assert "Continue? [confirm]" in erased and "Erase of nvram: complete" in erased
    assert "Delete flash:/vlan.dat? [confirm]" in console.send("delete flash:vlan.dat", "", "")
    # the switch runs with its VLANs until it boots without the file
    assert re.search(r"(?m)^99 ", console.run("show vlan brief"))
    core.reload()
    salted = re.compile(r"\$1\$\S+")   # the staged enable secret, hashed again with a new salt
    assert salted.sub("<hash>", core.running_config()) == salted.sub("<hash>", fresh)
    console = core.console()
    console.send("enable", SECRETS["enable_secret"])   # the lab's staged enable secret still opens it
    assert not re.search(r"(?m)^(20|99|999) ", console.run("show vlan brief"))


def test_reload_from_the_cli_asks_to_save():
    core, console = switch()
    console.configure("logging host 10.0.0.9")
    assert console.send("reload") == "System configuration has been modified. Save? [yes/no]: "
    assert console.send("yes") == "Building configuration...\n[OK]\nProceed with reload? [confirm]"
    console.send("")
    assert not console.open and "logging host 10.0.0.9" in core.running_config()


def test_the_enable_secret_configured_is_the_one_enable_asks_for():
    core, console = switch()
    console.configure("enable secret N3w-secret")
    fresh = core.console()
    assert fresh.send("enable", SECRETS["enable_secret"], "still-wrong", "wrong-again").endswith(
        "Password: \nPassword: \nPassword: \n% Bad secrets\n\ncourt-sw1>")
    assert core.console().send("enable", "N3w-secret").endswith("court-sw1#")


# --- the parser's helpers ------------------------------------------------------------------------

def test_password_encodings_and_vlan_ranges():
    assert md5_crypt("cisco", "HuBF") == "$1$HuBF$jd.q6S7YnGmtPhYFpXRUA/"   # as crypt(3) and openssl passwd -1
    assert md5_crypt_matches("cisco", md5_crypt("cisco")) and not md5_crypt_matches("x", md5_crypt("y"))
    assert type7_decode("00071A150754") == "cisco" and type7_encode("cisco", seed=0) == "00071A150754"
    assert vlan_ranges([10, 11, 12, 20, 21, 99]) == "10-12,20,21,99"


# --- the lab's SSH shell takes UTF-8 (in-process: the shell object, no socket) -----------------

class _Terminal:
    def __init__(self):
        self.written = b""

    def write(self, data):
        self.written += data

    def __getattr__(self, name):   # cursor moves and the like: nothing to do here
        return lambda *args, **kwargs: None


def test_the_lab_ssh_shell_passes_persian_text_to_the_switch():
    from twisted.conch.interfaces import IConchUser
    from twisted.cred.portal import Portal
    from fake_switches.transports.ssh_service import SSHDemoRealm
    from unitctl.lab.switch_ssh import Utf8Avatar, Utf8SwitchShell, use_utf8_shell

    core, _ = switch()
    shell = Utf8SwitchShell(None, core)
    shell.terminal = _Terminal()
    shell.connectionMade()

    def type_line(text: str) -> None:
        for byte in (text + "\r").encode():
            shell.keystrokeReceived(bytes([byte]), None)

    for line in ["enable", SECRETS["enable_secret"], "configure terminal", "banner login ^C", BANNER_FA, "^C", "end"]:
        type_line(line)
    assert f"\nbanner login ^CC\n{BANNER_FA}\n^C\n" in core.running_config()
    assert BANNER_FA.encode() in shell.terminal.written            # echoed as typed

    port = type("Port", (), {})()
    port.factory = type("Factory", (), {})()
    port.factory.portal = Portal(SSHDemoRealm(core))
    use_utf8_shell(port)
    _, avatar, _ = port.factory.portal.realm.requestAvatar(b"netadmin", None, IConchUser)
    assert isinstance(avatar, Utf8Avatar) and avatar.switch_core is core

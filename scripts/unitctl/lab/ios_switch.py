"""A lab switch that behaves like a Catalyst 2960-X running IOS 15.2, for what the toolkit uses.

It is a fake-switches model (its Cisco core and command processors, extended): the lab serves it
over SSH exactly as it served fake-switches' `cisco_generic`, and tests drive it in-process
(`CatalystSwitchCore.console()`). What it models, and from which public sources, is in
docs/lab-switch.md: the management plane the toolkit renders (templates/network/ios/base.j2),
`show running-config` as IOS prints it (header, hidden defaults, secrets hashed, VTY lines split
0-4 / 5-15, banners with ^C), VTP (server by default: VLANs live in vlan.dat and are not in the
running config), `show vlan brief`, `show vtp status`, `show snmp user`, IOS's error texts,
`write memory` and a reload from the saved startup config.

The parser (keywords by unique prefix, the caret under the failing character) and the password
encodings are in unitctl.lab.ios_parser.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass, field

from fake_switches.cisco.cisco_core import BaseCiscoSwitchCore, CiscoShellSession
from fake_switches.cisco.command_processor.config import ConfigCommandProcessor
from fake_switches.cisco.command_processor.config_interface import ConfigInterfaceCommandProcessor
from fake_switches.cisco.command_processor.config_vlan import ConfigVlanCommandProcessor
from fake_switches.cisco.command_processor.default import DefaultCommandProcessor
from fake_switches.cisco.command_processor.enabled import EnabledCommandProcessor, get_port_groups
from fake_switches.cisco.command_processor.piping import PipingProcessor
from fake_switches.command_processing.base_command_processor import BaseCommandProcessor
from fake_switches.switch_configuration import VlanPort
from fake_switches.switch_factory import DEFAULT_MAPPING, SwitchFactory
from fake_switches.terminal import LoggingTerminalController, NoopTerminalController, TerminalController
from netaddr import IPNetwork

from unitctl.lab.ios_parser import (Context, Match, ParseError, compile_mode, md5_crypt, md5_crypt_matches,
                                    parse, tokenize, type7_encode, vlan_ranges)

MODEL_NAME = "unitctl_catalyst_ios15"

LOG_LEVELS = ("emergencies", "alerts", "critical", "errors", "warnings", "notifications", "informational",
              "debugging")
DEFAULT_LOG_TRAP = "informational"   # IOS default: accepted, never printed
DEFAULT_VLANS = {1002: "fddi-default", 1003: "token-ring-default", 1004: "fddinet-default",
                 1005: "trnet-default"}
VTY_COUNT = 16
NVRAM_SIZE = 524288

PORTFAST_WARNING = (
    "%Warning: portfast should only be enabled on ports connected to a single\n"
    " host. Connecting hubs, concentrators, switches, bridges, etc... to this\n"
    " interface  when portfast is enabled, can cause temporary bridging loops.\n"
    " Use with CAUTION\n"
    "\n"
    "%Portfast has been configured on {port} but will only\n"
    " have effect when the interface is in a non-trunking mode.")


# --- state ------------------------------------------------------------------------------------

@dataclass
class LineSettings:
    """One terminal line (console or VTY) as configured."""

    login: str | None = None            # None: no login; "login": line password; "login local"
    transport: str | None = None        # None: the default (not printed); else e.g. "ssh"
    password: tuple[int, str] | None = None   # (0 or 7, text)
    exec_timeout: tuple[int, int] = (10, 0)
    logging_synchronous: bool = False

    def children(self) -> list[str]:
        lines = []
        if self.exec_timeout != (10, 0):
            lines.append(" exec-timeout %d %d" % self.exec_timeout)
        if self.password:
            kind, text = self.password
            lines.append(f" password 7 {text}" if kind == 7 else f" password {text}")
        if self.logging_synchronous:
            lines.append(" logging synchronous")
        if self.login:
            lines.append(f" {self.login}")
        if self.transport:
            lines.append(f" transport input {self.transport}")
        return lines


@dataclass
class SnmpUser:
    group: str
    auth: str | None = None       # MD5, SHA
    priv: str | None = None       # DES, 3DES, AES128, AES192, AES256


@dataclass
class GlobalConfig:
    """The running configuration outside interfaces, VLANs and routes (which fake-switches keeps)."""

    service_pad: bool = False
    timestamps: dict = field(default_factory=lambda: {"debug": "datetime msec", "log": "datetime msec"})
    password_encryption: bool = False
    enable_secret: tuple[int, str] | None = None        # (5, "$1$...")
    users: dict = field(default_factory=dict)            # name -> (privilege, "secret"|"password", type, text)
    aaa_new_model: bool = False
    domain_lookup: bool = True
    domain_name: str | None = None
    ssh_version: int | None = None
    http_server: bool = True
    https_server: bool = True
    default_gateway: str | None = None
    ntp_servers: list = field(default_factory=list)      # (server, prefer)
    logging_hosts: list = field(default_factory=list)
    logging_trap: str | None = DEFAULT_LOG_TRAP
    snmp_communities: dict = field(default_factory=dict)  # community -> "RO"/"RW"[ ACL] (v1/v2c)
    snmp_groups: dict = field(default_factory=dict)      # name -> "v3 priv[ read X]"
    snmp_users: dict = field(default_factory=dict)       # name -> SnmpUser (never in the running config)
    snmp_hosts: list = field(default_factory=list)       # the words after "snmp-server host"
    banners: dict = field(default_factory=dict)          # login|motd|exec -> text between delimiters
    console: LineSettings = field(default_factory=LineSettings)
    vty: list = field(default_factory=lambda: [LineSettings(login="login") for _ in range(VTY_COUNT)])
    stp_mode: str = "pvst"
    stp_extend: bool = True
    stp_priorities: dict = field(default_factory=dict)   # vlan -> priority
    vlan_allocation: str = "ascending"


@dataclass
class VlanDatabase:
    """vlan.dat: VTP mode, domain and revision (the VLANs themselves are the fake-switches list).
    It is written at once, not by `write memory`, and survives a reload."""

    mode: str = "server"
    domain: str = ""
    revision: int = 0
    modified: float | None = None
    updater: str = "0.0.0.0"


# --- processors -------------------------------------------------------------------------------

class IosProcessor(BaseCommandProcessor):
    """What every IOS mode shares: its commands (specs for unitctl.lab.ios_parser) and how a
    matched line is run or a failed one reported."""

    COMMANDS: tuple = ()
    session = None   # the SSH/console session: its user (set when a mode is entered)

    @classmethod
    def specs(cls):
        if "_specs" not in cls.__dict__:
            cls._specs = compile_mode(cls.COMMANDS)
        return cls._specs

    def mode_specs(self):
        return self.specs()

    @property
    def core(self) -> "CatalystSwitchCore":
        return self.switch_configuration.ios_core

    @property
    def config(self) -> GlobalConfig:
        return self.core.config

    def enter(self, processor: "BaseCommandProcessor", *args) -> None:
        """Enter a sub-mode without writing its prompt (the caller writes one prompt)."""
        processor.init(self.switch_configuration, self.terminal_controller, self.logger, self.piping_processor,
                       *args)
        processor.session = self.session
        self.sub_processor = processor

    def match(self, line: str):
        return parse(self.mode_specs(), line, self.core)

    def run(self, match: Match) -> None:
        getattr(self, match.spec.handler)(match)

    def write_error(self, error: ParseError, line: str) -> None:
        for text in error.lines(line, len(self.current_prompt())):
            self.write_line(text)

    def current_prompt(self) -> str:
        return self.sub_processor.current_prompt() if self.sub_processor else self.get_prompt()

    def prompt_if_idle(self) -> None:
        if not (self.continuing_to or self.is_done or self.awaiting_keystroke):
            self.show_prompt()

    def _ignore(self, match: Match) -> None:
        pass


class ExecMode(IosProcessor):
    """User and privileged EXEC: one mode at a time, output piping (`| include`, `| begin`)."""

    def process_command(self, line: str) -> bool:
        if self.sub_processor:
            return self.delegate(line)
        if self.continuing_to:
            self.continue_command(line)
            self.prompt_if_idle()
            return True
        self.execute(line, prompt=True)
        return True

    def delegate(self, line: str) -> bool:
        self.sub_processor.process_command(line)
        if self.sub_processor.is_done:
            self.sub_processor = None
            self.prompt_if_idle()
        return True

    def execute(self, line: str, prompt: bool) -> None:
        command, _, piping = line.partition(" | ")
        result = self.match(command) if not command.lstrip().startswith("!") else None
        if isinstance(result, ParseError):
            self.unknown(result, command)
        elif result is not None:
            if piping and not self.activate_piping(piping):
                self.write_error(ParseError("invalid", 0, len(command) + 3), line)
            else:
                self.run(result)
                self.finish_piping()
        if prompt:
            self.prompt_if_idle()

    def unknown(self, error: ParseError, line: str) -> None:
        words = tokenize(line)
        if error.kind == "invalid" and error.token_index == 0 and len(words) == 1:
            # A lone word that is no command is taken for a host name to connect to.
            if self.config.domain_lookup:
                self.write_line(f'Translating "{words[0][0]}"...domain server (255.255.255.255)')
            self.write_line("% Unknown command or computer name, or unable to find computer address")
            return
        self.write_error(error, line)

    def _exit(self, match: Match) -> None:
        self.is_done = True

    def _terminal(self, match: Match) -> None:
        pass


class IosUserProcessor(ExecMode, DefaultCommandProcessor):
    """User EXEC (`Switch>`): `enable` asks for the enable secret (three tries, as IOS)."""

    COMMANDS = (
        ("enable", "_enable"),
        ("exit", "_exit"),
        ("logout", "_exit"),
        ("terminal (length|width) <0-512>", "_terminal"),
        ("show version", "_show_version"),
    )

    def delegate(self, line: str) -> bool:
        self.sub_processor.process_command(line)
        if self.sub_processor.is_done:
            if getattr(self.sub_processor, "disabled", False):   # `disable`: back to user EXEC
                self.sub_processor = None
                self.prompt_if_idle()
            else:
                self.is_done = True   # `exit` from privileged EXEC ends the session, as on IOS
        return True

    def _enable(self, match: Match) -> None:
        if self.config.enable_secret is None:
            self.write_line("% No password set")
            return
        self.tries = 0
        self._ask_password()

    def _ask_password(self) -> None:
        self.write("Password: ")
        self.replace_input = ""
        self.continue_to(self._check_password)

    def _check_password(self, line: str) -> None:
        self.replace_input = False
        self.write_line("")
        if self.core.enable_secret_matches(line):
            self.enter(self.enabled_processor)
            return
        self.tries += 1
        if self.tries < 3:
            self._ask_password()
        else:
            self.write_line("% Bad secrets")
            self.write_line("")

    def _show_version(self, match: Match) -> None:
        self.core.write_lines(self, self.core.show_version())


class IosEnabledProcessor(ExecMode, EnabledCommandProcessor):
    """Privileged EXEC (`Switch#`)."""

    COMMANDS = (
        ("configure terminal", "_configure"),
        ("configure", "_configure_ask"),
        ("show running-config", "_show_running"),
        ("show running-config interface IFNAME:ifname", "_show_running_interface"),
        ("show startup-config", "_show_startup"),
        ("show vlan", "_show_vlan"),
        ("show vlan brief", "_show_vlan_brief"),
        ("show vtp status", "_show_vtp_status"),
        ("show snmp user", "_show_snmp_user"),
        ("show version", "_show_version"),
        ("write", "_write"),
        ("write memory", "_write"),
        ("write erase", "_write_erase"),
        ("erase startup-config", "_write_erase"),
        ("delete WORD:path", "_delete"),
        ("copy running-config startup-config", "_copy"),
        ("terminal (length|width) <0-512>", "_terminal"),
        ("enable", "_ignore"),
        ("disable", "_disable"),
        ("reload", "_reload"),
        ("exit", "_exit"),
        ("logout", "_exit"),
    )

    disabled = False

    def _disable(self, match: Match) -> None:
        self.disabled = self.is_done = True

    def _configure(self, match: Match) -> None:
        self.write_line("Enter configuration commands, one per line.  End with CNTL/Z.")
        self.enter(self.config_processor)
        self.config_processor.exec_processor = self

    def _configure_ask(self, match: Match) -> None:
        self.write("Configuring from terminal, memory, or network [terminal]? ")
        self.continue_to(self._configure_answer)

    def _configure_answer(self, line: str) -> None:
        if line.strip() and not "terminal".startswith(line.strip().lower()):
            self.write_line("?Must be \"terminal\", \"memory\" or \"network\"")
            return
        self._configure(None)

    def _show_running(self, match: Match) -> None:
        self.core.write_lines(self, self.core.show_running_config())

    def _show_running_interface(self, match: Match) -> None:
        port = self.core.find_port(*match.get("ifname"))
        if port is None:
            self.write_error(ParseError("invalid", 3, tokenize(match.line)[3][1]), match.line)
            return
        body = ["!"] + self.core.interface_lines(port) + ["end"]
        text = "\n".join(body) + "\n"
        self.core.write_lines(self, ["Building configuration...", "",
                                     f"Current configuration : {len(text.encode())} bytes", *body, ""])

    def _show_startup(self, match: Match) -> None:
        if self.core.startup_config is None:
            self.write_line("startup-config is not present")
            return
        text = self.core.startup_config
        self.core.write_lines(self, [f"Using {len(text.encode())} out of {NVRAM_SIZE} bytes",
                                     *text.rstrip("\n").split("\n"), ""])

    def _show_vlan(self, match: Match) -> None:
        self.core.write_lines(self, self.core.show_vlan(brief=False))

    def _show_vlan_brief(self, match: Match) -> None:
        self.core.write_lines(self, self.core.show_vlan(brief=True))

    def _show_vtp_status(self, match: Match) -> None:
        self.core.write_lines(self, self.core.show_vtp_status())

    def _show_snmp_user(self, match: Match) -> None:
        self.core.write_lines(self, self.core.show_snmp_user())

    def _show_version(self, match: Match) -> None:
        self.core.write_lines(self, self.core.show_version())

    def _write(self, match: Match) -> None:
        self.write_line("Building configuration...")
        self.core.write_memory(self.session.user)
        self.write_line("[OK]")

    def _write_erase(self, match: Match) -> None:
        self.write("Erasing the nvram filesystem will remove all configuration files! Continue? [confirm]")
        self.continue_to(self._write_erase_confirmed)

    def _write_erase_confirmed(self, line: str) -> None:
        self.write_line("")
        if line.strip() and not "yes".startswith(line.strip().lower()):
            return
        self.core.erase_startup_config()
        self.write_line("[OK]")
        self.write_line("Erase of nvram: complete")

    def _delete(self, match: Match) -> None:
        """Only vlan.dat exists in the lab's flash (what `delete flash:vlan.dat` is for)."""
        path = match.get("path")
        if path not in ("flash:vlan.dat", "flash:/vlan.dat", "vlan.dat"):
            self.write_line(f"%Error deleting flash:/{path.split(':')[-1].lstrip('/')} "
                            "(No such file or directory)")
            return
        self.write("Delete filename [vlan.dat]? ")
        self.continue_to(self._delete_vlan_dat_named)

    def _delete_vlan_dat_named(self, line: str) -> None:
        self.write("Delete flash:/vlan.dat? [confirm]")
        self.continue_to(self._delete_vlan_dat_confirmed)

    def _delete_vlan_dat_confirmed(self, line: str) -> None:
        self.write_line("")
        if not line.strip() or "yes".startswith(line.strip().lower()):
            self.core.delete_vlan_database()

    def _copy(self, match: Match) -> None:
        self.write("Destination filename [startup-config]? ")
        self.continue_to(self._copy_confirmed)

    def _copy_confirmed(self, line: str) -> None:
        if line.strip() not in ("", "startup-config"):
            self.write_line("%Error opening flash:%s (No such file or directory)" % line.strip())
            return
        self._write(None)

    def _reload(self, match: Match) -> None:
        if self.core.unsaved_changes():
            self.write("System configuration has been modified. Save? [yes/no]: ")
            self.continue_to(self._reload_save)
        else:
            self._reload_confirm()

    def _reload_save(self, line: str) -> None:
        answer = line.strip().lower()
        if answer and "yes".startswith(answer):
            self._write(None)
        elif not (answer and "no".startswith(answer)):
            self.write_line("% Please answer 'yes' or 'no'.")
            self.write("System configuration has been modified. Save? [yes/no]: ")
            self.continue_to(self._reload_save)
            return
        self._reload_confirm()

    def _reload_confirm(self) -> None:
        self.write("Proceed with reload? [confirm]")
        self.continue_to(self._reload_now)

    def _reload_now(self, line: str) -> None:
        self.write_line("")
        if line.strip() and not "yes".startswith(line.strip().lower()):
            return
        self.core.reload()
        self.is_done = True   # the session ends with the reload


class IosConfigProcessor(IosProcessor, ConfigCommandProcessor):
    """Global configuration. A line its sub-mode (interface, line, VLAN) does not know is tried
    here, and leaves the sub-mode when it matches, as on IOS."""

    exec_processor = None
    booting = False          # replaying the startup config at a reload
    boot_vlans = True        # ...and taking VLANs from it (VTP transparent in both vlan.dat and startup)

    COMMANDS = (
        ("hostname WORD:name", "_hostname"),
        ("no hostname", "_no_hostname"),
        ("version WORD", "_ignore"),
        ("boot-start-marker", "_ignore"),
        ("boot-end-marker", "_ignore"),
        ("service timestamps (debug|log):what", "_timestamps"),
        ("service timestamps (debug|log):what uptime", "_timestamps"),
        ("service timestamps (debug|log):what datetime {msec,localtime,show-timezone,year}", "_timestamps"),
        ("no service timestamps", "_no_timestamps"),
        ("no service timestamps (debug|log):what", "_no_timestamps"),
        ("no service timestamps (debug|log):what uptime", "_no_timestamps"),
        ("no service timestamps (debug|log):what datetime {msec,localtime,show-timezone,year}", "_no_timestamps"),
        ("service password-encryption", "_password_encryption"),
        ("no service password-encryption", "_password_encryption"),
        ("service pad", "_service_pad"),
        ("no service pad", "_service_pad"),
        ("aaa new-model", "_aaa"),
        ("no aaa new-model", "_aaa"),
        ("ip http server", "_http"),
        ("no ip http server", "_http"),
        ("ip http secure-server", "_http"),
        ("no ip http secure-server", "_http"),
        ("ip domain-name WORD:domain", "_domain_name"),
        ("ip domain name WORD:domain", "_domain_name"),
        ("no ip domain-name", "_no_domain_name"),
        ("no ip domain-name WORD", "_no_domain_name"),
        ("no ip domain name", "_no_domain_name"),
        ("no ip domain name WORD", "_no_domain_name"),
        ("ip domain-lookup", "_domain_lookup"),
        ("no ip domain-lookup", "_domain_lookup"),
        ("ip domain lookup", "_domain_lookup"),
        ("no ip domain lookup", "_domain_lookup"),
        ("ip ssh version <1-2>:version", "_ssh_version"),
        ("no ip ssh version", "_ssh_version"),
        ("no ip ssh version <1-2>", "_ssh_version"),
        ("ip default-gateway IP:gateway", "_default_gateway"),
        ("no ip default-gateway", "_default_gateway"),
        ("no ip default-gateway IP", "_default_gateway"),
        ("ip route IP:destination IP:mask IP:next_hop", "_route"),
        ("no ip route IP:destination IP:mask", "_no_route"),
        ("no ip route IP:destination IP:mask IP", "_no_route"),
        ("username WORD:user privilege <0-15>:privilege (secret|password):kind WORD:text", "_username"),
        ("username WORD:user privilege <0-15>:privilege secret:kind (0|5|8|9):type WORD:text", "_username"),
        ("username WORD:user privilege <0-15>:privilege password:kind (0|7):type WORD:text", "_username"),
        ("username WORD:user (secret|password):kind WORD:text", "_username"),
        ("username WORD:user secret:kind (0|5|8|9):type WORD:text", "_username"),
        ("username WORD:user password:kind (0|7):type WORD:text", "_username"),
        ("no username WORD:user", "_no_username"),
        ("no username WORD:user LINE", "_no_username"),
        ("enable secret WORD:text", "_enable_secret"),
        ("enable secret (0|5|8|9):type WORD:text", "_enable_secret"),
        ("no enable secret", "_no_enable_secret"),
        ("no enable secret LINE", "_no_enable_secret"),
        ("ntp server WORD:server {prefer}", "_ntp_server"),
        ("no ntp server WORD:server", "_no_ntp_server"),
        ("no ntp server WORD:server prefer", "_no_ntp_server"),
        ("logging host WORD:host", "_logging_host"),
        ("logging IP:host", "_logging_host"),
        ("no logging host WORD:host", "_no_logging_host"),
        ("no logging IP:host", "_no_logging_host"),
        ("logging trap", "_logging_trap"),
        ("logging trap (%s):level" % "|".join(LOG_LEVELS), "_logging_trap"),
        ("logging trap <0-7>:number", "_logging_trap"),
        ("no logging trap", "_no_logging_trap"),
        ("no logging trap LINE", "_no_logging_trap"),
        ("snmp-server community WORD:community", "_snmp_community"),
        ("snmp-server community WORD:community (RO|RW):access", "_snmp_community"),
        ("snmp-server community WORD:community (RO|RW):access WORD:acl", "_snmp_community"),
        ("no snmp-server community WORD:community", "_no_snmp_community"),
        ("no snmp-server community WORD:community LINE", "_no_snmp_community"),
        ("snmp-server group WORD:group v3 (auth|noauth|priv):level", "_snmp_group"),
        ("snmp-server group WORD:group v3 (auth|noauth|priv):level (read|write):access WORD:view", "_snmp_group"),
        ("no snmp-server group WORD:group v3", "_no_snmp_group"),
        ("no snmp-server group WORD:group v3 LINE", "_no_snmp_group"),
        ("snmp-server user WORD:user WORD:group v3", "_snmp_user"),
        ("snmp-server user WORD:user WORD:group v3 auth (md5|sha):auth WORD", "_snmp_user"),
        ("snmp-server user WORD:user WORD:group v3 auth (md5|sha):auth WORD priv (des|3des):priv WORD",
         "_snmp_user"),
        ("snmp-server user WORD:user WORD:group v3 auth (md5|sha):auth WORD priv aes:priv (128|192|256):bits WORD",
         "_snmp_user"),
        ("no snmp-server user WORD:user WORD:group v3", "_no_snmp_user"),
        ("no snmp-server user WORD:user WORD:group v3 LINE", "_no_snmp_user"),
        ("snmp-server host WORD:host version 3 (auth|noauth|priv) WORD", "_snmp_host"),
        ("snmp-server host WORD:host version (1|2c) WORD", "_snmp_host"),
        ("snmp-server host WORD:host WORD", "_snmp_host"),
        ("no snmp-server host WORD:host LINE", "_no_snmp_host"),
        ("banner (login|motd|exec):kind LINE:text", "_banner"),
        ("no banner (login|motd|exec):kind", "_no_banner"),
        ("line console <0-0>", "_line"),
        ("line vty <0-15>:first", "_line"),
        ("line vty <0-15>:first <0-15>:last", "_line"),
        ("no line vty <0-15>:first", "_no_line"),
        ("no line vty <0-15>:first <0-15>:last", "_no_line"),
        ("spanning-tree mode (pvst|rapid-pvst|mst):mode", "_stp_mode"),
        ("no spanning-tree mode", "_stp_mode"),
        ("no spanning-tree mode LINE", "_stp_mode"),
        ("spanning-tree extend system-id", "_stp_extend"),
        ("no spanning-tree extend system-id", "_stp_extend"),
        ("spanning-tree vlan VLANS:vlans priority <0-61440>:priority", "_stp_priority"),
        ("no spanning-tree vlan VLANS:vlans priority", "_no_stp_priority"),
        ("no spanning-tree vlan VLANS:vlans priority <0-61440>", "_no_stp_priority"),
        ("vtp mode (server|client|transparent):mode", "_vtp_mode"),
        ("no vtp mode", "_vtp_mode"),
        ("vtp domain WORD:domain", "_vtp_domain"),
        ("vlan internal allocation policy (ascending|descending):order", "_vlan_allocation"),
        ("vlan VLANS:vlans", "_vlan"),
        ("no vlan VLANS:vlans", "_no_vlan"),
        ("interface IFNAME:ifname", "_interface"),
        ("no interface IFNAME:ifname", "_no_interface"),
        ("end", "_end"),
        ("exit", "_exit"),
        ("do LINE:command", "_do"),
    )
    # Commands that change nothing (for "Last configuration change").
    NAVIGATION = ("_end", "_exit", "_do", "_ignore", "_line")

    def __init__(self):
        ConfigCommandProcessor.__init__(self, IosVlanProcessor(), None, IosInterfaceProcessor())
        self.config_line_processor = IosLineProcessor()

    def process_command(self, line: str) -> bool:
        if self.continuing_to:
            self.continue_command(line)
            self.prompt_if_idle()
            return True
        if line.lstrip().startswith("!"):
            self.prompt_if_idle()
            return True
        chain = [self.sub_processor, self] if self.sub_processor else [self]
        failures = []
        for processor in chain:
            result = processor.match(line)
            if result is None:
                self.prompt_if_idle()
                return True
            if isinstance(result, Match):
                if processor is self and self.sub_processor is not None:
                    self.sub_processor = None   # a global command leaves the sub-mode
                processor.run(result)
                if result.spec.handler not in self.NAVIGATION and not self.booting:
                    self.core.config_changed(self.session.user if self.session else None)
                if self.sub_processor is not None and self.sub_processor.is_done:
                    self.sub_processor = None
                self.prompt_if_idle()
                return True
            failures.append(result)
        error = max(failures, key=lambda failure: failure.rank)   # the mode that got furthest
        self.write_error(error, line)
        self.prompt_if_idle()
        return True

    def _end(self, match: Match) -> None:
        self.sub_processor = None
        self.is_done = True

    def _exit(self, match: Match) -> None:
        self.is_done = True

    def _do(self, match: Match) -> None:
        if self.exec_processor is not None:
            self.exec_processor.execute(match.get("command"), prompt=False)

    # hostname, services
    def _hostname(self, match: Match) -> None:
        self.switch_configuration.name = match.get("name")

    def _no_hostname(self, match: Match) -> None:
        self.switch_configuration.name = "Switch"

    def _timestamps(self, match: Match) -> None:
        words = match.words[3:]
        if words[:1] == ["datetime"]:   # IOS prints the options in its own order
            words = ["datetime"] + [w for w in ("msec", "localtime", "show-timezone", "year") if w in words]
        self.config.timestamps[match.get("what")] = " ".join(words) if words else "uptime"

    def _no_timestamps(self, match: Match) -> None:
        for what in [match.get("what")] if match.get("what") else ["debug", "log"]:
            self.config.timestamps[what] = None

    def _password_encryption(self, match: Match) -> None:
        self.config.password_encryption = match.words[0] != "no"
        if self.config.password_encryption:
            self.core.encrypt_passwords()

    def _service_pad(self, match: Match) -> None:
        self.config.service_pad = match.words[0] != "no"

    def _aaa(self, match: Match) -> None:
        self.config.aaa_new_model = match.words[0] != "no"

    def _http(self, match: Match) -> None:
        on = match.words[0] != "no"
        if match.words[-1] == "server":
            self.config.http_server = on
        else:
            self.config.https_server = on

    def _domain_name(self, match: Match) -> None:
        self.config.domain_name = match.get("domain")

    def _no_domain_name(self, match: Match) -> None:
        self.config.domain_name = None

    def _domain_lookup(self, match: Match) -> None:
        self.config.domain_lookup = match.words[0] != "no"

    def _ssh_version(self, match: Match) -> None:
        self.config.ssh_version = match.get("version")

    def _default_gateway(self, match: Match) -> None:
        self.config.default_gateway = match.get("gateway")

    def _route(self, match: Match) -> None:
        self.do_ip("route", match.get("destination"), match.get("mask"), match.get("next_hop"))

    def _no_route(self, match: Match) -> None:
        destination = IPNetwork(f"{match.get('destination')}/{match.get('mask')}")
        for route in [r for r in self.switch_configuration.static_routes if r.dest == destination]:
            self.switch_configuration.static_routes.remove(route)

    # users and secrets
    def _username(self, match: Match) -> None:
        kind, text = match.get("kind"), match.get("text")
        kind_type = int(match.get("type", 0))
        if kind == "secret":
            stored = (5, md5_crypt(text)) if kind_type == 0 else (kind_type, text)
        elif kind_type == 7 or self.config.password_encryption:
            stored = (7, text if kind_type == 7 else type7_encode(text))
        else:
            stored = (0, text)
        self.config.users[match.get("user")] = (match.get("privilege", 1), kind, *stored)

    def _no_username(self, match: Match) -> None:
        if self.config.users.pop(match.get("user"), None) is None:
            self.write_line(f"%No such user: {match.get('user')}")   # not verified against IOS

    def _enable_secret(self, match: Match) -> None:
        kind_type, text = int(match.get("type", 0)), match.get("text")
        self.config.enable_secret = (5, md5_crypt(text)) if kind_type == 0 else (kind_type, text)

    def _no_enable_secret(self, match: Match) -> None:
        self.config.enable_secret = None

    # time, logging, SNMP
    def _ntp_server(self, match: Match) -> None:
        servers = [entry for entry in self.config.ntp_servers if entry[0] != match.get("server")]
        self.config.ntp_servers = servers + [(match.get("server"), match.has("prefer"))]

    def _no_ntp_server(self, match: Match) -> None:
        self.config.ntp_servers = [entry for entry in self.config.ntp_servers if entry[0] != match.get("server")]

    def _logging_host(self, match: Match) -> None:
        if match.get("host") not in self.config.logging_hosts:
            self.config.logging_hosts.append(match.get("host"))

    def _no_logging_host(self, match: Match) -> None:
        if match.get("host") in self.config.logging_hosts:
            self.config.logging_hosts.remove(match.get("host"))

    def _logging_trap(self, match: Match) -> None:
        number = match.get("number")
        self.config.logging_trap = LOG_LEVELS[number] if number is not None else match.get("level", DEFAULT_LOG_TRAP)

    def _no_logging_trap(self, match: Match) -> None:
        self.config.logging_trap = None

    def _snmp_community(self, match: Match) -> None:
        # IOS prints a community given without access as RO (its default).
        access = (match.get("access") or "RO").upper()
        self.config.snmp_communities[match.get("community")] = access + (
            f" {match.get('acl')}" if match.get("acl") else "")

    def _no_snmp_community(self, match: Match) -> None:
        self.config.snmp_communities.pop(match.get("community"), None)

    def _snmp_group(self, match: Match) -> None:
        access = f" {match.get('access')} {match.get('view')}" if match.get("access") else ""
        self.config.snmp_groups[match.get("group")] = f"v3 {match.get('level')}{access}"

    def _no_snmp_group(self, match: Match) -> None:
        self.config.snmp_groups.pop(match.get("group"), None)

    def _snmp_user(self, match: Match) -> None:
        priv = match.get("priv")
        if priv == "aes":
            priv = f"AES{match.get('bits')}"
        self.config.snmp_users[match.get("user")] = SnmpUser(
            match.get("group"), (match.get("auth") or "").upper() or None, priv.upper() if priv else None)

    def _no_snmp_user(self, match: Match) -> None:
        self.config.snmp_users.pop(match.get("user"), None)

    def _snmp_host(self, match: Match) -> None:
        words = match.words[2:]
        hosts = [entry for entry in self.config.snmp_hosts if entry != words]
        self.config.snmp_hosts = hosts + [words]

    def _no_snmp_host(self, match: Match) -> None:
        host = match.get("host")
        words = [host, *match.words[4].split()]
        kept = [entry for entry in self.config.snmp_hosts if entry != words]
        if len(kept) == len(self.config.snmp_hosts):   # `no snmp-server host H ... USER` with fewer words
            kept = [entry for entry in self.config.snmp_hosts if not (entry[0] == host and entry[-1] == words[-1])]
        self.config.snmp_hosts = kept

    # banners: the first character after the keyword delimits the text (netmiko sends a banner
    # line by line without waiting for echoes; "^C" typed as two characters makes '^' the delimiter
    # and 'C' the start of the text, as on IOS)
    def _banner(self, match: Match) -> None:
        kind, rest = match.get("kind"), match.get("text")
        if self.booting and rest.startswith("^C"):
            delimiter, rest = "^C", rest[2:]       # the startup config's own ^C (ETX)
        else:
            delimiter, rest = rest[0], rest[1:]
        if delimiter in rest:
            self.config.banners[kind] = rest.split(delimiter, 1)[0]
            return
        if not self.booting:
            self.write_line(f"Enter TEXT message.  End with the character '{delimiter}'.")
        self.banner_text = [rest]
        self.continue_to(lambda line: self._banner_line(kind, delimiter, line))

    def _banner_line(self, kind: str, delimiter: str, line: str) -> None:
        if delimiter in line:
            self.banner_text.append(line.split(delimiter, 1)[0])
            self.config.banners[kind] = "\n".join(self.banner_text)
            if not self.booting:
                self.core.config_changed(self.session.user if self.session else None)
            return
        self.banner_text.append(line)
        self.continue_to(lambda more: self._banner_line(kind, delimiter, more))

    def _no_banner(self, match: Match) -> None:
        self.config.banners.pop(match.get("kind"), None)

    # lines
    def _line(self, match: Match) -> None:
        if match.words[1] == "console":
            lines = [self.config.console]
        else:
            first = match.get("first")
            last = match.get("last", first)
            if last < first:
                self.write_line("%Invalid line range")   # not verified against IOS
                return
            while len(self.config.vty) <= last:   # `line vty 0 15` brings deleted VTYs back
                self.config.vty.append(LineSettings(login="login"))
            lines = self.config.vty[first:last + 1]
        self.enter(self.config_line_processor, self, lines)

    def _no_line(self, match: Match) -> None:
        first = match.get("first")
        if first < 5:
            self.write_line("%Can't delete last 5 VTY lines")   # not verified against IOS
            return
        del self.config.vty[first:]

    # spanning tree
    def _stp_mode(self, match: Match) -> None:
        self.config.stp_mode = match.get("mode") if match.words[0] != "no" else "pvst"

    def _stp_extend(self, match: Match) -> None:
        self.config.stp_extend = match.words[0] != "no"

    def _stp_priority(self, match: Match) -> None:
        priority = match.get("priority")
        if priority % 4096:
            self.write_line("% Bridge Priority must be in increments of 4096.")
            self.write_line("% Allowed values are: ")
            values = [str(v) for v in range(0, 61441, 4096)]
            self.write_line("  " + " ".join(values[:8]))
            self.write_line("  " + " ".join(values[8:]))
            return
        for vlan in match.get("vlans"):
            self.config.stp_priorities[vlan] = priority

    def _no_stp_priority(self, match: Match) -> None:
        for vlan in match.get("vlans"):
            self.config.stp_priorities.pop(vlan, None)

    # VTP and VLANs
    def _vtp_mode(self, match: Match) -> None:
        if self.booting:
            return   # vlan.dat keeps the VTP mode; the startup config does not override it
        mode = match.get("mode") if match.words[0] != "no" else "server"
        database = self.core.vlan_database
        if database.mode == mode:
            self.write_line(f"Device mode already VTP {mode.capitalize()} for VLANS.")
            return
        database.mode = mode
        self.write_line(f"Setting device to VTP {mode.capitalize()} mode for VLANS.")

    def _vtp_domain(self, match: Match) -> None:
        if self.booting:
            return
        database = self.core.vlan_database
        if database.domain == match.get("domain"):
            self.write_line(f"Domain name already set to {database.domain}.")
            return
        database.domain = match.get("domain")
        self.write_line(f"Changing VTP domain name from {database.domain or 'NULL'} to {match.get('domain')}")

    def _vlan_allocation(self, match: Match) -> None:
        self.config.vlan_allocation = match.get("order")

    def _vlan(self, match: Match) -> None:
        if self.core.vlan_database.mode == "client":
            self.write_line("VTP VLAN configuration not allowed when device is in CLIENT mode.")
            return
        numbers = [n for n in match.get("vlans") if n not in DEFAULT_VLANS]
        if self.booting and not self.boot_vlans:
            vlans = [self.switch_configuration.new("Vlan", n) for n in numbers]   # vlan.dat wins: discarded
        else:
            vlans = [self.core.ensure_vlan(n) for n in numbers]
        self.enter(self.config_vlan_processor, self, vlans)

    def _no_vlan(self, match: Match) -> None:
        for number in match.get("vlans"):
            if number == 1 or number in DEFAULT_VLANS:
                self.write_line(f"%Default VLAN {number} may not be deleted.")
                continue
            self.core.remove_vlan(number)

    def _interface(self, match: Match) -> None:
        kind, number = match.get("ifname")
        port = self.core.find_port(kind, number)
        if port is None and kind == "Vlan" and number.isdigit() and 1 <= int(number) <= 4094:
            port = self.make_vlan_port(int(number), f"vlan{number}")
            self.switch_configuration.add_port(port)
        if port is None:
            self.write_error(ParseError("invalid", 1, self._number_column(match.line)), match.line)
            return
        self.enter(self.config_interface_processor, self, port)

    @staticmethod
    def _number_column(line: str) -> int:
        found = re.search(r"\d", line)
        return found.start() if found else len(line)

    def _no_interface(self, match: Match) -> None:
        port = self.core.find_port(*match.get("ifname"))
        if isinstance(port, VlanPort):
            if port.vlan_id == 1:
                self.core.reset_vlan1(port)       # the default SVI cannot go: it returns to its defaults
            else:
                self.switch_configuration.remove_port(port)


class SubMode(IosProcessor):
    """interface, line and VLAN configuration: `exit` goes back to global configuration."""

    parent = None

    def _exit(self, match: Match) -> None:
        self.is_done = True

    def _end(self, match: Match) -> None:
        self.parent._end(match)

    def _do(self, match: Match) -> None:
        self.parent._do(match)


class IosInterfaceProcessor(SubMode, ConfigInterfaceCommandProcessor):
    COMMON = (
        ("description LINE:text", "_description"),
        ("no description", "_no_description"),
        ("no description LINE", "_no_description"),
        ("shutdown", "_shutdown"),
        ("no shutdown", "_shutdown"),
        ("exit", "_exit"),
        ("end", "_end"),
        ("do LINE:command", "_do"),
    )
    COMMANDS = COMMON + (
        ("switchport mode (access|trunk):mode", "_switchport_mode"),
        ("switchport mode dynamic (auto|desirable):dynamic", "_switchport_mode"),
        ("no switchport mode", "_switchport_mode"),
        ("no switchport mode LINE", "_switchport_mode"),
        ("switchport access vlan <1-4094>:vlan", "_access_vlan"),
        ("no switchport access vlan", "_access_vlan"),
        ("no switchport access vlan <1-4094>", "_access_vlan"),
        ("switchport trunk native vlan <1-4094>:vlan", "_switchport"),
        ("no switchport trunk native vlan", "_no_switchport"),
        ("no switchport trunk native vlan <1-4094>", "_no_switchport"),
        ("switchport trunk allowed vlan VLANS", "_switchport"),
        ("switchport trunk allowed vlan (add|remove):op VLANS", "_switchport"),
        ("switchport trunk allowed vlan except VLANS:vlans", "_trunk_except"),
        ("switchport trunk allowed vlan (all|none)", "_switchport"),
        ("no switchport trunk allowed vlan", "_no_switchport"),
        ("no switchport trunk allowed vlan LINE", "_no_switchport"),
        ("spanning-tree portfast", "_portfast"),
        ("spanning-tree portfast edge", "_portfast"),
        ("no spanning-tree portfast", "_no_portfast"),
        ("no spanning-tree portfast edge", "_no_portfast"),
        ("spanning-tree bpduguard (enable|disable):state", "_bpduguard"),
        ("no spanning-tree bpduguard", "_bpduguard"),
        ("no spanning-tree bpduguard (enable|disable)", "_bpduguard"),
    )
    SVI_COMMANDS = COMMON + (
        ("ip address IP:address IP:mask", "_ip_address"),
        ("no ip address", "_no_ip_address"),
        ("no ip address IP IP", "_no_ip_address"),
    )

    def init(self, switch_configuration, terminal_controller, logger, piping_processor, *args):
        self.parent = args[0]
        super().init(switch_configuration, terminal_controller, logger, piping_processor, args[1])

    def mode_specs(self):
        if isinstance(self.port, VlanPort):
            if "_svi_specs" not in type(self).__dict__:
                type(self)._svi_specs = compile_mode(self.SVI_COMMANDS)
            return self._svi_specs
        return self.specs()

    def _description(self, match: Match) -> None:
        self.port.description = match.get("text")

    def _no_description(self, match: Match) -> None:
        self.port.description = None

    def _shutdown(self, match: Match) -> None:
        self.port.shutdown = match.words[0] != "no"

    def _switchport(self, match: Match) -> None:
        self.do_switchport(*match.words[1:])

    def _no_switchport(self, match: Match) -> None:
        self.do_no_switchport(*match.words[2:])

    def _switchport_mode(self, match: Match) -> None:
        if match.words[0] == "no":
            self.port.mode = None
        else:
            self.port.mode = match.get("mode") or f"dynamic {match.get('dynamic')}"

    def _access_vlan(self, match: Match) -> None:
        if match.words[0] == "no":
            self.port.access_vlan = None
            return
        number = match.get("vlan")
        if self.switch_configuration.get_vlan(number) is None and number not in DEFAULT_VLANS:
            if self.core.vlan_database.mode != "client":
                self.write_line(f"% Access VLAN does not exist. Creating vlan {number}")
                self.core.ensure_vlan(number)
        self.port.access_vlan = number if number != 1 else None

    def _trunk_except(self, match: Match) -> None:
        excluded = set(match.get("vlans"))
        self.port.trunk_vlans = [n for n in range(1, 4095) if n not in excluded]

    def _portfast(self, match: Match) -> None:
        self.write_line(PORTFAST_WARNING.format(port=self.port.name))
        self.port.vendor_specific["portfast"] = "spanning-tree portfast" + (" edge" if match.has("edge") else "")

    def _no_portfast(self, match: Match) -> None:
        self.port.vendor_specific.pop("portfast", None)

    def _bpduguard(self, match: Match) -> None:
        if match.words[0] == "no":
            self.port.vendor_specific.pop("bpduguard", None)
        else:
            self.port.vendor_specific["bpduguard"] = match.get("state")

    def _ip_address(self, match: Match) -> None:
        # IOS refuses an address whose subnet overlaps another interface's ("% 10.0.0.0 overlaps
        # with Vlan99"), not only the same address as fake-switches does.
        try:
            new = IPNetwork(f"{match.get('address')}/{match.get('mask')}")
        except Exception:  # noqa: BLE001  (netaddr raises several types for a bad mask)
            self.write_line("% Bad mask /0 for address " + str(match.get("address")))
            return
        for port in self.switch_configuration.ports:
            if port is self.port or not isinstance(port, VlanPort):
                continue
            for existing in port.ips:
                if new.ip in existing or existing.ip in new:
                    self.write_line(f"% {new.cidr.ip} overlaps with {port.name}")
                    return
        self.do_ip("address", match.get("address"), match.get("mask"))

    def _no_ip_address(self, match: Match) -> None:
        self.port.ips = []


class IosVlanProcessor(SubMode, ConfigVlanCommandProcessor):
    COMMANDS = (
        ("name WORD:name", "_name"),
        ("no name", "_no_name"),
        ("no name WORD", "_no_name"),
        ("exit", "_exit"),
        ("end", "_end"),
        ("do LINE:command", "_do"),
    )

    def init(self, switch_configuration, terminal_controller, logger, piping_processor, *args):
        self.parent, self.vlans = args[0], args[1]
        super().init(switch_configuration, terminal_controller, logger, piping_processor, args[1][0] if args[1] else None)

    def _name(self, match: Match) -> None:
        name = match.get("name")
        if len(name) > 32:
            self.write_error(ParseError("invalid", 1, match.line.index(name) + 32), match.line)
            return
        for vlan in self.vlans:
            vlan.name = name
        self.core.vlans_changed()

    def _no_name(self, match: Match) -> None:
        for vlan in self.vlans:
            vlan.name = None
        self.core.vlans_changed()


class IosLineProcessor(SubMode):
    COMMANDS = (
        ("login", "_login"),
        ("login local", "_login"),
        ("no login", "_login"),
        ("no login local", "_login"),
        ("transport input (ssh|telnet|all|none):first", "_transport"),
        ("transport input telnet ssh", "_transport"),
        ("transport input ssh telnet", "_transport"),
        ("no transport input", "_transport"),
        ("no transport input LINE", "_transport"),
        ("password WORD:text", "_password"),
        ("password (0|7):type WORD:text", "_password"),
        ("no password", "_no_password"),
        ("no password LINE", "_no_password"),
        ("exec-timeout <0-35791>:minutes", "_exec_timeout"),
        ("exec-timeout <0-35791>:minutes <0-2147483>:seconds", "_exec_timeout"),
        ("no exec-timeout", "_exec_timeout"),
        ("logging synchronous", "_logging_synchronous"),
        ("no logging synchronous", "_logging_synchronous"),
        ("exit", "_exit"),
        ("end", "_end"),
        ("do LINE:command", "_do"),
    )

    def init(self, switch_configuration, terminal_controller, logger, piping_processor, *args):
        super().init(switch_configuration, terminal_controller, logger, piping_processor)
        self.parent, self.lines = args[0], args[1]

    def get_prompt(self):
        return self.switch_configuration.name + "(config-line)#"

    def _set(self, **changes) -> None:
        for line in self.lines:
            for name, value in changes.items():
                setattr(line, name, value)

    def _login(self, match: Match) -> None:
        self._set(login=None if match.words[0] == "no" else " ".join(match.words))

    def _transport(self, match: Match) -> None:
        words = match.words[2:]
        if match.words[0] == "no":
            self._set(transport=None)
        else:
            self._set(transport="telnet ssh" if sorted(words) == ["ssh", "telnet"] else words[0])

    def _password(self, match: Match) -> None:
        text, kind = match.get("text"), int(match.get("type", 0))
        if kind == 7 or self.config.password_encryption:
            self._set(password=(7, text if kind == 7 else type7_encode(text)))
        else:
            self._set(password=(0, text))

    def _no_password(self, match: Match) -> None:
        self._set(password=None)

    def _exec_timeout(self, match: Match) -> None:
        if match.words[0] == "no":
            self._set(exec_timeout=(10, 0))
        else:
            self._set(exec_timeout=(match.get("minutes"), match.get("seconds", 0)))

    def _logging_synchronous(self, match: Match) -> None:
        self._set(logging_synchronous=match.words[0] != "no")


class _Exclude:
    def __init__(self, lookup: str):
        self.lookup = lookup

    def pipe(self, data: str):
        return data if self.lookup not in data else False


class IosPipingProcessor(PipingProcessor):
    """`| include`, `| begin` (fake-switches') and `| exclude`."""

    def do_exclude(self, *args):
        return _Exclude(" ".join(args))


# --- the switch -------------------------------------------------------------------------------

class CatalystSwitchCore(BaseCiscoSwitchCore, Context):
    """A Catalyst 2960-X with IOS 15.2 (see the module's docstring and docs/lab-switch.md)."""

    VERSION = "15.2"
    MODEL = "WS-C2960X-24TS-L"
    # IOS 15.2 on Catalyst prints `ip domain-name X` whichever form was typed; IOS XE 16 and
    # later print `ip domain name X` (docs/lab-switch.md).
    DOMAIN_NAME_KEYWORD = "ip domain-name"

    def __init__(self, switch_configuration, vtp_mode: str = "server", clock=time.time,
                 startup_config: str | None = None):
        super().__init__(switch_configuration)
        switch_configuration.ios_core = self
        self.clock = clock
        self.port_names = [port.name for port in switch_configuration.get_physical_ports()]
        self.vlan_database = VlanDatabase(mode=vtp_mode)
        self.config = GlobalConfig()
        self.last_change: tuple[float, str | None] | None = None
        self.nvram_updated: tuple[float, str | None] | None = None
        self.saved_state: str | None = None
        self.vlan_dat_deleted = False   # `delete flash:vlan.dat`, read at the next reload
        # A stable, locally administered base MAC per switch (Device ID, SNMP engine ID).
        self.mac = "02" + hashlib.sha256(switch_configuration.name.encode()).hexdigest()[:10].upper()
        # Pre-staged as the lab needs it: its name, and the enable secret the lab knows.
        self.staged_name = switch_configuration.name
        self.staged_management: str | None = None    # "ADDRESS MASK" on Vlan1, see make_switch
        self.staged_gateway: str | None = None
        self.startup_config = self.staged_startup_config() if startup_config is None else startup_config
        self.reload()

    # fake-switches hooks
    def new_command_processor(self):
        return IosEnabledProcessor(config=IosConfigProcessor())

    def launch(self, protocol, terminal_controller, user: str | None = None):
        self.last_connection_id += 1
        self.logger = logging.getLogger(f"unitctl.lab.ios_switch.{self.switch_configuration.name}."
                                        f"{self.last_connection_id}.{protocol}")
        processor = self.new_command_processor()
        if not self.switch_configuration.auto_enabled:
            processor = IosUserProcessor(processor)
        processor.init(self.switch_configuration, LoggingTerminalController(self.logger, terminal_controller),
                       self.logger, IosPipingProcessor(self.logger))
        processor.session = _Session(user if user is not None else _ssh_user(terminal_controller))
        return CiscoShellSession(processor)

    def console(self, user: str | None = "admin", address: str | None = None) -> "Console":
        """An in-process session (no transport): for tests and for trying the model by hand.
        With `address`, as if over SSH to it (Console, PathWatch)."""
        return Console(self, user, address)

    # Context for the parser
    def interface_types(self) -> list[str]:
        kinds = []
        for name in self.port_names:
            kind = re.match(r"^([A-Za-z-]+)", name).group(1)
            if kind not in kinds:
                kinds.append(kind)
        return kinds + ["Vlan"]

    def find_port(self, kind: str, number: str):
        for port in self.switch_configuration.ports:
            if port.name.lower() == f"{kind}{number}".lower():
                return port
        return None

    # VLANs (vlan.dat)
    def ensure_vlan(self, number: int):
        vlan = self.switch_configuration.get_vlan(number)
        if vlan is None:
            vlan = self.switch_configuration.new("Vlan", number)
            self.switch_configuration.add_vlan(vlan)
            self.vlans_changed()
        return vlan

    def remove_vlan(self, number: int) -> None:
        vlan = self.switch_configuration.get_vlan(number)
        if vlan is not None:
            self.switch_configuration.remove_vlan(vlan)
            self.vlans_changed()

    def vlans_changed(self) -> None:
        database = self.vlan_database
        if database.mode == "server":
            database.revision += 1
        database.modified = self.clock()
        svis = sorted((p for p in self.switch_configuration.get_vlan_ports() if p.ips), key=lambda p: p.vlan_id)
        database.updater = str(svis[0].ips[0].ip) if svis else "0.0.0.0"

    # configuration state
    def config_changed(self, user: str | None) -> None:
        self.last_change = (self.clock(), user)

    def unsaved_changes(self) -> bool:
        return self.saved_state != self.running_config()

    def enable_secret_matches(self, password: str) -> bool:
        secret = self.config.enable_secret
        return secret is not None and secret[0] == 5 and md5_crypt_matches(password, secret[1])

    def encrypt_passwords(self) -> None:
        """`service password-encryption` turns every clear line and user password into type 7."""
        for line in [self.config.console, *self.config.vty]:
            if line.password and line.password[0] == 0:
                line.password = (7, type7_encode(line.password[1]))
        for name, (privilege, kind, kind_type, text) in list(self.config.users.items()):
            if kind == "password" and kind_type == 0:
                self.config.users[name] = (privilege, kind, 7, type7_encode(text))

    def reset_vlan1(self, port) -> None:
        port.reset()
        port.ips = []
        port.shutdown = True

    def staged_startup_config(self) -> str:
        """What a switch staged for the lab boots with: its name and the enable secret the lab
        knows (a real `write erase` leaves nothing; the lab keeps these to reach it again)."""
        secrets_given = self.switch_configuration.privileged_passwords
        staged = f"hostname {self.staged_name}\n" + (
            f"enable secret 5 {md5_crypt(secrets_given[0])}\n" if secrets_given else "")
        if self.staged_management:  # reached as a technician stages one: its address on VLAN 1
            staged += f"interface Vlan1\n ip address {self.staged_management}\n no shutdown\n"
        if self.staged_gateway:
            staged += f"ip default-gateway {self.staged_gateway}\n"
        return staged

    def management_path_up(self, address: str) -> bool:
        """Whether a session to `address` can still reach the switch: the address is on an SVI
        that is not shut down, whose VLAN exists and is carried by a port that is up (a trunk
        allowing it, or an access port in it). docs/lab-switch.md: the management path."""
        configuration = self.switch_configuration
        for svi in configuration.ports:
            if not isinstance(svi, VlanPort) or svi.shutdown or not any(str(ip.ip) == address for ip in svi.ips):
                continue
            vlan = svi.vlan_id
            if vlan != 1 and configuration.get_vlan(vlan) is None:
                return False
            return any(self._carries(port, vlan) for port in configuration.get_physical_ports())
        return False

    def holds_address(self, address: str) -> bool:
        """Whether any SVI has `address` (up or not)."""
        return any(isinstance(svi, VlanPort) and any(str(ip.ip) == address for ip in svi.ips)
                   for svi in self.switch_configuration.ports)

    @staticmethod
    def _carries(port, vlan: int) -> bool:
        if port.shutdown:
            return False
        if port.mode == "trunk":
            return port.trunk_vlans is None or vlan in port.trunk_vlans
        return (port.access_vlan or 1) == vlan

    def erase_startup_config(self) -> None:
        """`write erase`: the next reload boots the staged config (VLANs stay: they are in vlan.dat)."""
        self.startup_config = self.staged_startup_config()
        self.nvram_updated = None

    def delete_vlan_database(self) -> None:
        """`delete flash:vlan.dat`: the VLANs the switch runs with stay until the next reload, which
        starts with VLAN 1 only, in VTP server mode (the file is read at boot)."""
        self.vlan_dat_deleted = True

    def _boot_without_vlan_dat(self) -> None:
        self.vlan_database = VlanDatabase()
        for vlan in [v for v in self.switch_configuration.vlans if v.number != 1]:
            self.switch_configuration.remove_vlan(vlan)
        self.vlan_dat_deleted = False

    def write_memory(self, user: str | None) -> None:
        self.nvram_updated = (self.clock(), user)
        self.startup_config = self.config_text()
        self.saved_state = self.running_config()

    def reload(self) -> None:
        """Power-cycle: the running config is lost, the saved startup config is parsed again
        (VLANs come from vlan.dat unless both it and the startup config say VTP transparent)."""
        configuration = self.switch_configuration
        if self.vlan_dat_deleted:
            self._boot_without_vlan_dat()
        configuration.ports = []
        for name in self.port_names:
            configuration.add_port(configuration.new("Port", name))
        vlan1 = configuration.new("VlanPort", 1, "Vlan1")
        configuration.add_port(vlan1)
        self.reset_vlan1(vlan1)
        configuration.static_routes = []
        configuration.name = "Switch"
        self.config = GlobalConfig()
        startup = self.startup_config or ""
        transparent = self.vlan_database.mode == "transparent" and re.search(r"(?m)^vtp mode transparent$", startup)
        if transparent:
            for vlan in [v for v in configuration.vlans if v.number != 1]:
                configuration.remove_vlan(vlan)
        processor = IosConfigProcessor()
        processor.init(configuration, NoopTerminalController(), logging.getLogger("unitctl.lab.ios_switch.boot"),
                       IosPipingProcessor(None))
        processor.booting, processor.boot_vlans = True, bool(transparent)
        for line in startup.split("\n"):
            processor.process_command(line)
            processor.is_done = False
        self.last_change = None
        self.saved_state = self.running_config() if self.startup_config is not None else None

    # what the switch prints
    def write_lines(self, processor: BaseCommandProcessor, lines: list[str]) -> None:
        for line in lines:
            processor.write_line(line)

    def _stamp(self, moment: tuple[float, str | None]) -> str:
        at, user = moment
        t = time.gmtime(at)
        text = f"{time.strftime('%H:%M:%S', t)} UTC {time.strftime('%a %b', t)} {t.tm_mday} {t.tm_year}"
        return f"{text} by {user}" if user else text

    def show_running_config(self) -> list[str]:
        text = self.config_text()
        return ["Building configuration...", "", f"Current configuration : {len(text.encode())} bytes",
                *text.rstrip("\n").split("\n"), ""]

    def config_text(self) -> str:
        """The configuration from the first `!` to `end`, with the change header."""
        header = ["!"]
        header.append(f"! Last configuration change at {self._stamp(self.last_change)}" if self.last_change
                      else "! No configuration change since last restart")
        if self.nvram_updated:
            header.append(f"! NVRAM config last updated at {self._stamp(self.nvram_updated)}")
        return "\n".join(header + self.running_config().split("\n")) + "\n"

    def running_config(self) -> str:
        """The body IOS prints after the header, `!` and `version` to `end` (no timestamps)."""
        c, configuration = self.config, self.switch_configuration
        lines = ["!", f"version {self.VERSION}", "service pad" if c.service_pad else "no service pad"]
        for what in ("debug", "log"):
            value = c.timestamps[what]
            lines.append(f"service timestamps {what} {value}" if value else f"no service timestamps {what} uptime")
        lines += ["service password-encryption" if c.password_encryption else "no service password-encryption",
                  "!", f"hostname {configuration.name}", "!", "boot-start-marker", "boot-end-marker", "!"]
        if c.enable_secret:
            lines += ["enable secret %d %s" % c.enable_secret, "!"]
        for name, (privilege, kind, kind_type, text) in c.users.items():
            level = f" privilege {privilege}" if privilege != 1 else ""
            lines.append(f"username {name}{level} {kind} {kind_type} {text}")
        lines += ["aaa new-model" if c.aaa_new_model else "no aaa new-model"]
        if self.vlan_database.mode == "transparent":
            if self.vlan_database.domain:
                lines.append(f"vtp domain {self.vlan_database.domain}")
            lines.append("vtp mode transparent")
        lines += ["!", "!"]
        if not c.domain_lookup:
            lines.append("no ip domain-lookup")
        if c.domain_name:
            lines.append(f"{self.DOMAIN_NAME_KEYWORD} {c.domain_name}")
        lines += ["!", "!", f"spanning-tree mode {c.stp_mode}"]
        if c.stp_extend:
            lines.append("spanning-tree extend system-id")
        for priority in sorted(set(c.stp_priorities.values())):
            vlans = [v for v, p in c.stp_priorities.items() if p == priority]
            lines.append(f"spanning-tree vlan {vlan_ranges(vlans)} priority {priority}")
        lines += ["!", f"vlan internal allocation policy {c.vlan_allocation}", "!"]
        if self.vlan_database.mode == "transparent":
            for vlan in sorted(configuration.vlans, key=lambda v: v.number):
                if vlan.number == 1:
                    continue
                lines.append(f"vlan {vlan.number}")
                if vlan.name:
                    lines.append(f" name {vlan.name}")
                lines.append("!")
        lines += ["!", "!"]
        ports = configuration.get_physical_ports() + sorted(configuration.get_vlan_ports(), key=lambda p: p.vlan_id)
        for port in ports:
            lines += self.interface_lines(port) + ["!"]
        if c.default_gateway:
            lines.append(f"ip default-gateway {c.default_gateway}")
        lines.append("ip http server" if c.http_server else "no ip http server")
        lines.append("ip http secure-server" if c.https_server else "no ip http secure-server")
        lines.append("!")
        for route in configuration.static_routes:
            lines.append(f"ip route {route.destination} {route.mask} {route.next_hop}")
        if c.ssh_version:
            lines.append(f"ip ssh version {c.ssh_version}")
        lines.append("!")
        if c.logging_trap is None:
            lines.append("no logging trap")
        elif c.logging_trap != DEFAULT_LOG_TRAP:
            lines.append(f"logging trap {c.logging_trap}")
        lines += [f"logging host {host}" for host in c.logging_hosts]
        lines += [f"snmp-server community {name} {rest}" for name, rest in c.snmp_communities.items()]
        lines += [f"snmp-server group {name} {rest}" for name, rest in c.snmp_groups.items()]
        lines += ["snmp-server host " + " ".join(words) for words in c.snmp_hosts]
        lines.append("!")
        for kind in ("exec", "login", "motd"):
            if kind in c.banners:
                lines += [f"banner {kind} ^C{c.banners[kind]}^C"]
        lines += ["!", "line con 0", *c.console.children()]
        lines += self._vty_blocks()
        lines.append("!")
        for server, prefer in c.ntp_servers:
            lines.append(f"ntp server {server}" + (" prefer" if prefer else ""))
        lines.append("end")
        return "\n".join(lines)

    def _vty_blocks(self) -> list[str]:
        """Consecutive VTYs with the same settings share a block, but 0-4 and 5-15 never do."""
        lines, vty = [], self.config.vty
        start = 0
        while start < len(vty):
            end = start
            while end + 1 < len(vty) and end + 1 != 5 and vty[end + 1] == vty[start]:
                end += 1
            lines.append(f"line vty {start}" + (f" {end}" if end != start else ""))
            lines += vty[start].children()
            start = end + 1
        return lines

    def interface_lines(self, port) -> list[str]:
        lines = [f"interface {port.name}"]
        if port.description:
            lines.append(f" description {port.description}")
        if isinstance(port, VlanPort):
            lines += [f" ip address {ip.ip} {ip.netmask}" for ip in port.ips[:1]] or [" no ip address"]
            if port.shutdown:
                lines.append(" shutdown")
            return lines
        if port.access_vlan and port.access_vlan != 1:
            lines.append(f" switchport access vlan {port.access_vlan}")
        if port.trunk_native_vlan is not None:
            lines.append(f" switchport trunk native vlan {port.trunk_native_vlan}")
        if port.trunk_vlans is not None:
            allowed = vlan_ranges(port.trunk_vlans) if port.trunk_vlans else "none"
            lines.append(f" switchport trunk allowed vlan {allowed}")
        if port.mode:
            lines.append(f" switchport mode {port.mode}")
        if port.shutdown:
            lines.append(" shutdown")
        if "portfast" in port.vendor_specific:
            lines.append(f" {port.vendor_specific['portfast']}")
        if "bpduguard" in port.vendor_specific:
            lines.append(f" spanning-tree bpduguard {port.vendor_specific['bpduguard']}")
        return lines

    def all_vlans(self) -> list[tuple[int, str, str]]:
        vlans = [(v.number, v.name or ("default" if v.number == 1 else f"VLAN{v.number:04d}"), "active")
                 for v in self.switch_configuration.vlans]
        vlans += [(number, name, "act/unsup") for number, name in DEFAULT_VLANS.items()]
        return sorted(vlans)

    def show_vlan(self, brief: bool) -> list[str]:
        lines = ["", "VLAN Name                             Status    Ports",
                 "---- -------------------------------- --------- -------------------------------"]
        for number, name, status in self.all_vlans():
            members = [port.get_subname(length=2) for port in self.switch_configuration.get_physical_ports()
                       if port.mode != "trunk" and (port.access_vlan or 1) == number]
            groups = get_port_groups(members, max_line_length=31) or [""]
            lines.append(f"{number:<4} {name:<32} {status:<9} {groups[0]}")
            lines += [" " * 48 + group for group in groups[1:]]
        if not brief:
            lines += ["", "VLAN Type  SAID       MTU   Parent RingNo BridgeNo Stp  BrdgMode Trans1 Trans2",
                      "---- ----- ---------- ----- ------ ------ -------- ---- -------- ------ ------"]
            kinds = {1002: ("fddi", "-", "-"), 1003: ("tr", "-", "srb"), 1004: ("fdnet", "ieee", "-"),
                     1005: ("trnet", "ibm", "-")}
            for number, _, _ in self.all_vlans():
                kind, stp, mode = kinds.get(number, ("enet", "-", "-"))
                lines.append(f"{number:<4} {kind:<5} {100000 + number:<10} 1500  -      -      -        "
                             f"{stp:<4} {mode:<8} 0      0   ")
            lines += ["", "Remote SPAN VLANs",
                      "------------------------------------------------------------------------------", "", "",
                      "Primary Secondary Type              Ports",
                      "------- --------- ----------------- ------------------------------------------"]
        return lines + [""]

    def show_vtp_status(self) -> list[str]:
        database = self.vlan_database
        if database.modified:
            t = time.gmtime(database.modified)
            modified = f"{t.tm_mon}-{t.tm_mday}-{t.tm_year % 100:02d} {time.strftime('%H:%M:%S', t)}"
        else:
            modified = "0-0-00 00:00:00"
        digest = hashlib.md5(repr((database.domain, database.revision, self.all_vlans())).encode()).digest()
        hexes = [f"0x{byte:02X}" for byte in digest]
        mac = f"{self.mac[:4]}.{self.mac[4:8]}.{self.mac[8:]}".lower()
        lines = [
            "VTP Version capable             : 1 to 3",
            "VTP version running             : 1",
            f"VTP Domain Name                 : {database.domain}",
            "VTP Pruning Mode                : Disabled",
            "VTP Traps Generation            : Disabled",
            f"Device ID                       : {mac}",
            f"Configuration last modified by {database.updater} at {modified}",
        ]
        if database.mode == "server":
            svis = sorted((p for p in self.switch_configuration.get_vlan_ports() if p.ips), key=lambda p: p.vlan_id)
            lines.append(f"Local updater ID is {svis[0].ips[0].ip} on interface Vl{svis[0].vlan_id} "
                         f"(lowest numbered VLAN interface found)" if svis
                         else "Local updater ID is 0.0.0.0 (no valid interface found)")
        lines += [
            "", "Feature VLAN:", "--------------",
            f"VTP Operating Mode                : {database.mode.capitalize()}",
            "Maximum VLANs supported locally   : 1005",
            f"Number of existing VLANs          : {len(self.all_vlans())}",
            f"Configuration Revision            : {database.revision if database.mode != 'transparent' else 0}",
            "MD5 digest                        : " + " ".join(hexes[:8]) + " ",
            " " * 36 + " ".join(hexes[8:]) + " ",
        ]
        return lines

    def show_snmp_user(self) -> list[str]:
        engine = f"800000090300{self.mac}"
        lines = []
        for name, user in self.config.snmp_users.items():
            lines += ["", f"User name: {name}", f"Engine ID: {engine}", "storage-type: nonvolatile        active",
                      f"Authentication Protocol: {user.auth or 'None'}", f"Privacy Protocol: {user.priv or 'None'}",
                      f"Group-name: {user.group}"]
        return lines + [""]

    def show_version(self) -> list[str]:
        name = self.switch_configuration.name
        return [
            f"Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version {self.VERSION}(7)E8, "
            "RELEASE SOFTWARE (fc2)",
            "Technical Support: http://www.cisco.com/techsupport",
            "", f"{name} uptime is 1 day, 0 hours, 0 minutes",
            'System image file is "flash:/c2960x-universalk9-mz.152-7.E8/c2960x-universalk9-mz.152-7.E8.bin"',
            "", f"cisco {self.MODEL} (APM86XXX) processor (revision A0) with 524288K bytes of memory.",
            f"{len(self.port_names)} Ethernet interfaces", "", "Configuration register is 0xF", ""]


@dataclass
class _Session:
    user: str | None = None


def _ssh_user(terminal_controller) -> str | None:
    """The SSH login name, when fake-switches' SSH transport is the terminal."""
    avatar = getattr(getattr(terminal_controller, "shell", None), "user", None)
    name = getattr(avatar, "username", None)
    return name.decode() if isinstance(name, bytes) else name


class _CollectingTerminal(TerminalController):
    def __init__(self):
        self.written: list[str] = []

    def write(self, text):
        self.written.append(text)

    def add_any_key_handler(self, callback, *params):
        pass

    def remove_any_key_handler(self):
        pass


class PathWatch:
    """Cuts a session whose management path the switch has just lost (docs/lab-switch.md).

    A session that reached the switch over its management path (`management_path_up` for the
    address it connected to) is cut when, after the lines that arrived together have run, the
    path is gone: as on a real switch, a vty still runs the lines it has already received after
    its address has gone, and a path restored within them keeps the session (TCP retransmits).
    A session that did not come over the path (the lab's stand-in for a console, or an erased
    switch) is never cut. A switch that holds the address on an SVI but has no path to it is
    unreachable: a new session to it is refused (`refused`)."""

    def __init__(self, core: "CatalystSwitchCore", address: str | None):
        self.core, self.address = core, address
        self.on_path = False
        self.cut = False
        self.refused = address is not None and core.holds_address(address) and not core.management_path_up(address)
        self.check()

    def check(self) -> bool:
        """After a chunk of input: False when the session has just been cut."""
        if self.address is None or self.cut:
            return not self.cut
        if self.core.management_path_up(self.address):
            self.on_path = True
        elif self.on_path:
            self.cut = True
            logging.getLogger("unitctl.lab.ios_switch").warning(
                "%s: management path to %s cut; session dropped", self.core.switch_configuration.name, self.address)
        return not self.cut


class Console:
    """A session on a switch without any transport: send lines, read what the switch printed.

    >>> console = make_switch("sw1", "s3cret").console()
    >>> console.send("enable", "s3cret")
    >>> console.run("show vtp status").splitlines()[10]
    'VTP Operating Mode                : Server'

    With `address`, the session behaves as one made over SSH to that address: the lines of one
    `send()` arrive together, and a session whose management path they cut is gone
    (ConnectionError on the next send).
    """

    def __init__(self, core: CatalystSwitchCore, user: str | None, address: str | None = None):
        self.path = PathWatch(core, address)
        if self.path.refused:
            raise ConnectionError(f"{address} does not answer: no path to it on {core.switch_configuration.name}")
        self.core, self.terminal = core, _CollectingTerminal()
        self.session = core.launch("console", self.terminal, user=user)
        self.open = True

    def send(self, *lines: str) -> str:
        """Send lines as typed (Enter after each); everything printed since, prompts included."""
        if self.path.cut:
            raise ConnectionError(f"the session to {self.path.address} was cut")
        self.terminal.written.clear()
        for line in lines:
            self.open = self.session.receive(line) and self.open
        self.open = self.path.check() and self.open
        return "".join(self.terminal.written)

    def run(self, command: str) -> str:
        """One command's output, without the prompt that follows it."""
        output = self.send(command)
        prompt = self.prompt()
        return output[: -len(prompt)] if prompt and output.endswith(prompt) else output

    def configure(self, *lines: str) -> str:
        """Lines in configuration mode (entered and left here), as netmiko's send_config_set does."""
        return self.send("configure terminal", *lines, "end")

    def prompt(self) -> str:
        processor = self.session.command_processor
        return processor.current_prompt() if hasattr(processor, "current_prompt") else ""


def make_switch(name: str, enable_secret: str, vtp_mode: str = "server", ports=None, clock=time.time,
                startup_config: str | None = None, management: str | None = None,
                gateway: str | None = None) -> CatalystSwitchCore:
    """A switch made through fake-switches' own factory (the lab's way), with this model's options.
    `management` ("ADDRESS MASK") and `gateway` stage the switch as a technician does: the
    address on `interface Vlan1`, the default gateway, every port in VLAN 1; `write erase` and a
    reload come back to it."""
    core = SwitchFactory(MAPPING).get(MODEL_NAME, name, enable_secret, ports=ports)
    if vtp_mode != "server" or clock is not time.time or startup_config is not None or management:
        core.clock = clock
        core.vlan_database.mode = vtp_mode
        core.staged_management, core.staged_gateway = management, gateway
        core.startup_config = core.staged_startup_config() if startup_config is None else startup_config
        core.reload()
    return core


MAPPING = {**DEFAULT_MAPPING, MODEL_NAME: CatalystSwitchCore}
__all__ = ["CatalystSwitchCore", "Console", "MAPPING", "MODEL_NAME", "PORTFAST_WARNING", "PathWatch", "make_switch"]

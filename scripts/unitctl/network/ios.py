"""Cisco IOS as real devices print and take their configuration.

The lab's emulator (fake-switches) is lenient: it prints only a few sections, accepts whatever it
knows and says "No such command" to the rest. What a real IOS device does, and what the toolkit
must know to compare, mask, push and verify against it, is stated here, each rule with its source:

- SECRETS: every value IOS prints as a secret (masked in backups, diffs and reports);
- VOLATILE: lines that change without a configuration change (a reload among them);
- HIDDEN: intended lines IOS never prints in `show running-config` (defaults, SNMPv3 users);
- ERROR_PATTERN: what IOS answers to a rejected line;
- parse_snmp_users / missing_snmp_users / snmp_user_commands: SNMPv3 users, which only
  `show snmp user` shows.

Secrets are matched with our own patterns: netutils' `sanitize_config` (1.19) only runs the
regular expressions it is given (its two sample filters cover `username ... password 5`), and
cannot tell a `key 1` under `key chain` (a number) from a `key 7 ...` under `tacacs server` (a
secret), which the masking here must, to keep masked backups restorable.
"""

from __future__ import annotations

import re

from unitctl.network.rules import Hidden, compiled, secret

# --- secrets ---------------------------------------------------------------------------------
# IOS reads most passwords to the end of the line (spaces included, Cisco IOS Security Command
# Reference: "the password ... can contain embedded spaces ... must be the last option"), so
# those are masked to the end of the line, their type digit (0, 5, 6, 7, 8, 9) with them: a
# stored hash and the intended clear text then mask alike and are never a difference.
_REF = "Cisco IOS Security Command Reference"
SECRETS = (
    secret(r"^(enable (?:secret|password)(?: level \d+)?) .+",
           f"{_REF}: enable secret / enable password [level N] [type] value"),
    secret(r"^(username \S+(?: (?!(?:secret|password) )\S+)*? (?:secret|password)) .+",
           f"{_REF}: username NAME [privilege N] [view V] [algorithm-type T] secret|password [type] value"),
    secret(r"^(\s+password) .+", f"{_REF}: password (line configuration: line con, vty, aux)"),
    secret(r"^(\s*ppp chap password) .+", "Cisco IOS Dial Technologies Command Reference: ppp chap password"),
    secret(r"^(\s*ppp pap sent-username \S+ password) .+",
           "Cisco IOS Dial Technologies Command Reference: ppp pap sent-username"),
    # The community string is the secret; what follows (view, RO/RW, ACL) stays.
    secret(r"^(snmp-server community) \S+",
           "Cisco IOS SNMP Support Command Reference: snmp-server community string [view] [ro|rw] [acl]"),
    secret(r"^(snmp-server host \S+(?: vrf \S+)?(?: informs| traps)?(?: version (?:1|2c))?) "
           r"(?!(?:version|informs|traps|vrf) )\S+",
           "Cisco IOS SNMP Support Command Reference: snmp-server host ADDR [vrf V] [informs|traps] "
           "[version 1|2c] community ... (with version 3 the word there is a user name, not masked)"),
    secret(r"^(snmp-server user \S+ \S+ .*?auth (?:md5|sha-2 \d+|sha)) \S+",
           "Cisco IOS SNMP Support Command Reference: snmp-server user ... auth md5|sha auth-password"),
    secret(r"^(snmp-server user \S+ \S+ .*?priv (?:aes \d+|3des|des56|des)) \S+",
           "Cisco IOS SNMP Support Command Reference: snmp-server user ... priv des|3des|aes N priv-password"),
    secret(r"^((?:tacacs|radius)-server key) .+", f"{_REF}: tacacs-server key / radius-server key [type] key"),
    secret(r"^((?:tacacs|radius)-server host \S+(?: (?!key )\S+)* key) .+",
           f"{_REF}: tacacs-server host / radius-server host ADDR ... key [type] key"),
    secret(r"^(\s+(?:pac )?key) .+", f"{_REF}: key (TACACS+ / RADIUS server configuration)",
           parent=r"^(?:tacacs|radius) server \S+"),
    secret(r"^(\s*(?:client \S+(?: vrf \S+)? )?server-key) .+",
           f"{_REF}: aaa server radius dynamic-author: client ADDR server-key / server-key"),
    secret(r"^(\s*server-private \S+(?: (?!key )\S+)* key) .+",
           f"{_REF}: server-private ADDR ... key [type] key (aaa group server)"),
    secret(r"^(crypto isakmp key)(?: [06])? \S+",
           f"{_REF}: crypto isakmp key [0|6] keystring address|hostname PEER"),
    secret(r"^(\s*pre-shared-key (?:address|hostname) \S+(?: (?!key )\S+)* key)(?: [06])? \S+",
           f"{_REF}: pre-shared-key address ADDR key [type] key (crypto keyring)"),
    secret(r"^(\s*pre-shared-key(?: local| remote)?)(?: [06])? (?!(?:address|hostname|local|remote) )\S+",
           f"{_REF}: pre-shared-key [local|remote] [0|6] key (crypto ikev2 keyring peer)"),
    secret(r"^(\s*wpa-psk (?:ascii|hex)) .+", "Cisco IOS Wireless LAN Command Reference: wpa-psk ascii|hex [0|7] key"),
    secret(r"^(\s*ip ospf authentication-key) .+",
           "Cisco IOS IP Routing: OSPF Command Reference: ip ospf authentication-key [0|7] password"),
    secret(r"^(.*\bmessage-digest-key \d+ md5) .+",
           "Cisco IOS IP Routing: OSPF Command Reference: ip ospf message-digest-key N md5 [0|7] key "
           "(also area ... virtual-link)"),
    secret(r"^(\s*area \S+ virtual-link \S+(?: (?!authentication-key )\S+)* authentication-key) .+",
           "Cisco IOS IP Routing: OSPF Command Reference: area virtual-link ... authentication-key"),
    secret(r"^(\s*neighbor \S+ password) .+",
           "Cisco IOS IP Routing: BGP Command Reference: neighbor ADDR|GROUP password [0|7] string"),
    secret(r"^(\s*(?:area|domain)-password) \S+", "Cisco IOS IP Routing: ISIS Command Reference: area-password"),
    secret(r"^(\s*isis password) \S+", "Cisco IOS IP Routing: ISIS Command Reference: isis password"),
    secret(r"^(\s*(?:standby|vrrp|glbp)(?: \d+)? authentication md5 key-string)(?: [07])? \S+",
           "Cisco IOS First Hop Redundancy Protocols Command Reference: standby|vrrp|glbp N authentication "
           "md5 key-string [0|7] key [timeout N]"),
    secret(r"^(\s*(?:standby|vrrp|glbp)(?: \d+)? authentication)(?: text)? (?!(?:md5|text) )\S+",
           "Cisco IOS First Hop Redundancy Protocols Command Reference: standby N authentication [text] "
           "string, vrrp N authentication text string (md5 key-chain NAME is a name, not masked)"),
    secret(r"^(\s*key-string) .+", f"{_REF}: key-string [0|7] text (key chain NAME, key N)"),
    secret(r"^(ntp authentication-key \d+ \S+) .+",
           "Cisco IOS Basic System Management Command Reference: ntp authentication-key N md5 value [7]"),
    secret(r"^(key config-key(?: password-encrypt| \d+)) .+",
           f"{_REF}: key config-key password-encrypt [text] (the master key of type 6 encryption)"),
    secret(r"^((?:ip ftp|ip http client) password) .+",
           "Cisco IOS Configuration Fundamentals Command Reference: ip ftp password, ip http client password"),
    secret(r"^(\s*l2tp tunnel password) .+", "Cisco IOS VPDN Command Reference: l2tp tunnel password"),
    secret(r"^(\s*ip nhrp authentication) \S+", "Cisco IOS IP Addressing Services Command Reference: "
                                               "ip nhrp authentication string"),
    # A password in a URL (archive path, ip ftp, copy sources): scheme://user:PASSWORD@host
    secret(r"^(.*?\b[a-z]+://[^:/@\s]+:)[^@\s]+(?=@)", "RFC 3986 3.2.1: user:password in a URL's userinfo"),
)

# --- volatile lines --------------------------------------------------------------------------
VOLATILE = compiled(
    # The header comments IOS writes at the top of `show running-config` (Cisco IOS Configuration
    # Fundamentals: "Last configuration change at ...", "NVRAM config last updated at ..."); after
    # a reload, before any change, the first reads "No configuration change since last restart".
    r"^!\s*(?:Last configuration change|No configuration change since|NVRAM config last updated"
    r"|Configuration last changed)",
    r"^ntp clock-period ",         # written by NTP as it disciplines the clock (Cisco IOS NTP docs)
    r"^Building configuration",    # the show command's own output, not configuration
    r"^Current configuration\s*:",
    r"^!?\s*Time: ",
    r"^Load for five secs",        # `exec prompt timestamp` prints load and time before the output
    r"^Time source is ",
    r"uptime is ",
)

# --- what IOS never prints -------------------------------------------------------------------
SHOW_SNMP_USER = "show snmp user"
HIDDEN = (
    Hidden(re.compile(r"^logging trap informational$"),
           "Cisco IOS Configuration Fundamentals Command Reference, logging trap: informational "
           "(severity 6) is the default, and a default is not shown in the running config"),
    Hidden(re.compile(r"^\s+no shutdown$"),
           "Cisco IOS Interface Command Reference, shutdown: an interface that is not shut prints "
           "no shutdown line", parent=re.compile(r"^interface ")),
    Hidden(re.compile(r"^snmp-server user "),
           "Cisco IOS SNMP Support Command Reference, snmp-server user: SNMPv3 users are not shown "
           "by show running-config; show snmp user lists them",
           checked_by=SHOW_SNMP_USER, section="management"),
)

# --- answers to a config line ------------------------------------------------------------------
# The emulator says "No such command"; IOS "% Invalid input", "% Incomplete command"...
ERROR_PATTERN = r"No such command|Invalid input|Incomplete command|Ambiguous command|%"


# --- SNMPv3 users ----------------------------------------------------------------------------------
_SNMP_USER = re.compile(
    r"^snmp-server user (\S+) (\S+)(?: remote \S+(?: udp-port \d+)?(?: vrf \S+)?)? (v1|v2c|v3)\b(.*)$")


def parse_snmp_users(output: str) -> list[dict[str, str]]:
    """`show snmp user` as a list of users, each {"user_name", "group_name", "engine_id",
    "storage_type", "access_list", "authentication_protocol", "privacy_protocol"} (ntc-templates'
    TextFSM template cisco_ios_show_snmp_user). A remark instead of users ("%SNMP agent not
    enabled" where no snmp-server line is configured) means no user. textfsm.TextFSMError when
    the output is not that command's."""
    from ntc_templates.parse import parse_output  # noqa: PLC0415  (TextFSM loads its templates)

    data = "\n".join(line for line in output.splitlines() if not line.lstrip().startswith("%"))
    return parse_output(platform="cisco_ios", command=SHOW_SNMP_USER, data=data) if data.strip() else []


def _protocols(options: str) -> tuple[str, str]:
    """The authentication and privacy protocols of an `snmp-server user` line's options, as
    `show snmp user` names them ("SHA", "AES128"; "None" when there is none)."""
    found = (re.search(r"\bauth (md5|sha-2 \d+|sha)\b", options),
             re.search(r"\bpriv (aes \d+|3des|des56|des)\b", options))
    return tuple(match.group(1).replace(" ", "").replace("des56", "des").upper() if match else "None"
                 for match in found)


def intended_snmp_users(intended: str) -> dict[str, dict[str, str]]:
    """User name -> {"line", "group_name", "authentication_protocol", "privacy_protocol"} of the
    intended `snmp-server user` lines (v3 only)."""
    users = {}
    for line in intended.splitlines():
        match = _SNMP_USER.match(line.strip())
        if match and match.group(3) == "v3":
            auth, priv = _protocols(match.group(4))
            users[match.group(1)] = {"line": line.strip(), "group_name": match.group(2),
                                     "authentication_protocol": auth, "privacy_protocol": priv}
    return users


def missing_snmp_users(intended: str, users: list[dict[str, str]]) -> list[str]:
    """The intended SNMPv3 users `show snmp user` (parsed: `users`) lacks, or shows in another
    group or with other protocols, each as a sentence. Passwords cannot be compared: IOS shows
    none (a changed password is re-sent by removing the user by hand first)."""
    shown = {user["user_name"]: user for user in users}
    problems = []
    for name, want in intended_snmp_users(intended).items():
        have = shown.get(name)
        if have is None:
            problems.append(f"SNMPv3 user {name} (group {want['group_name']}) is missing")
            continue
        for key, what in (("group_name", "group"), ("authentication_protocol", "authentication"),
                          ("privacy_protocol", "privacy")):
            if have.get(key, "").upper() != want[key].upper():
                problems.append(f"SNMPv3 user {name} has {what} {have.get(key)!r}, intended {want[key]!r}")
    return problems


def unintended_snmp_users(intended: str, users: list[dict[str, str]]) -> list[dict[str, str]]:
    """The users `show snmp user` lists that the intended config does not have."""
    wanted = intended_snmp_users(intended)
    return [user for user in users if user["user_name"] not in wanted]


def snmp_user_commands(intended: str, output: str) -> list[str]:
    """What to send so that `show snmp user` (`output`) lists exactly the intended SNMPv3 users:
    the intended line of each user missing or different, `no snmp-server user NAME GROUP v3` for
    each user not intended."""
    users = parse_snmp_users(output)
    shown = {user["user_name"]: user for user in users}
    wanted = intended_snmp_users(intended)
    differing = {name for name in wanted if missing_snmp_users(
        wanted[name]["line"], [shown[name]] if name in shown else [])}
    return ([f"no snmp-server user {user['user_name']} {user['group_name']} v3"
             for user in unintended_snmp_users(intended, users)]
            + [wanted[name]["line"] for name in wanted if name in differing])

"""Cisco IOS as real devices print and take their configuration.

The lab's emulator (fake-switches) is lenient: it prints only a few sections, accepts whatever it
knows and says "No such command" to the rest. What a real IOS device does, and what the toolkit
must know to compare, mask, push and verify against it, is stated here, each rule with its source:

- SECRETS: every value IOS prints as a secret (masked in backups, diffs and reports);
- VOLATILE: lines that change without a configuration change (a reload among them);
- ERROR_PATTERN: what IOS answers to a rejected line;

Secrets are matched with our own patterns: netutils' `sanitize_config` (1.19) only runs the
regular expressions it is given (its two sample filters cover `username ... password 5`), and
cannot tell a `key 1` under `key chain` (a number) from a `key 7 ...` under `tacacs server` (a
secret), which the masking here must, to keep masked backups restorable.
"""

from __future__ import annotations

from unitctl.network.rules import compiled, secret

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

# --- answers to a config line ------------------------------------------------------------------
# The emulator says "No such command"; IOS "% Invalid input", "% Incomplete command"...
ERROR_PATTERN = r"No such command|Invalid input|Incomplete command|Ambiguous command|%"

"""MikroTik RouterOS 7 as `/export` prints it: secrets and volatile lines (see ios.py for IOS).

Every secret is a `name=value` argument; the names are those of the RouterOS manual's menus.
"""

from __future__ import annotations

from unitctl.network.rules import compiled, secret

_MANUAL = "MikroTik RouterOS manual (help.mikrotik.com)"
# A value is a "quoted string" or one word; the argument's name is kept.
_VALUE = r"""(?:"(?:[^"\\]|\\.)*"|\S+)"""
# Text of a line taken a character or a whole quoted value at a time: a property name found
# through it is never inside a quoted value (`comment="security=private"` is a comment).
_UNQUOTED = r"""(?:[^"]|"(?:[^"\\]|\\.)*")"""
SECRETS = (
    # A name may be dotted (RouterOS 7's wifi and CAPsMAN: `security.passphrase=`, or `.passphrase=`
    # after a `security.` property on the same line).
    secret(r"((?:^|\s)(?:[\w.-]*[-.])?(?:password|secret|pre-shared-key|passphrase|private-key|preshared-key"
           r"|authentication-key|tcp-md5-key|trap-community|management-protection-key)=)" + _VALUE,
           f"{_MANUAL}: /user password=, /ppp secret password=, /snmp community authentication-password= "
           "and encryption-password=, /snmp trap-community=, /ip ipsec identity secret=, ipsec-secret=, "
           "/interface wireless security-profiles wpa-pre-shared-key= and wpa2-pre-shared-key=, /interface "
           "wifi security passphrase=, /interface wireguard private-key= and peers preshared-key=, "
           "/routing bgp connection tcp-md5-key=, authentication-key=, "
           "/interface wireless security-profiles management-protection-key=, /interface wifi and "
           "/caps-man configuration security.passphrase="),
    # auth-key= is the key itself under OSPF, but under /system ntp client servers it names an
    # NTP key (/system ntp key), which is not a secret.
    secret(r"((?:^|\s)auth-key=)" + _VALUE, f"{_MANUAL}: /routing ospf interface-template auth-key=",
           parent=r"^/(?!system ntp\b)"),
    secret(r"((?:^|\s)secrets=)" + _VALUE, f"{_MANUAL}: /tool romon secrets= (RoMON's shared secrets)",
           parent=r"^/tool romon\b"),
    secret(r"((?:^|\s)key=)" + _VALUE, f"{_MANUAL}: /system ntp key key= (NTP symmetric keys), "
           "/routing rip keys key=", parent=r"^/(?:system ntp key|routing rip keys)\b"),
    secret(r"((?:^|\s)static-key-\d=)" + _VALUE,
           f"{_MANUAL}: /interface wireless security-profiles static-key-0...3= (WEP keys)"),
    # SNMP v1/v2c has no user and no password: the community's name is what a manager must know
    # to read (or write) the router, so it is the secret. A v3 community (security=authorized or
    # private) is a user name, with its passwords masked above, and is kept.
    secret(r"^((?!" + _UNQUOTED + r"*?(?<![\w.-])security=(?:authorized|private)\b)" + _UNQUOTED
           + r"*?(?:^|\s)name=)" + _VALUE,
           f"{_MANUAL}: /snmp community name= (the community string of SNMP v1/v2c)",
           parent=r"^/snmp community\b"),
)

VOLATILE = compiled(
    r"^# \w{3}/\d{2}/\d{4} \d{2}:\d{2}:\d{2} by RouterOS",      # `/export` header, RouterOS 6
    r"^# \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} by RouterOS",      # and RouterOS 7
    r"^# software id = ",
    r"uptime",
)

# What RouterOS's terminal prints, on a line of its own, for a line it refused (it changes nothing
# then): the parser's messages (`bad command name`, `expected end of command`, `expected command
# name`, `syntax error`, `ambiguous value`, `invalid value`, `missing value(s) of argument(s)`,
# `value of X out of range`), a value that names nothing (`input does not match any value of
# interface`, `no such item`, `expected item number or name`, `invalid internal item number`),
# `not enough permissions`, `action timed out` and the menu's own `failure: ...`. Anchored at
# the line's start: the echoed command's own text (a comment saying "out of range") is no refusal.
ERROR_PATTERN = (r"(?m)^\s*(?:bad command name|expected end of command|expected command name|syntax error|failure:"
                 r"|invalid value|invalid internal item number|ambiguous value|input does not match any value"
                 r"|no such item|expected item number or name|value of \S+ out of range|missing value"
                 r"|not enough permissions|action timed out)")
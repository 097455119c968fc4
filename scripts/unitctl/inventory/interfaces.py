"""Switch port names as a platform reads them.

Cisco IOS accepts any unambiguous abbreviation of an interface type in any case
(`Gi1/0/1`, `gigabitethernet1/0/1`) and prints the full name (`GigabitEthernet1/0/1`), so two
entries that look different can be the same port. netutils (Network to Code) keeps the map of
IOS interface types and their abbreviations; this module only adds case-insensitivity and a
suggestion for a misspelt type. RouterOS names are the device's own (`ether1`, or a name the
unit gave): only their form is checked there.
"""

from __future__ import annotations

import difflib
import re

from netutils.constants import BASE_INTERFACES
from netutils.interface import canonical_interface_name

from unitctl.i18n import _

IOS_TYPES = sorted(set(BASE_INTERFACES.values()))
_IOS_TYPES_BY_LOWER = {kind.lower(): kind for kind in IOS_TYPES}
_IOS_NAME = re.compile(r"([A-Za-z][A-Za-z-]*)\s*(\d+(?:/\d+)*(?:\.\d+)?)")


def canonical_ios_port(name: str) -> str | None:
    """The full IOS name of an interface written any way IOS accepts (`gi1/0/1` ->
    `GigabitEthernet1/0/1`), or None when IOS has no such interface type."""
    match = _IOS_NAME.fullmatch(name.strip())
    if not match:
        return None
    kind, number = match.groups()
    try:
        return canonical_interface_name(kind + number, verify=True)
    except ValueError:
        full = _IOS_TYPES_BY_LOWER.get(kind.lower())
        return full + number if full else None


def ios_port_problem(name: str) -> str | None:
    """Why `name` is not an IOS interface name, with the closest type; None when it is one."""
    if canonical_ios_port(name) is not None:
        return None
    match = _IOS_NAME.fullmatch(name.strip())
    if not match:
        return _("'{port}' is not an IOS interface name: write the type and its number, such as "
                 "GigabitEthernet1/0/1 (or Gi1/0/1)").format(port=name)
    kind, number = match.groups()
    close = difflib.get_close_matches(kind.lower(), list(_IOS_TYPES_BY_LOWER), n=1, cutoff=0.6)
    hint = (_(" (did you mean '{suggestion}'?)").format(suggestion=_IOS_TYPES_BY_LOWER[close[0]] + number)
            if close else "")
    return _("'{port}' is not an IOS interface name: IOS has no interface type '{type}'{hint}").format(
        port=name, type=kind, hint=hint)

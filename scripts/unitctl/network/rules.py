"""The kinds of rule a platform module (ios.py, routeros.py) states about its configurations.

Kept apart from platforms.py so that each platform module can state its rules without importing
the module that assembles the platforms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """A named part of a configuration the toolkit may own (see platforms.py)."""

    name: str
    top: re.Pattern
    child: re.Pattern | None = None  # set: this section owns matching child lines of `top` blocks


@dataclass(frozen=True)
class Secret:
    """A value the device prints that is a secret.

    `pattern` is searched in one line: its group 1 is kept, the rest of the match is replaced by
    the mask, and whatever follows the match stays (an SNMP community's `RO 10`, an ISAKMP key's
    `address 192.0.2.1`). `parent`, when set, limits the rule to lines whose parent (the block
    line above them; a RouterOS `/path` header) matches it: ` key 1` is a key's number under
    `key chain NAME` but a secret under `tacacs server NAME`.
    """

    pattern: re.Pattern
    source: str
    parent: re.Pattern | None = None


@dataclass(frozen=True)
class Hidden:
    """An intended line the device never prints in its running configuration.

    Such a line (a default, or a value kept outside the running config) is taken out of both
    sides of every comparison, so that it is neither sent again on every push nor demanded by a
    verification or an audit. When the device shows it elsewhere, `checked_by` names the command
    that does, and `section` the section it belongs to (the command is only run where the
    toolkit manages that section).
    """

    pattern: re.Pattern
    source: str
    parent: re.Pattern | None = None
    checked_by: str = ""
    section: str = ""


def compiled(*patterns: str) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(pattern) for pattern in patterns)


def secret(pattern: str, source: str, parent: str | None = None) -> Secret:
    return Secret(re.compile(pattern), source, re.compile(parent) if parent else None)

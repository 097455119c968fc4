"""The Debian releases the toolkit supports, and where a host's release stands against policy.

Each role keeps what differs between releases in `vars/debian-<major>.yml`; the compliance checks
keep theirs in one table per module, keyed by the major number the `debian_release` fixture reads.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

# Major number -> codename, as /etc/os-release (VERSION_ID, VERSION_CODENAME) names them.
DEBIAN_RELEASES: dict[int, str] = {12: "bookworm", 13: "trixie"}


def debian_codename(release: Any) -> str:
    """The codename of a Debian major release (12 -> "bookworm"), as the apt suites name it.
    Raises KeyError for a release the toolkit does not support."""
    return DEBIAN_RELEASES[int(release)]


def phase_out_date(value: Any) -> datetime.date | None:
    """A phase-out date as YAML gives it (a date, or text YYYY-MM-DD); None when it is neither."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):  # fromisoformat also takes 20280630, 2028-W26
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def expected_release(host_entry: dict[str, Any], policy: dict[str, Any]) -> int:
    """The release the inventory says a server or workstation runs: its hosts.yml `debian_release`,
    else policy's `province_debian_release_default`. Raises KeyError when neither is set."""
    release = host_entry.get("debian_release")
    return int(release if release is not None else policy["province_debian_release_default"])


def phase_out_of(release: int, policy: dict[str, Any]) -> datetime.date | None:
    """The date after which policy reports a host on `release` (province_debian_releases), or None
    when the release is not being phased out or policy does not list it."""
    releases = policy.get("province_debian_releases") or {}
    settings = releases.get(release, releases.get(str(release))) or {}
    return phase_out_date(settings.get("phase_out")) if settings.get("phase_out") is not None else None


def allowed_releases(policy: dict[str, Any]) -> list[int]:
    """The major releases policy's province_debian_releases lists (keys read as numbers), sorted."""
    return sorted(int(release) for release in (policy.get("province_debian_releases") or {}))

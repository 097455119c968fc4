"""restic 0.14's stale-lock rule as check BAK-007 applies it (tests/compliance/backup_facts.py)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "compliance"))
from backup_facts import stale_reason  # noqa: E402

NOW = datetime.fromisoformat("2025-03-01T02:00:00Z")
TEHRAN = timezone(timedelta(hours=3, minutes=30))


def lock(minutes_ago: float, hostname: str = "court-srv", pid: int = 4242) -> dict:
    # restic writes the local time, in nanoseconds, with the zone's offset (the province's: +03:30)
    made = (NOW - timedelta(minutes=minutes_ago)).astimezone(TEHRAN)
    return {"time": made.strftime("%Y-%m-%dT%H:%M:%S.%f") + "789+03:30", "exclusive": False,
            "hostname": hostname, "username": "root", "pid": pid}


def alive(pid: int) -> bool:
    return pid == 4242


@pytest.mark.parametrize("minutes_ago, hostname, pid, stale", [
    (31, "centre-srv", 4242, True),   # older than 30 minutes: stale whoever made it
    (31, "court-srv", 4242, True),    # even if that PID is alive now (reused, or a hung restic)
    (29, "centre-srv", 1, False),     # another host's recent lock: never stale (its PID means nothing here)
    (29, "court-srv", 4242, False),   # this host's running restic: live
    (1, "court-srv", 999, True),      # this host, the process is gone: stale at once
])
def test_restic_stale_rule(minutes_ago, hostname, pid, stale):
    reason = stale_reason(lock(minutes_ago, hostname, pid), NOW, "court-srv", alive)
    assert (reason is not None) is stale, reason


def test_reasons_say_why():
    assert "no longer exists" in stale_reason(lock(1, pid=999), NOW, "court-srv", alive)
    assert "31 minutes ago" in stale_reason(lock(31), NOW, "court-srv", alive)

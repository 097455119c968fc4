"""What a unit server's restic repository and its backup runs show (test_backup.py).

Stale locks by restic's own rule, as Debian 12's restic 0.14.0 applies it in `restic unlock`
without --remove-all (internal/restic/lock.go, `Lock.Stale`; unchanged up to 0.18, Debian 13's,
which removed a killed process's lock alike when tried): a lock is
stale when its time is more than 30 minutes old (a live restic refreshes its lock every 5
minutes), or when it was made on this host (the lock's hostname is this host's) by a process
that no longer exists. A lock of another host younger than 30 minutes is never stale. restic
tests "exists" by sending the process SIGHUP; the checks only ask (`kill -0`), never signal.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from datetime import datetime, timedelta

from server_facts import root_run

RESTIC = "/usr/local/sbin/unitctl-restic"
STATE_DIR = "/var/lib/unitctl/backup"  # backup_state_dir (roles/backup)
STALE_AFTER = timedelta(minutes=30)  # restic's StaleLockTimeout

# This host's name and clock, then one line per lock in the repository: "lock ID JSON". Only
# reads (--no-lock): a check never takes a lock. Exit 3 when the repository does not answer.
_LOCKS = f"""
restic={RESTIC}
uname -n; date -u +%Y-%m-%dT%H:%M:%SZ
ids=$("$restic" list locks --no-lock) || exit 3
for id in $ids; do
  printf 'lock %s ' "$id"; "$restic" cat lock "$id" --no-lock 2>/dev/null | tr -d '\\n'; echo
done
"""


def stale_reason(lock: dict, now: datetime, this_host: str, process_exists: Callable[[int], bool]) -> str | None:
    """Why restic calls LOCK stale (a sentence), or None when it would keep it."""
    made = datetime.fromisoformat(lock["time"])
    age = now - made
    if age > STALE_AFTER:
        return f"made {made.isoformat(timespec='seconds')}, {_minutes(age)} ago (stale after 30 minutes)"
    if lock.get("hostname") != this_host:
        return None
    if not process_exists(int(lock.get("pid", 0))):
        return f"made on this host by process {lock.get('pid')}, which no longer exists"
    return None


def _minutes(age: timedelta) -> str:
    return f"{int(age.total_seconds() // 60)} minutes"


def repository_locks(host) -> tuple[str, datetime, list[dict]]:
    """This host's name, its clock (UTC) and the locks in its repository (each with its "id")."""
    found = root_run(host, _LOCKS)
    assert found.rc == 0, f"the repository's locks cannot be listed: {found.stderr.strip()[-300:]}"
    lines = found.stdout.splitlines()
    this_host, now = lines[0].strip(), datetime.fromisoformat(lines[1].strip())
    locks = []
    for line in lines[2:]:
        _, lock_id, text = (line.split(" ", 2) + [""])[:3]
        if not text.strip():  # gone between the list and the read (a refresh, an end): restic skips it too
            continue
        locks.append({**json.loads(text), "id": lock_id})
    return this_host, now, locks


def stale_locks(host) -> tuple[datetime, list[str]]:
    """The host's clock (UTC), and the repository's locks restic would remove as stale, one sentence each."""
    this_host, now, locks = repository_locks(host)
    local_pids = sorted({int(lock.get("pid", 0)) for lock in locks if lock.get("hostname") == this_host})
    alive = set()
    if local_pids:
        probe = "; ".join(f"kill -0 {pid} 2>/dev/null && echo {pid}" for pid in local_pids)
        alive = {int(pid) for pid in root_run(host, probe + "; true").stdout.split()}
    found = []
    for lock in locks:
        reason = stale_reason(lock, now, this_host, lambda pid: pid in alive)
        if reason:
            kind = "exclusive" if lock.get("exclusive") else "shared"
            found.append(f"{kind} lock {lock['id'][:8]} of {lock.get('hostname')} (PID {lock.get('pid')}): {reason}")
    return now, found


def state_file(host, name: str) -> str | None:
    """The content of a file of STATE_DIR, or None when there is none."""
    read = root_run(host, f"cat {shlex.quote(f'{STATE_DIR}/{name}')}")
    if read.rc != 0:
        return None
    return read.stdout.strip() or None

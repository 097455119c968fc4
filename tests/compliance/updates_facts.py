"""What a host shows about its security updates (test_updates.py), read and judged apart.

Pending security updates are what APT itself lists as upgradable from a `-security` suite
(`apt list --upgradable`, the package lists as they are: the check never fetches). Since when
each has been pending comes from the record APT's Post-Invoke-Success hook keeps after every
refresh of the lists (roles/security_updates: /var/lib/unitctl/security-updates/pending.json);
an update the record does not know since its installed version is "not recorded", which fails
(nothing shows how long it has been missing). unattended-upgrade's own log
(/var/log/unattended-upgrades/unattended-upgrades.log, and the previous month's, rotated and
compressed) shows its runs: one starts at "Starting unattended upgrades script" and succeeded
when it ended with "No packages found that can be upgraded unattended..." or "All upgrades
installed" and logged no ERROR (a failed install, a lock it could not take, a crash: all ERROR).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

RECORD = "/var/lib/unitctl/security-updates/pending.json"  # security_updates_state_dir (roles/security_updates)
UU_LOG = "/var/log/unattended-upgrades/unattended-upgrades.log"
# The package lists are refreshed daily (APT::Periodic::Update-Package-Lists) and unattended-upgrade
# runs daily (apt-daily-upgrade.timer): two days tolerate a host that was off for one.
DAILY_JOB_GRACE = timedelta(days=2)
DEFAULT_MAX_PENDING_DAYS = 7

# The host's clock (local time, as unattended-upgrade writes its log, and epoch seconds), the
# record, the upgradable packages, unattended-upgrade's run markers: one command, read as root.
PENDING_COMMAND = (f"date '+%Y-%m-%d %H:%M:%S %s'; echo @@record; cat {RECORD} 2>/dev/null; echo; "
                   "echo @@upgradable; apt list --upgradable 2>/dev/null")
RUNS_COMMAND = (f"date '+%Y-%m-%d %H:%M:%S'; echo @@log; "
                f"{{ zcat -f {UU_LOG}.1.gz; cat {UU_LOG}; }} 2>/dev/null | "
                "grep -E 'Starting unattended upgrades script|No packages found that can be upgraded|"
                "All upgrades installed|--dry-run| ERROR ' | tail -n 400")

# apt list: "tzdata/oldstable-security 2026f-0+deb12u1 all [upgradable from: 2026b-0+deb12u1]"
_UPGRADABLE = re.compile(r"^(?P<name>[^/\s]+)/(?P<suites>\S+) (?P<candidate>\S+) (?P<arch>\S+) "
                         r"\[upgradable from: (?P<installed>[^\]]+)\]")
_LOG_LINE = re.compile(r"^(?P<when>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(,\d+)? (?P<level>[A-Z]+) (?P<text>.*)$")


class Pending(NamedTuple):
    """A pending security update; `since` is None when the record does not know it."""

    name: str
    arch: str
    installed: str
    candidate: str
    since: datetime | None

    def describe(self, now: datetime) -> str:
        if self.since is None:
            when = "since: not recorded"
        else:
            when = f"pending since {self.since:%Y-%m-%d %H:%M} ({(now - self.since).days} days)"
        return f"{self.name} ({self.arch}) {self.installed} -> {self.candidate}, {when}"


def sections(output: str) -> dict[str, str]:
    """'@@name' lines cut OUTPUT into parts; the part before the first is 'head'."""
    parts, name = {"head": []}, "head"
    for line in output.splitlines():
        if line.startswith("@@"):
            name = line[2:].strip()
            parts[name] = []
        else:
            parts[name].append(line)
    return {key: "\n".join(lines) for key, lines in parts.items()}


def security_upgradable(apt_list: str) -> list[dict]:
    """The upgradable packages whose candidate comes from a -security suite."""
    found = []
    for line in apt_list.splitlines():
        match = _UPGRADABLE.match(line.strip())
        if match and any(suite.endswith("-security") for suite in match["suites"].split(",")):
            found.append({key: match[key] for key in ("name", "arch", "installed", "candidate")})
    return found


def pending_updates(upgradable: list[dict], record: dict, local_of) -> list[Pending]:
    """Each pending security update with the time it was first seen against its installed version.
    LOCAL_OF turns the record's epoch seconds into the host's local time."""
    known = record.get("packages", {})
    result = []
    for update in upgradable:
        entry = known.get(f"{update['name']}:{update['arch']}")
        since = None
        if isinstance(entry, dict) and entry.get("installed") == update["installed"] \
                and isinstance(entry.get("first_seen"), int):
            since = local_of(entry["first_seen"])
        result.append(Pending(update["name"], update["arch"], update["installed"], update["candidate"], since))
    return result


def pending_problems(output: str, max_days: int) -> list[str]:
    """Why the host fails UPD-001 ([] when it passes), from PENDING_COMMAND's output."""
    parts = sections(output)
    date, time_of_day, epoch = parts["head"].split()[:3]
    now, now_epoch = datetime.fromisoformat(f"{date} {time_of_day}"), int(epoch)

    def local_of(seconds: int) -> datetime:
        return now - timedelta(seconds=now_epoch - seconds)

    upgradable = security_upgradable(parts.get("upgradable", ""))
    problems = []
    try:
        record = json.loads(parts.get("record", "") or "null")
    except ValueError:
        record = None
    if not isinstance(record, dict):
        problems.append(f"no record of since when security updates are pending ({RECORD}): "
                        "nothing tracks them (roles/security_updates)")
        record = {}
    elif not isinstance(record.get("updated"), int) or now_epoch - record["updated"] > DAILY_JOB_GRACE.total_seconds():
        updated = local_of(record["updated"]) if isinstance(record.get("updated"), int) else None
        problems.append(f"the package lists were last refreshed (and pending updates recorded) "
                        f"{'at ' + f'{updated:%Y-%m-%d %H:%M}' if updated else 'never'}: more than "
                        f"{DAILY_JOB_GRACE.days} days ago, so new security updates are not seen")
    limit = timedelta(days=max_days)
    overdue = [update for update in pending_updates(upgradable, record, local_of)
               if update.since is None or now - update.since > limit]
    if overdue:
        problems.append(f"security updates pending longer than {max_days} days or not recorded: "
                        + "; ".join(update.describe(now) for update in overdue))
    return problems


@dataclass(frozen=True)
class Run:
    started: datetime
    succeeded: bool
    dry_run: bool
    errors: tuple[str, ...]
    finished: bool


def unattended_runs(log: str) -> list[Run]:
    """unattended-upgrade's runs, oldest first, from its log lines (RUNS_COMMAND keeps the markers)."""
    runs, current = [], None
    for line in log.splitlines():
        match = _LOG_LINE.match(line.strip())
        if not match:
            continue
        when, text = datetime.fromisoformat(match["when"]), match["text"]
        if "Starting unattended upgrades script" in text:
            if current:
                runs.append(current)
            current = {"started": when, "errors": [], "finished": False, "dry_run": False}
        elif current is None:
            continue
        elif match["level"] == "ERROR":
            current["errors"].append(text)
        elif "--dry-run" in text:
            current["dry_run"] = True
        elif text.startswith("No packages found that can be upgraded") or text.startswith("All upgrades installed"):
            current["finished"] = True
    if current:
        runs.append(current)
    return [Run(r["started"], r["finished"] and not r["errors"] and not r["dry_run"], r["dry_run"],
                tuple(r["errors"]), r["finished"]) for r in runs]


def unattended_problems(output: str) -> list[str]:
    """Why the host fails UPD-002 ([] when it passes), from RUNS_COMMAND's output."""
    parts = sections(output)
    now = datetime.fromisoformat(parts["head"].strip())
    runs = unattended_runs(parts.get("log", ""))
    if not runs:
        return [f"unattended-upgrade has never run ({UU_LOG} shows no run)"]
    good = [run for run in runs if run.succeeded]
    if good and now - good[-1].started <= DAILY_JOB_GRACE:
        return []
    last = runs[-1]
    why = f"its last run, {last.started:%Y-%m-%d %H:%M}, " + (
        f"logged: {last.errors[-1]}" if last.errors else "was a dry run" if last.dry_run else "did not finish")
    if not good:
        return [f"unattended-upgrade has never run successfully; {why}"]
    return [f"unattended-upgrade last succeeded {good[-1].started:%Y-%m-%d %H:%M}, more than "
            f"{DAILY_JOB_GRACE.days} days ago" + ("" if last.succeeded else f"; {why}")]


_TO_RESTART = re.compile(r"^Services to be restarted:\n((?:[ \t]+\S.*(?:\n|$))*)", re.MULTILINE)


def services_to_restart(listing: str) -> list[str]:
    """The services `needrestart -r l` would restart on its own (not those it defers)."""
    block = _TO_RESTART.search(listing)
    commands = block.group(1).split("\n") if block else []
    return sorted({unit for command in commands if command.split()[:2] == ["systemctl", "restart"]
                   for unit in command.split()[2:]})

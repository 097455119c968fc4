"""render, diff, backup, push and drift for one device, and for many at once.

Each device is handled on its own: every failure (a missing template variable, an unreachable
device, a refused login, a rejected command) ends up in that device's Result with a plain
message, and the other devices carry on. Many devices run at once in a bounded thread pool;
each device's own timeout is its settings' `timeout_s`.

A push backs up first, sends only the remediation, saves, reads back and verifies the managed
sections; on any failure after the first command it puts the managed sections back as they were
before the push (computed by the same remediation, from the device's state back to the backup)
and says whether that worked. What the device remarks on a line it took (an IOS %Warning) is
kept in the Result's warnings, for the technician to read; it is not a failure.

Where the platform keeps part of the managed config out of the running config (IOS: SNMPv3
users, only in `show snmp user`), a diff, push and verification also read that show command.
A roll-back does not: the pre-push backup holds no such lines to go back to.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from unitctl.network.backup import BackupRepository, backup_text
from unitctl.network.compare import Comparison, UnsafeCommand, compare, sendable_of
from unitctl.network.platforms import warnings
from unitctl.network.render import MissingVariable, Target, render
from unitctl.network.session import DeviceError, Session


@dataclass
class Result:
    device: str
    unit_id: str
    ok: bool = True
    changed: bool = False
    message: str = ""
    comparison: Comparison | None = None
    backup: str | None = None           # the running config as backed up (masked, no volatile lines)
    backup_changed: bool = False
    intended: str | None = None
    warnings: list[str] = field(default_factory=list)  # the device's remarks on lines it took

    @property
    def lines(self) -> list[str]:
        return self.comparison.lines() if self.comparison else []


def render_one(target: Target) -> Result:
    return Result(target.name, target.unit_id, intended=render(target, masked=True))


def diff_one(target: Target, repository: BackupRepository | None = None) -> Result:
    """What a push would send (drift is a diff that is not empty)."""
    return push_one(target, repository, check=True)


def backup_one(target: Target, repository: BackupRepository) -> Result:
    with Session(target) as session:
        running = session.running()
    return _backed_up(Result(target.name, target.unit_id), target, repository, running)


def _backed_up(result: Result, target: Target, repository: BackupRepository | None, running: str) -> Result:
    result.backup = backup_text(target.platform, running)
    if repository is not None:
        result.backup_changed = repository.store(target.unit_id, target.name, result.backup)
    return result


def push_one(target: Target, repository: BackupRepository | None = None, check: bool = False) -> Result:
    intended = render(target)  # a missing variable stops here, before any connection
    platform, managed = target.platform, target.managed_sections
    with Session(target) as session:
        running = session.running()
        result = _backed_up(Result(target.name, target.unit_id, intended=intended), target,
                            repository if not check else None, running)
        result.comparison = compare(platform, running, intended, managed, read_checks(session, platform, managed))
        if check or not result.comparison.commands:
            return result
        commands = sendable_of(platform, result.comparison, intended, running)
        try:
            result.warnings = warnings(platform, session.configure(commands))
            session.save()
            left = compare(platform, session.running(), intended, managed,
                           read_checks(session, platform, managed)).commands
            if left:
                raise DeviceError("after the push the managed sections still differ: " + "; ".join(left))
        except DeviceError as error:
            result.ok = False
            result.message = f"push failed: {error}; {_roll_back(target, running)}"
            return result
    result.changed = True
    return result


def _roll_back(target: Target, backup: str) -> str:
    """Bring the managed sections back to `backup` (the pre-push running config) on a fresh session."""
    platform, managed = target.platform, target.managed_sections
    try:
        with Session(target) as session:
            now = session.running()
            back = compare(platform, now, backup, managed)
            if back.commands:
                session.configure(sendable_of(platform, back, backup, now))
                session.save()
            left = compare(platform, session.running(), backup, managed).commands
    except (DeviceError, UnsafeCommand) as error:
        return f"ROLL-BACK FAILED ({error}): restore the pre-push backup by hand"
    if left:
        return "ROLL-BACK INCOMPLETE, still different from the pre-push backup: " + "; ".join(left)
    return "rolled back: the device is as it was before the push"


def read_checks(session: Session, platform, managed) -> dict[str, str]:
    """The output of every show command the platform needs besides the running config."""
    return {command: session.show(command) for command in platform.checks(managed)}


def run_many(operation: Callable[..., Result], targets: list[Target], workers: int = 10,
             **kwargs) -> list[Result]:
    """Run one operation on every device, at most `workers` at a time; never raises for one device."""

    def guarded(target: Target) -> Result:
        try:
            return operation(target, **kwargs)
        except (MissingVariable, DeviceError, UnsafeCommand) as error:
            message = str(error)
        except Exception as error:  # noqa: BLE001  (one device's surprise must not stop the others)
            message = f"unexpected error: {type(error).__name__}: {error}"
        return Result(target.name, target.unit_id, ok=False, message=message)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets) or 1))) as pool:
        return list(pool.map(guarded, targets))


def commit_backups(repository: BackupRepository, results: list[Result], what: str) -> str | None:
    """One commit for the run, naming the devices whose backup changed."""
    return repository.commit(what, [(r.unit_id, r.device) for r in results if r.backup_changed])


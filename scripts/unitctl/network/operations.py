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

A push never cuts the path it reaches the device by (unitctl.network.management_path): lines
that would are held until the device has been read again after the new path is in place (a
management VLAN move is three rounds: build the new path, switch the address over in one write,
take the old path away); a push whose only lines left would cut the path fails, saying which,
and is rolled back.

Where the platform keeps part of the managed config out of the running config (IOS: SNMPv3
users, only in `show snmp user`), a diff, push and verification also read that show command.
A roll-back cannot put such lines back (the pre-push backup holds none), so it reads the command
again and says "ROLL-BACK INCOMPLETE" when its output differs from before the push.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Callable

from unitctl.network.backup import BackupRepository, backup_text
from unitctl.network.compare import Comparison, UnsafeCommand, compare, sendable, sendable_of
from unitctl.network.management_path import PushPlan
from unitctl.network.platforms import warnings
from unitctl.network.render import MissingVariable, Target, render
from unitctl.network.session import DeviceError, Session, SessionLost

# A push is a few rounds at most: the difference, the switch-over once the new path is built,
# then the lines that would have cut the old path (a spare round or two for a device that takes
# a moment, e.g. a new SVI coming up).
MAX_ROUNDS = 5


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
    with ExitStack() as stack:
        session = stack.enter_context(Session(target))
        running = session.running()
        result = _backed_up(Result(target.name, target.unit_id, intended=intended), target,
                            repository if not check else None, running)
        shown = read_checks(session, platform, managed)
        result.comparison = compare(platform, running, intended, managed, shown)
        if check or not result.comparison.commands:
            return result
        try:
            session, printed = _converge(target, stack, session, intended, running, result.comparison)
            result.warnings = warnings(platform, printed)
            session.save()
        except Exception as error:  # noqa: BLE001  (whatever stopped it, the device goes back)
            why = error if isinstance(error, DeviceError) else f"unexpected error: {type(error).__name__}: {error}"
            result.ok = False
            result.message = f"push failed: {why}; {_roll_back(target, running, shown)}"
            return result
    result.changed = True
    return result


class StillDifferent(DeviceError):
    """The device's managed sections still differ from the goal after the last round."""


def _converge(target: Target, stack: ExitStack, session: Session, goal: str, running: str,
              comparison: Comparison | None = None, with_checks: bool = True) -> tuple[Session, str]:
    """Bring the managed sections to `goal` (a real config: intended, or a backup), never cutting
    the path the toolkit reaches the device by (platform.plan_push): each round sends what is
    safe now, then the switch-over in one write, then reads the device again; lines held back as
    cutting the old path are sent in the next round, once the path has moved.

    Returns the session in use (a new one, entered on `stack`, when the switch-over ended the
    old) and what the device printed. `with_checks`: also compare what only show commands show
    (a push; a roll-back to a backup has no such lines to go back to). DeviceError (UnsafeCommand
    as sendable's) when a line is rejected, the device does not come back after a switch-over or
    only path-cutting lines are left; StillDifferent after MAX_ROUNDS rounds."""
    platform, managed, address = target.platform, target.managed_sections, target.host["address"]
    printed = []
    for _ in range(MAX_ROUNDS):
        if comparison is None:
            comparison = compare(platform, running, goal, managed,
                                 read_checks(session, platform, managed) if with_checks else None)
        if not comparison.commands:
            return session, "".join(printed)
        if platform.plan_push is None or hasattr(comparison, "sendable"):
            plan = PushPlan(comparison.commands, [], [])
        else:
            plan = platform.plan_push(running, goal, comparison.commands, address, session.local_address())
        if plan.blocked:
            why = f" (the address cannot move yet: {plan.waiting})" if plan.waiting else ""
            raise DeviceError(f"not sent, as they would cut the management path to {address}{why}: "
                              + "; ".join(line.strip() for line in plan.held))
        if plan.now:
            sent = sendable_of(platform, comparison, goal, running) if plan.now == comparison.commands \
                else sendable(platform, plan.now, goal, running)
            printed.append(session.configure(sent))
        if plan.switchover:
            try:
                printed.append(session.configure_at_once(plan.switchover))
            except SessionLost:
                session = stack.enter_context(Session(target))  # DeviceError if the device is lost
        running, comparison = session.running(), None
    left = compare(platform, running, goal, managed,
                   read_checks(session, platform, managed) if with_checks else None).commands
    if left:
        raise StillDifferent("the managed sections still differ: " + "; ".join(left))
    return session, "".join(printed)


def _roll_back(target: Target, backup: str, shown: dict[str, str] | None = None) -> str:
    """Bring the managed sections back to `backup` (the pre-push running config) on a fresh
    session, with the same care for the management path as the push. "rolled back" only when the
    device reads back as the backup, and what only show commands show (`shown`, read before the
    push: IOS SNMPv3 users) as it was: what the push added there is taken away (platform.
    shown_undo); otherwise what is left, said plainly."""
    platform, managed = target.platform, target.managed_sections
    try:
        with ExitStack() as stack:
            session = stack.enter_context(Session(target))
            session, _ = _converge(target, stack, session, backup, session.running(), with_checks=False)
            now = read_checks(session, platform, managed)
            undo = [line for command in now if shown is not None and command in platform.shown_undo
                    for line in platform.shown_undo[command](shown[command], now[command])]
            if undo:
                session.configure(undo)
                now = read_checks(session, platform, managed)
            session.save()
    except StillDifferent as error:
        return f"ROLL-BACK INCOMPLETE, {error} from the pre-push backup"
    except Exception as error:  # noqa: BLE001  (a DeviceError, UnsafeCommand or a surprise: said plainly)
        return f"ROLL-BACK FAILED ({error}): restore the pre-push backup by hand"
    changed = [command for command in now if shown is not None and now[command] != shown.get(command)]
    if changed:
        # the backup holds no such lines to go back to (IOS never prints SNMPv3 users)
        return ("ROLL-BACK INCOMPLETE: the running config is as before the push, but what "
                + ", ".join(f"`{command}`" for command in changed)
                + " shows differs from before it: compare and put it back by hand")
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


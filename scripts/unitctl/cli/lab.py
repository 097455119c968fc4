"""`unitctl lab up|down|status|stop|reboot`: the built-in lab (see unitctl.lab)."""

from __future__ import annotations

import argparse
import sys

from unitctl.cli import exit_statuses
from unitctl.i18n import N_, _

EXIT_STATUSES = (
    ("0", N_("done (status: every lab host and switch is up)")),
    ("1", N_("the lab could not do it: the message says why (status: some host or switch is down)")),
    ("2", N_("wrong usage")))


def register(subparsers) -> None:
    statuses = exit_statuses(*EXIT_STATUSES)
    parser = subparsers.add_parser(
        "lab", help=_("boot, stop or check the built-in lab (needs root)"),
        description=_("The built-in lab: the lab province's hosts as systemd-nspawn machines, "
                      "its IOS switches emulated, and a package mirror, on this machine."),
        epilog=statuses)
    actions = parser.add_subparsers(dest="lab_command", required=True, metavar="ACTION")
    for name, help_text, func in (
        ("up", _("boot the lab (idempotent; clears leftovers of an interrupted run)"), _up),
        ("down", _("stop the lab and remove everything but caches, keys and secrets"), _down),
        ("status", _("show each lab host and switch; exit non-zero if any is down"), _status),
    ):
        actions.add_parser(name, help=help_text, description=help_text, epilog=statuses).set_defaults(func=func)
    stop = actions.add_parser(
        "stop", help=_("power off one lab host, to rehearse an outage (`up` boots it again, fresh)"), epilog=statuses)
    stop.add_argument("host", help=_("the lab host, e.g. pros-ws2"))
    stop.set_defaults(func=_stop)
    reboot = actions.add_parser(
        "reboot", help=_("reboot one lab host keeping its disk, as a real server restarts"),
        description=_("Reboot one lab host keeping its disk: an orderly shutdown, a new boot from "
                      "the same disk, then the same readiness checks as `up`."),
        epilog=statuses)
    reboot.add_argument("host", help=_("the lab host, e.g. court-srv"))
    reboot.set_defaults(func=_reboot)


def _run(action) -> int:
    from unitctl.lab.proc import LabError  # noqa: PLC0415  (keeps start-up light)

    try:
        return action()
    except LabError as error:
        print("lab: " + _("error: {message}").format(message=error), file=sys.stderr)
        return 1


def _up(args: argparse.Namespace) -> int:
    from unitctl import lab  # noqa: PLC0415

    return _run(lab.up)


def _down(args: argparse.Namespace) -> int:
    from unitctl import lab  # noqa: PLC0415

    return _run(lab.down)


def _status(args: argparse.Namespace) -> int:
    from unitctl import lab  # noqa: PLC0415

    return _run(lab.status)


def _stop(args: argparse.Namespace) -> int:
    from unitctl import lab  # noqa: PLC0415

    return _run(lambda: lab.stop_host(args.host))


def _reboot(args: argparse.Namespace) -> int:
    from unitctl import lab  # noqa: PLC0415

    return _run(lambda: lab.reboot_host(args.host))

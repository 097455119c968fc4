"""`unitctl lab up|down|status|stop|reboot|generate`: the built-in lab (see unitctl.lab), and a
synthetic province for it (unitctl.lab.generate)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from unitctl.cli import exit_statuses
from unitctl.i18n import N_, _, number

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
    generate = actions.add_parser(
        "generate", help=_("write a synthetic lab province of N small units, to measure how costs grow (no root)"),
        description=_("Write a lab province of N units, each a unit server, a CMS workstation and a printer queue, "
                      "beside the lab's centre, with addresses of the lab's network plan, and its inventory "
                      "source. Boot it with UNITLAB_UNITS_DIR=OUTPUT/units unitctl lab up, which makes each "
                      "unit's vault with its own identity and password."),
        epilog=statuses)
    generate.add_argument("--units", type=_unit_count, required=True, metavar="N",
                          help=_("how many units beside the centre (1 to {maximum})").format(
                              maximum=number(_max_units())))
    generate.add_argument("--output", type=Path, default=None, metavar="DIR",
                          help=_("the folder to write (default: results/lab-generated); an earlier generated "
                                 "province there is replaced, any other content refused"))
    generate.set_defaults(func=_generate)


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


def _max_units() -> int:
    from unitctl.lab.generate import MAX_UNITS  # noqa: PLC0415

    return MAX_UNITS


def _unit_count(text: str) -> int:
    """argparse type of --units: a whole number the lab's address plan holds."""
    from unitctl.lab.generate import GenerateRefused, check_count  # noqa: PLC0415

    try:
        count = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(_("not a whole number: {value}").format(value=text)) from error
    try:
        check_count(count)
    except GenerateRefused as refusal:
        raise argparse.ArgumentTypeError(str(refusal)) from refusal
    return count


def _generate(args: argparse.Namespace) -> int:
    from unitctl import paths  # noqa: PLC0415
    from unitctl.cli.inventory import _print_result  # noqa: PLC0415
    from unitctl.inventory.validate import validate_province  # noqa: PLC0415
    from unitctl.lab import generate  # noqa: PLC0415

    try:
        source = generate.generate(args.units, args.output or generate.DEFAULT_OUTPUT)
    except generate.GenerateRefused as refusal:
        print("lab: " + _("error: {message}").format(message=refusal), file=sys.stderr)
        return 1
    units_dir = source.parent / generate.UNITS_FOLDER
    print(_("wrote a lab province of {units} units and the centre ({hosts} lab hosts) into {folder}").format(
        units=number(args.units), hosts=number(generate.lab_hosts(args.units)), folder=paths.in_checkout(source.parent)))
    status = _print_result(source.parent, units_dir, validate_province(source.parent, units_dir))
    print(_("boot it (each unit's vault is made then): UNITLAB_UNITS_DIR={units} unitctl lab up").format(
        units=paths.in_checkout(units_dir)))
    print(_("act on it: UNITCTL_INVENTORY={source} unitctl provision ... (or -i {source})").format(
        source=paths.in_checkout(source)))
    print(_("back to the lab's own province: unitctl lab down, then unitctl lab up without UNITLAB_UNITS_DIR"))
    return status

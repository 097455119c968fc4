"""`unitctl net render|diff|push|backup|drift`: network devices for technicians (see unitctl.network).

Exit status: 0 all well, 1 some device failed (each one is named with its reason), 2 (drift and
diff only) some device differs from its intended config.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from unitctl import paths
from unitctl.cli import USAGE_REFUSED, add_inventory_option, checked_source, exit_statuses
from unitctl.i18n import N_, _, ngettext, number

ACTIONS = {
    "render": N_("print the intended config of each device (secrets masked; never connects)"),
    "diff": N_("show the exact commands a push would send, changing nothing"),
    "push": N_("back up, apply only the difference, save, verify; roll back a device on failure"),
    "backup": N_("store every running config in the backup repository (one commit per run)"),
    "drift": N_("report every device whose running config differs from its intended config"),
}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "net", help=_("network devices: render, diff, push, backup, drift"),
        description=_("Intended configs from the inventory, pushed safely through netmiko."))
    actions = parser.add_subparsers(dest="net_command", required=True, metavar="ACTION")
    for name, help_text in ACTIONS.items():
        statuses = [("0", N_("all well")), ("1", N_("some device failed (each is named with its reason), or no "
                                                    "device matches"))]
        if name in ("diff", "drift"):
            statuses.append(("2", N_("some device differs from its intended config; also wrong usage, or refused "
                                     "before doing anything (an inventory that is missing or not valid); the "
                                     "message says why")))
        else:
            statuses.append(USAGE_REFUSED)
        action = actions.add_parser(name, help=_(help_text), description=_(help_text),
                                    epilog=exit_statuses(*statuses))
        add_inventory_option(action, paths.LAB_INVENTORY, N_("the lab, inventory/lab.unitctl.yml"))
        action.add_argument("-l", "--limit", help=_("Ansible host pattern, e.g. unit_qom_court or court-sw1"))
        if name != "render":
            action.add_argument("-w", "--workers", type=int,
                                help=_("devices at once (default: network_workers)"))
        if name == "render":
            action.add_argument("-o", "--output", type=Path, help=_("write DEVICE.cfg files here"))
        action.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from unitctl.network import operations  # noqa: PLC0415
    from unitctl.network.backup import BackupRepository  # noqa: PLC0415
    from unitctl.network.targets import load_targets  # noqa: PLC0415

    checked_source(args.inventory)
    targets = load_targets(args.inventory, args.limit)
    if not targets:
        if args.limit:
            print("net: " + _("no network device matches {limit} in {inventory}").format(
                limit=args.limit, inventory=paths.in_checkout(args.inventory)), file=sys.stderr)
        else:
            print("net: " + _("no network device matches in {inventory}").format(
                inventory=paths.in_checkout(args.inventory)), file=sys.stderr)
        return 1
    command = args.net_command
    if command == "render":
        results = [_guarded(operations.render_one, target) for target in targets]
        return _report_render(results, args.output)
    settings = targets[0].settings
    workers = args.workers or int(settings.get("workers", 10))
    repository = None
    if command in ("push", "backup"):
        repository = BackupRepository(settings["backup_repository"]).ensure()
    operation = {"diff": operations.diff_one, "drift": operations.diff_one,
                 "push": operations.push_one, "backup": operations.backup_one}[command]
    kwargs = {"repository": repository} if repository else {}
    results = operations.run_many(operation, targets, workers=workers, **kwargs)
    for result in results:
        _print_result(command, result)
    if repository is not None:
        what = "backup" if command == "backup" else "before push"
        commit = operations.commit_backups(repository, results, what)
        outcome = _("commit {commit}").format(commit=commit[:10]) if commit else _("no change")
        print(_("backup repository {path}: {outcome}").format(path=repository.path, outcome=outcome))
    failed = [r.device for r in results if not r.ok]
    differing = [r.device for r in results if r.ok and r.comparison and not r.comparison.in_sync]
    if command == "drift":
        print("drift: " + _("{count} of {total} devices differ from intended").format(
            count=number(len(differing)), total=number(len(results)))
              + (f": {', '.join(differing)}" if differing else ""))
    if failed:
        print(f"net {command}: " + _("{count} of {total} devices FAILED: {devices}").format(
            count=number(len(failed)), total=number(len(results)), devices=", ".join(failed)), file=sys.stderr)
        return 1
    return 2 if command in ("diff", "drift") and differing else 0


def _guarded(operation, target):
    from unitctl.network.operations import Result  # noqa: PLC0415
    from unitctl.network.render import MissingVariable  # noqa: PLC0415

    try:
        return operation(target)
    except MissingVariable as error:
        return Result(target.name, target.unit_id, ok=False, message=str(error))


def _report_render(results, output: Path | None) -> int:
    for result in results:
        if not result.ok:
            print(f"{result.device}: " + _("FAILED: {reason}").format(reason=result.message), file=sys.stderr)
        elif output:
            output.mkdir(parents=True, exist_ok=True)
            (output / f"{result.device}.cfg").write_text(result.intended)
            print(f"{result.device}: {output / (result.device + '.cfg')}")
        else:
            print(f"### {result.device}\n{result.intended}")
    return 1 if any(not r.ok for r in results) else 0


def _print_result(command: str, result) -> None:
    for warning in result.warnings:  # the device took the line but remarked on it
        print(f"{result.device}: " + _("device warning: {warning}").format(warning=warning))
    if not result.ok:
        print(f"{result.device}: " + _("FAILED: {reason}").format(reason=result.message))
        return
    if command == "backup":
        state = _("backed up (changed)") if result.backup_changed else _("backed up (unchanged)")
        print(f"{result.device}: {state}")
        return
    lines = result.lines
    if command == "push":
        state = (ngettext("changed, {count} line sent and verified", "changed, {count} lines sent and verified",
                          len(lines)).format(count=number(len(lines))) if result.changed
                 else _("in sync, nothing sent"))
        print(f"{result.device}: {state}")
    elif not lines:
        print(f"{result.device}: " + _("in sync"))
    else:
        print(f"{result.device}: " + _("differs from intended:"))
    if lines and (command != "push" or result.changed):
        print("\n".join("    " + line.replace("\n", "\n    ") for line in lines))  # a banner is one command

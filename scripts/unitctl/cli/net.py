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

ACTIONS = {
    "render": "print the intended config of each device (secrets masked; never connects)",
    "diff": "show the exact commands a push would send, changing nothing",
    "push": "back up, apply only the difference, save, verify; roll back a device on failure",
    "backup": "store every running config in the backup repository (one commit per run)",
    "drift": "report every device whose running config differs from its intended config",
}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "net", help="network devices: render, diff, push, backup, drift",
        description="Intended configs from the inventory, pushed safely through netmiko.")
    actions = parser.add_subparsers(dest="net_command", required=True, metavar="ACTION")
    for name, help_text in ACTIONS.items():
        statuses = [("0", "all well"), ("1", "some device failed (each is named with its reason), or no "
                                                "device matches")]
        if name in ("diff", "drift"):
            statuses.append(("2", "some device differs from its intended config; also " + USAGE_REFUSED[1]))
        else:
            statuses.append(USAGE_REFUSED)
        action = actions.add_parser(name, help=help_text, description=help_text, epilog=exit_statuses(*statuses))
        add_inventory_option(action, paths.LAB_INVENTORY, "the lab, inventory/lab.unitctl.yml")
        action.add_argument("-l", "--limit", help="Ansible host pattern, e.g. unit_qom_court or court-sw1")
        if name != "render":
            action.add_argument("-w", "--workers", type=int,
                                help="devices at once (default: network_workers)")
        if name == "render":
            action.add_argument("-o", "--output", type=Path, help="write DEVICE.cfg files here")
        action.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from unitctl.network import operations  # noqa: PLC0415
    from unitctl.network.backup import BackupRepository  # noqa: PLC0415
    from unitctl.network.targets import load_targets  # noqa: PLC0415

    checked_source(args.inventory)
    targets = load_targets(args.inventory, args.limit)
    if not targets:
        print(f"net: no network device matches{' ' + args.limit if args.limit else ''} in "
              f"{paths.in_checkout(args.inventory)}", file=sys.stderr)
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
        print(f"backup repository {repository.path}: " + (f"commit {commit[:10]}" if commit else "no change"))
    failed = [r.device for r in results if not r.ok]
    differing = [r.device for r in results if r.ok and r.comparison and not r.comparison.in_sync]
    if command == "drift":
        print(f"drift: {len(differing)} of {len(results)} devices differ from intended"
              + (f": {', '.join(differing)}" if differing else ""))
    if failed:
        print(f"net {command}: {len(failed)} of {len(results)} devices FAILED: {', '.join(failed)}",
              file=sys.stderr)
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
            print(f"{result.device}: FAILED: {result.message}", file=sys.stderr)
        elif output:
            output.mkdir(parents=True, exist_ok=True)
            (output / f"{result.device}.cfg").write_text(result.intended)
            print(f"{result.device}: {output / (result.device + '.cfg')}")
        else:
            print(f"### {result.device}\n{result.intended}")
    return 1 if any(not r.ok for r in results) else 0


def _print_result(command: str, result) -> None:
    for warning in result.warnings:  # the device took the line but remarked on it
        print(f"{result.device}: device warning: {warning}")
    if not result.ok:
        print(f"{result.device}: FAILED: {result.message}")
        return
    if command == "backup":
        print(f"{result.device}: backed up" + (" (changed)" if result.backup_changed else " (unchanged)"))
        return
    lines = result.lines
    if command == "push":
        state = f"changed, {len(lines)} lines sent and verified" if result.changed else "in sync, nothing sent"
        print(f"{result.device}: {state}")
    elif not lines:
        print(f"{result.device}: in sync")
    else:
        print(f"{result.device}: differs from intended:")
    if lines and (command != "push" or result.changed):
        print("\n".join("    " + line.replace("\n", "\n    ") for line in lines))  # a banner is one command

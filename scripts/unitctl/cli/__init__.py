"""The `unitctl` command: one entry point for technicians and the provincial centre."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Exit status of a command refused before it did anything (a bad path, a broken inventory).
EXIT_REFUSED = 2


class CommandRefused(Exception):
    """The command cannot start: the message says why in plain words; nothing was done."""


def inventory_source(text: str) -> Path:
    """argparse type of every --inventory/-i: an existing inventory source file (*.unitctl.yml).
    Raises argparse.ArgumentTypeError (exit status 2, one plain line) for anything else."""
    path = Path(text)
    if path.is_dir():
        sources = sorted(p.name for p in path.glob("*.unitctl.yml"))
        hint = f"; name one of its sources, such as {path / sources[0]}" if sources else ""
        raise argparse.ArgumentTypeError(f"{text} is a folder, not an inventory source (*.unitctl.yml){hint}")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} does not exist; an inventory source is a file such as "
                                         "inventory/qom.unitctl.yml")
    return path


def checked_source(path: Path):
    """The inventory source loaded after `unitctl validate` found nothing wrong in it.

    Raises CommandRefused listing every problem (file, path, reason) otherwise: no command runs
    on a broken inventory. Returns a unitctl.inventory.load.Source."""
    from unitctl.inventory.load import load_source  # noqa: PLC0415  (keeps start-up light)
    from unitctl.inventory.validate import format_problems, validate_province  # noqa: PLC0415

    try:
        source = load_source(path)
    except (ValueError, OSError) as error:
        raise CommandRefused(str(error)) from error
    problems = validate_province(source.root, source.units_dir)
    if problems:
        raise CommandRefused(f"the inventory {path} is not valid; nothing was done. Fix these, then run "
                             f"`unitctl validate {path}`:\n{format_problems(problems)}")
    return source


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unitctl",
        description="Provision, check and evaluate the IT of the province's judicial units.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Each module adds its own sub-commands; see register() in each.
    from unitctl.cli import evaluate as cli_evaluate
    from unitctl.cli import inventory as cli_inventory
    from unitctl.cli import lab as cli_lab
    from unitctl.cli import net as cli_net
    from unitctl.cli import provision as cli_provision
    from unitctl.cli import staff as cli_staff  # noqa: PLC0415  (keeps start-up light)

    for module in (cli_inventory, cli_lab, cli_provision, cli_evaluate, cli_net, cli_staff):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CommandRefused as refusal:
        print(f"unitctl: {refusal}", file=sys.stderr)
        return EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())

"""The `unitctl` command: one entry point for technicians and the provincial centre."""

from __future__ import annotations

import argparse
import sys


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
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

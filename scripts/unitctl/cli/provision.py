"""`unitctl provision UNIT...`: a thin wrapper over `ansible-playbook` for a unit's machines.

It prints the exact `ansible-playbook` command before running it (with `--vault-id` for the named
units' own vaults, and no other), so a technician learns the
plain command and can run it alone (the README gives both). Whatever follows `--` on the command
line goes to ansible-playbook unchanged, after unitctl's own arguments. Exit status:
ansible-playbook's (EXIT_STATUSES).
"""

from __future__ import annotations

import argparse
import difflib
import os
import shlex
import subprocess
import sys
from pathlib import Path


from unitctl import paths
from unitctl.cli import add_inventory_option, checked_source, exit_statuses, unit_ids_completer
from unitctl.i18n import N_, _
from unitctl.inventory.choice import OPTION, InventoryChoice, unit_not_found
from unitctl.inventory.derived import unit_group

DEFAULT_PLAYBOOK = "playbooks/site.yml"

# ansible-playbook's own exit statuses (ansible.errors.ExitCode, ansible-core 2.19), which
# provision returns as they are, besides its own refusals.
EXIT_STATUSES = (
    ("0", N_("ansible-playbook ran and every host succeeded")),
    ("1", N_("ansible-playbook failed (an error in a playbook, a role or the run)")),
    ("2", N_("some host failed a task (ansible-playbook); or unitctl refused before running it: wrong "
             "usage, an inventory that is missing or not valid, or a unit not in the inventory (the "
             "message says which; then no `running:` line is printed)")),
    ("4", N_("some host could not be reached, or ansible-playbook could not parse its input")),
    ("5", N_("ansible-playbook refused its options (check the arguments given after --)")),
    ("99", N_("interrupted (Ctrl-C)")),
    ("250", N_("ansible-playbook's unexpected error")),
)


def register(commands: argparse._SubParsersAction) -> None:
    provision = commands.add_parser(
        "provision", help=_("provision or rebuild a unit's machines (prints the ansible-playbook command it runs)"),
        description=_("Run a playbook on every machine of the named units: servers, workstations and "
                      "network devices (site.yml), or one job with --playbook."),
        usage="%(prog)s [-h] [-i INVENTORY] [--playbook PLAYBOOK] [--check] [--diff]\n"
              "                         UNIT [UNIT ...] [-- ANSIBLE_PLAYBOOK_ARGS ...]",
        epilog=_("Everything after -- goes to ansible-playbook unchanged, after unitctl's own arguments, e.g.")
        + "\n  unitctl provision qom-court -i inventory/qom.unitctl.yml \\\n"
          "      -- --tags role::ssh_server -v\n\n"
        + exit_statuses(*EXIT_STATUSES))
    provision.add_argument("units", nargs="+", metavar="UNIT",
                           help=_("unit id, e.g. qom-court (several allowed)")).completer = unit_ids_completer
    add_inventory_option(provision, paths.LAB_INVENTORY, N_("the lab province, inventory/lab.unitctl.yml"))
    provision.add_argument("--playbook", action="append", default=None, type=playbook_path,
                           help=_("playbook to run (repeatable; default {playbook})").format(
                               playbook=DEFAULT_PLAYBOOK))
    provision.add_argument("--check", action="store_true", help=_("show what would change, change nothing"))
    provision.add_argument("--diff", action="store_true", help=_("show the changes to files"))
    provision.set_defaults(func=run, ansible_args=[])  # filled by unitctl.cli.parse_args from after `--`


def playbook_path(text: str) -> Path:
    """argparse type of --playbook: the playbook file a person typed, looked for from the current
    folder, then from the checkout's top (ansible-playbook runs there), as --inventory is
    (unitctl.inventory.choice.locate). Raises argparse.ArgumentTypeError (exit status 2, nothing run)
    for a file that is in neither, naming the checkout's playbook it most looks like (`servers.yml`:
    playbooks/servers.yml), else the folder that holds them."""
    from unitctl.inventory.choice import locate  # noqa: PLC0415  (keeps start-up light)

    path = locate(text)
    if path.is_file():
        return path
    jobs = sorted(f"playbooks/{playbook.name}" for playbook in (paths.PROJECT_ROOT / "playbooks").glob("*.yml"))
    close = difflib.get_close_matches(f"playbooks/{Path(text).name}", jobs, n=1, cutoff=0.8)
    if close:
        raise argparse.ArgumentTypeError(_("{path} is not a playbook file; did you mean {playbook}?").format(
            path=text, playbook=close[0]))
    raise argparse.ArgumentTypeError(_("{path} is not a playbook file; the jobs are in playbooks/ (such as "
                                       "{playbook})").format(path=text, playbook="playbooks/servers.yml"))


def command_for(args: argparse.Namespace) -> list[str]:
    ansible_playbook = str(Path(sys.executable).parent / "ansible-playbook")
    # As the printed command names them: from the checkout's top, where ansible-playbook runs.
    playbooks = [display_path(playbook) for playbook in args.playbook] if args.playbook else [DEFAULT_PLAYBOOK]
    command = [ansible_playbook, "-i", display_path(args.inventory), *playbooks,
               "--limit", ":".join(unit_group(unit_id) for unit_id in args.units)]
    # The named units' vault identities only (each unit's secrets are its own vault): the run is never
    # given, and never asks for, another unit's password.
    for vault_id in unit_vault_ids(args.inventory, args.units):
        command += ["--vault-id", vault_id]
    return (command + (["--check"] if args.check else []) + (["--diff"] if args.diff else [])
            + list(getattr(args, "ansible_args", None) or []))


def unit_vault_ids(inventory: Path, unit_ids: list[str]) -> list[str]:
    """`--vault-id UNIT@scripts/vault-password-client.py` for each named unit that has a vault."""
    from unitctl.inventory.load import load_source  # noqa: PLC0415  (keeps start-up light)
    from unitctl.inventory.vaults import vault_ids  # noqa: PLC0415

    try:
        units_dir = load_source(inventory).units_dir
    except (ValueError, OSError):
        return []  # refused with its reason by checked_source
    return vault_ids(unit_ids, units_dir)


def display_path(path: Path) -> str:
    """The inventory as the printed command names it (unitctl.paths.in_checkout)."""
    return paths.in_checkout(path)


def run(args: argparse.Namespace) -> int:
    known = {unit.id for unit in checked_source(args.inventory).province.units}
    unknown = [unit_id for unit_id in args.units if unit_id not in known]
    if unknown:
        choice = getattr(args, "inventory_choice", None) or InventoryChoice(args.inventory, OPTION)
        print("unitctl: " + unit_not_found(unknown, choice, sorted(known)), file=sys.stderr)
        return 2
    command = command_for(args)
    print(_("running: {command}").format(command=shlex.join(["ansible-playbook", *command[1:]])), flush=True)
    env = dict(os.environ, ANSIBLE_CONFIG=os.environ.get("ANSIBLE_CONFIG", str(paths.PROJECT_ROOT / "ansible.cfg")))
    return subprocess.run(command, cwd=paths.PROJECT_ROOT, env=env, check=False).returncode

"""The `unitctl` command: one entry point for technicians and the provincial centre."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from unitctl.i18n import N_, _, translate_argparse, usable_locale_environment

# Exit status of a command refused before it did anything (a bad path, a broken inventory).
EXIT_REFUSED = 2

# Commands that run ansible-playbook: what follows `--` on their command line goes to it unchanged.
PASSTHROUGH_COMMANDS = ("provision",)


class CommandRefused(Exception):
    """The command cannot start: the message says why in plain words; nothing was done."""


def inventory_source(text: str) -> Path:
    """argparse type of every --inventory/-i: an existing inventory source file (*.unitctl.yml),
    looked for from the current folder, then from the checkout's top (unitctl.inventory.choice.locate).
    Raises argparse.ArgumentTypeError (exit status 2, one plain line) for anything else."""
    from unitctl.inventory.choice import locate, path_problem  # noqa: PLC0415  (keeps start-up light)

    path = locate(text)
    problem = path_problem(path, text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return path


def add_inventory_option(parser: argparse.ArgumentParser, default: Path, default_text: str) -> None:
    """The -i/--inventory option of a command that acts on one inventory source. When it is not
    given, the parser fills `inventory` from UNITCTL_INVENTORY, the checkout's setting or `default`
    (unitctl.inventory.choice.choose) and `inventory_choice` with where it came from; --help says
    what it falls back to now. `default_text` describes `default` for --help (English marked with
    N_(), translated here)."""
    from unitctl.inventory.choice import describe_default  # noqa: PLC0415

    help_text = _("inventory source, e.g. inventory/qom.unitctl.yml (default: {default})").format(
        default=describe_default(default, _(default_text)))
    parser.add_argument("-i", "--inventory", type=inventory_source, default=None,
                        help=help_text.replace("%", "%%"))  # argparse expands %(...)s in help
    parser.set_defaults(inventory_default=default)


def checked_source(path: Path):
    """The inventory source loaded after `unitctl validate` found nothing wrong in it.

    Raises CommandRefused listing every problem (file, path, reason) otherwise: no command runs
    on a broken inventory. Returns a unitctl.inventory.load.Source."""
    from unitctl.inventory.load import load_source  # noqa: PLC0415  (keeps start-up light)
    from unitctl.inventory.validate import format_problems, seen_from_here, validate_province  # noqa: PLC0415

    try:
        source = load_source(path)
    except (ValueError, OSError) as error:
        raise CommandRefused(str(error)) from error
    problems = validate_province(source.root, source.units_dir)
    if problems:
        raise CommandRefused(_("the inventory {path} is not valid; nothing was done. Fix these, then run "
                               "`unitctl validate {path}`:").format(path=path) + "\n"
                             + format_problems(seen_from_here(problems, source.root)))
    return source


def wrap(text: str, width: int, initial_indent: str = "", subsequent_indent: str = "") -> list[str]:
    """`text` in lines of at most `width` characters (a longer word keeps its own line), as a person
    copies from them: never broken after a hyphen (textwrap's habit: "ansible-" / "playbook"), nor
    inside a command in backticks (`unitctl use SOURCE`)."""
    held = re.sub(r"`[^`]*`", lambda command: command.group().replace(" ", "\u00a0"), text)
    return [line.replace("\u00a0", " ") for line in textwrap.wrap(
        held, width, initial_indent=initial_indent, subsequent_indent=subsequent_indent,
        break_on_hyphens=False, break_long_words=False)]


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, except that a description or epilog keeps its line breaks: each line
    is wrapped on its own, its continuation indented under the line's text (so an exit status
    table stays a table); and lines break only where a person can copy from them (wrap())."""

    def _split_lines(self, text, width):
        return wrap(self._whitespace_matcher.sub(" ", text).strip(), width)

    def _fill_text(self, text, width, indent):
        lines = []
        for line in text.splitlines():
            words = line.lstrip(" ")
            lead = indent + " " * (len(line) - len(words))
            row = re.match(r"\S+ +", words) if words != line else None  # an indented row: "2    meaning"
            hanging = lead + " " * (row.end() if row else 0)
            words = (row.group() if row else "") + self._whitespace_matcher.sub(" ", words[row.end() if row else 0:]).strip()
            lines.append("\n".join(wrap(words, width, initial_indent=lead, subsequent_indent=hanging)))
        return "\n".join(lines)


class Parser(argparse.ArgumentParser):
    """unitctl's parsers (sub-commands' too, as argparse makes them of the parent's class): epilogs
    keep their line breaks, and a command with an inventory option (add_inventory_option) gets its
    inventory chosen once parsed, whoever parses."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if getattr(namespace, "inventory_choice", None) is None and hasattr(namespace, "inventory_default"):
            from unitctl.inventory.choice import InventoryChoiceError, choose  # noqa: PLC0415

            if "_ARGCOMPLETE" in os.environ:  # completing a word: unit_ids_completer chooses, without errors
                return namespace, extras
            try:
                namespace.inventory_choice = choose(namespace.inventory, namespace.inventory_default)
            except InventoryChoiceError as error:
                self.error(str(error))  # exit status 2, as for a bad --inventory
            namespace.inventory = namespace.inventory_choice.path
        return namespace, extras


def exit_statuses(*rows: tuple[str, str]) -> str:
    """The epilog of a command's --help: what each exit status means for that command. Each row is
    (status, meaning); the meaning is the English marked with N_(), translated here."""
    return _("exit status:") + "\n" + "\n".join(f"  {status:<4} {_(meaning)}" for status, meaning in rows)


# The statuses every command shares: argparse's usage errors and a refused command (CommandRefused).
USAGE_REFUSED = ("2", N_("wrong usage, or refused before doing anything (an inventory that is missing or "
                         "not valid); the message says why"))

# argparse's own words that a technician reads (Python 3.11's argparse asks gettext for them; see
# unitctl.i18n.translate_argparse): listed here so that the catalogue holds them.
ARGPARSE_MESSAGES = (
    N_("usage: "), N_("positional arguments"), N_("options"), N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"), N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"), N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"), N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"), N_("expected at least one argument"), N_("expected at most one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"), N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"), N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
)


def toolkit_version() -> str:
    """The toolkit's version: the checkout's pyproject.toml, else the installed package's metadata."""
    from unitctl import paths  # noqa: PLC0415  (keeps start-up light)

    try:
        import tomllib  # noqa: PLC0415

        with (paths.PROJECT_ROOT / "pyproject.toml").open("rb") as stream:
            return str(tomllib.load(stream)["project"]["version"])
    except (OSError, KeyError, ValueError):
        pass
    try:
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

        return version("unitctl")
    except PackageNotFoundError:
        return "unknown"


def checkout_commit(root: Path | None = None) -> str:
    """The checkout's commit, short; "+dirty" when tracked files differ from it; "unknown" when
    `root` (default: the project's checkout) is not in a git work tree or git is missing."""
    if root is None:
        from unitctl import paths  # noqa: PLC0415

        root = paths.PROJECT_ROOT

    def git(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "-C", str(root), *arguments], capture_output=True, text=True,
                              timeout=10, check=False)

    try:
        head = git("rev-parse", "--short", "HEAD")
        if head.returncode != 0 or not head.stdout.strip():
            return "unknown"
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.returncode != 0 or dirty.stdout.strip() else "")


def version_line() -> str:
    return f"unitctl {toolkit_version()} (commit {checkout_commit()})"


class VersionAction(argparse.Action):
    """--version: works the version out only when asked (git is not run on every command)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_line())
        parser.exit(0)


def unit_ids_completer(prefix: str = "", parsed_args: argparse.Namespace | None = None, **_) -> list[str]:
    """Shell completion of a UNIT argument: the unit ids of the inventory named on the command line
    so far (--inventory/-i), else of UNITCTL_INVENTORY or the checkout's setting, else of the
    command's default inventory (the lab's). Never raises: on any problem it offers nothing."""
    try:
        from unitctl import paths  # noqa: PLC0415
        from unitctl.inventory.choice import choose  # noqa: PLC0415
        from unitctl.inventory.load import load_source  # noqa: PLC0415

        chosen = choose(getattr(parsed_args, "inventory", None),
                        getattr(parsed_args, "inventory_default", None) or paths.LAB_INVENTORY)
        ids = sorted(unit.id for unit in load_source(chosen.path).province.units)
        return [unit_id for unit_id in ids if unit_id.startswith(prefix or "")]
    except Exception:  # noqa: BLE001  (completion must never break the technician's shell)
        return []


def note_inventory(args: argparse.Namespace) -> None:
    """Say on stderr which inventory the command acts on, when it came from UNITCTL_INVENTORY or
    the checkout's setting (not typed, not the default): one line, e.g.
    `unitctl: inventory inventory/qom.unitctl.yml (from UNITCTL_INVENTORY)`."""
    choice = getattr(args, "inventory_choice", None)
    if choice is not None and choice.note:
        print(f"unitctl: {choice.note}", file=sys.stderr, flush=True)


def split_passthrough(argv: list[str]) -> tuple[list[str], list[str]]:
    """(unitctl's own arguments, those for ansible-playbook): for a command that runs ansible-playbook
    (PASSTHROUGH_COMMANDS), everything after the first `--`; for any other command, nothing."""
    command = next((argument for argument in argv if not argument.startswith("-")), None)
    if command in PASSTHROUGH_COMMANDS and "--" in argv[argv.index(command):]:
        cut = argv.index("--", argv.index(command))
        return argv[:cut], argv[cut + 1:]
    return argv, []


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    own, passthrough = split_passthrough(argv)
    args = parser.parse_args(own)
    if hasattr(args, "ansible_args"):
        args.ansible_args = passthrough
    return args


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="unitctl",
        description=_("Provision, check and evaluate the IT of the province's judicial units."),
    )
    parser.add_argument("--version", action=VersionAction,
                        help=_("print the toolkit's version and the git commit of its checkout, then exit"))
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
    # A locale named but not generated here (LANG=fa_IR.UTF-8, as the README suggests): Ansible would
    # refuse to start in provision and net; C.UTF-8 instead, the messages' language kept.
    os.environ.update(usable_locale_environment())
    translate_argparse()
    parser = build_parser()
    try:
        import argcomplete  # noqa: PLC0415
    except ImportError:  # completion is a convenience: the command works without it
        pass
    else:
        argcomplete.autocomplete(parser)  # answers the shell and exits when the shell asks to complete
    args = parse_args(parser, argv)
    note_inventory(args)
    try:
        return int(args.func(args) or 0)
    except CommandRefused as refusal:
        print(f"unitctl: {refusal}", file=sys.stderr)
        return EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())

"""`unitctl validate`, `unitctl new-unit` and `unitctl use`: checking the inventory, onboarding a
unit, and choosing the inventory this checkout acts on (unitctl.inventory.choice)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from unitctl import paths
from unitctl.cli import USAGE_REFUSED, CommandRefused, exit_statuses, inventory_source
from unitctl.i18n import N_, _, ngettext, number
from unitctl.inventory import choice as inventory_choice
from unitctl.inventory.load import load_yaml_file, source_problem
from unitctl.inventory.newunit import NewUnit, NewUnitRefused, create_unit
from unitctl.inventory.schema import PLACEHOLDER, UNIT_KINDS
from unitctl.inventory.validate import (Problem, from_here, pending_todos, province_summary, province_units_dirs,
                                        seen_from_here, validate_province)


def register(commands: argparse._SubParsersAction) -> None:
    validate = commands.add_parser(
        "validate", help=_("check the inventory and list every problem (file, line, path, reason)"),
        description=_("Check unit files and province policy. Every problem is listed at once; "
                      "the exit status is 1 when there is any."),
        epilog=exit_statuses(("0", N_("valid (TODO markers are listed, and refused only with --strict)")),
                             ("1", N_("some problem: each is listed (file, line, path, reason)")), USAGE_REFUSED))
    validate.add_argument("path", nargs="?", type=Path,
                          help=_("an inventory source (inventory/qom.unitctl.yml), a folder of units, a unit "
                                 "folder or the inventory folder (default: the inventory {variable} or "
                                 "`unitctl use` set, else every province in inventory/)").format(
                                     variable=inventory_choice.ENVIRONMENT_VARIABLE))
    validate.add_argument("--strict", action="store_true",
                          help=_("also refuse TODO markers (a unit made by new-unit and not yet filled in)"))
    validate.add_argument("--vault-id", action="append", default=[], metavar="UNIT", dest="vault_units",
                          help=_("open this unit's vault too and check what it holds; refused when this machine "
                                 "has no password for it (repeatable; the vaults whose password this machine "
                                 "has are opened anyway)"))
    validate.set_defaults(func=run_validate)

    new_unit = commands.add_parser(
        "new-unit", help=_("create a unit's five files from the skeleton, with addresses from the province plan"),
        description=_("Write inventory/units/ID/ from templates/new-unit/. Fields only a person can know "
                      "are marked {marker}; `unitctl validate` lists them until they are filled in.").format(
                          marker=PLACEHOLDER),
        epilog=exit_statuses(("0", N_("created, and the province is valid with it")),
                             ("1", N_("refused (nothing written), or the province is not valid with the new unit")),
                             USAGE_REFUSED))
    new_unit.add_argument("unit_id", metavar="ID", help=_("the unit id and folder name, e.g. jafarieh-court"))
    new_unit.add_argument("--kind", required=True, help=_("one of: {kinds}").format(kinds=", ".join(UNIT_KINDS)))
    new_unit.add_argument("--name-fa", required=True, help=_("the unit's name in Persian"))
    new_unit.add_argument("--name-en", required=True, help=_("the unit's name in English"))
    new_unit.add_argument("--city-fa", help=_("the city in Persian (left as TODO if not given)"))
    new_unit.add_argument("--city-en", help=_("the city in English (left as TODO if not given)"))
    where = new_unit.add_mutually_exclusive_group()
    where.add_argument("-i", "--inventory", type=inventory_source, default=None,
                       help=_("the province's inventory source: the unit goes into its folder of units (default: "
                              "the inventory {variable} or `unitctl use` set, else inventory/qom.unitctl.yml)").format(
                                  variable=inventory_choice.ENVIRONMENT_VARIABLE))
    where.add_argument("--units-dir", type=Path, default=None,
                       help=_("the province's folder of units, named directly (default: that of the inventory)"))
    new_unit.set_defaults(func=run_new_unit)

    use = commands.add_parser(
        "use", help=_("set the inventory this checkout acts on, or show which one it is"),
        description=_("Without --inventory, unitctl's commands act on the inventory this sets (kept in "
                      "{settings}, not committed). The environment variable {variable} comes before it, "
                      "--inventory before both. Without arguments: show the inventory in use and where that "
                      "comes from.").format(settings=inventory_choice.settings_name(),
                                            variable=inventory_choice.ENVIRONMENT_VARIABLE),
        epilog=exit_statuses(("0", N_("set, cleared or shown")), USAGE_REFUSED))
    use.add_argument("source", nargs="?", type=inventory_source, metavar="SOURCE",
                     help=_("an inventory source, e.g. inventory/qom.unitctl.yml"))
    use.add_argument("--clear", action="store_true",
                     help=_("remove the setting: commands act on their default again (the lab's inventory)"))
    use.set_defaults(func=run_use)


def inventory_root_of(units_dir: Path) -> Path:
    """The inventory folder a units folder belongs to: where its group_vars or sources are."""
    for folder in Path(units_dir).resolve().parents:
        if (folder / "group_vars").is_dir() or any(folder.glob("*.unitctl.yml")):
            return folder
    return Path(units_dir).resolve().parent


def resolve_targets(path: Path | None) -> list[tuple[Path, Path]]:
    """What to validate, as (inventory root, units folder) pairs, from what the technician named."""
    path = Path(path) if path else paths.INVENTORY_DIR
    if path.is_file():
        loaded = load_yaml_file(path)
        if loaded.error:
            raise CommandRefused(f"{path}{':' + str(loaded.error.line) if loaded.error.line else ''}: "
                                 f"{loaded.error.reason}")
        problem = source_problem(loaded.data)
        if problem:
            raise CommandRefused(f"{path}: {problem}")
        return [(path.parent, path.parent / loaded.data["units_dir"])]
    if not path.is_dir():
        raise CommandRefused(_("{path} does not exist").format(path=path))
    if (path / "group_vars").is_dir() or any(path.glob("*.unitctl.yml")):
        return [(path, units) for units in province_units_dirs(path)] or [(path, path / "units")]
    if (path / "unit.yml").exists():  # one unit folder: its whole province decides (cross-unit rules)
        path = path.parent
    return [(inventory_root_of(path), path)]


def _shown(path: Path) -> str:
    return from_here(path) if Path(path).is_absolute() else str(path)


def broken_sources(folder: Path) -> list[Problem]:
    """Inventory sources (*.unitctl.yml) in `folder` that cannot be read as one: each is a
    province that would otherwise be skipped without a word."""
    broken = []
    for source in sorted(Path(folder).glob("*.unitctl.yml")):
        loaded = load_yaml_file(source)
        if loaded.error:
            broken.append(Problem(_shown(source), "", loaded.error.reason, loaded.error.line))
        elif source_problem(loaded.data):
            broken.append(Problem(_shown(source), "", source_problem(loaded.data), None))
    return broken


def chosen_or_refused(given: Path | None, default: Path | None) -> inventory_choice.InventoryChoice:
    """unitctl.inventory.choice.choose for a command that chooses while it runs, its one-line note
    printed; a bad UNITCTL_INVENTORY or setting refuses the command (CommandRefused)."""
    try:
        chosen = inventory_choice.choose(given, default)
    except inventory_choice.InventoryChoiceError as error:
        raise CommandRefused(str(error)) from error
    if chosen.note:
        print(f"unitctl: {chosen.note}", file=sys.stderr, flush=True)
    return chosen


def source_of(inventory_root: Path, units_dir: Path) -> Path | None:
    """The inventory source (*.unitctl.yml) in `inventory_root` that names `units_dir`, if one does."""
    for source in sorted(Path(inventory_root).glob("*.unitctl.yml")):
        loaded = load_yaml_file(source)
        if not loaded.error and not source_problem(loaded.data) and \
                (source.parent / loaded.data["units_dir"]).resolve() == Path(units_dir).resolve():
            return source
    return None


def run_validate(args: argparse.Namespace) -> int:
    if args.path is None:  # the inventory set for this shell or checkout, else every province
        args.path = chosen_or_refused(None, None).path
    status = 0
    path = Path(args.path) if args.path else paths.INVENTORY_DIR
    if path.is_dir():
        for problem in broken_sources(path):
            print(problem)
            status = 1
    targets = list(resolve_targets(args.path))
    requested = getattr(args, "vault_units", None) or []
    refuse_unknown_vault_units(requested, [units_dir for _root, units_dir in targets])
    for inventory_root, units_dir in targets:
        problems = validate_province(inventory_root, units_dir, vault_passwords(units_dir, requested))
        if args.strict:  # a TODO marker is a problem: a unit is not ready while one is left
            problems += [Problem(todo.file, todo.path, _("still to fill in: {marker}").format(marker=todo.reason),
                                 todo.line)
                         for todo in pending_todos(units_dir, inventory_root)]
        status = max(status, _print_result(inventory_root, units_dir, problems))
    return status


def refuse_unknown_vault_units(requested: list[str], units_dirs: list[Path]) -> None:
    """--vault-id names a unit of the inventory (its folder), not Ansible's ID@SOURCE: a name that is
    neither would otherwise be ignored, and the inventory said valid with the vault never opened.
    Raises CommandRefused naming each such value."""
    import difflib  # noqa: PLC0415

    known = sorted({folder.name for units_dir in units_dirs if Path(units_dir).is_dir()
                    for folder in Path(units_dir).iterdir() if folder.is_dir()})
    for value in requested:
        if "@" in value:
            raise CommandRefused(_("--vault-id {value}: give the unit id alone (--vault-id {unit}); the password "
                                   "is read from the file {unit} in the folder UNITCTL_VAULT_PASSWORD_DIR "
                                   "names").format(value=value, unit=value.split("@", 1)[0]))
        if value not in known:
            close = difflib.get_close_matches(value, known, n=1, cutoff=0.75)
            hint = _(" (did you mean {unit}?)").format(unit=close[0]) if close else ""
            raise CommandRefused(_("--vault-id {value}: no unit of this inventory has that id{hint}").format(
                value=value, hint=hint))


def vault_passwords(units_dir: Path, requested: list[str]) -> dict[str, str | None]:
    """The units' vault passwords this machine has (unitctl.inventory.vaults.password_file): each
    unit whose vault can be opened is checked inside; a unit named with --vault-id whose password is
    missing is given None, so that validation names it."""
    from unitctl.inventory.vaults import exposure, password_file, vault_path  # noqa: PLC0415

    found: dict[str, str | None] = {}
    folders = sorted(p for p in Path(units_dir).iterdir() if p.is_dir()) if Path(units_dir).is_dir() else []
    for folder in folders:
        unit_id = folder.name
        password = password_file(unit_id)
        if password is not None and vault_path(folder).is_file():
            problem = exposure(password)  # the password client's own rule
            if problem and unit_id in requested:
                raise CommandRefused(_("the password of the vault identity {unit} is not used: {problem}").format(
                    unit=unit_id, problem=problem))
            if problem:
                continue  # not asked for: its vault stays closed, as the client would leave it
            found[unit_id] = password.read_text(encoding="utf-8").strip()
        elif unit_id in requested:
            found[unit_id] = None
    return found


def _print_result(inventory_root: Path, units_dir: Path, problems: list[Problem]) -> int:
    problems = seen_from_here(problems, inventory_root)
    for problem in problems:
        print(problem)
    if problems:
        files = len({problem.file for problem in problems})
        source = source_of(inventory_root, units_dir)
        again = f"unitctl validate {paths.in_checkout(source)}" if source else "unitctl validate"
        counted = ngettext("{count} problem", "{count} problems", len(problems)).format(count=number(len(problems)))
        where = ngettext("in {count} file", "in {count} files", files).format(count=number(files))
        print(_("{folder}: {problems} {files}; fix them all, then run `{command}` again").format(
            folder=_shown(units_dir), problems=counted, files=where, command=again), file=sys.stderr)
        return 1
    units, hosts = province_summary(units_dir)
    todos = seen_from_here(pending_todos(units_dir, inventory_root), inventory_root)
    for todo in todos:
        print(f"{todo.file}:{todo.line}: {todo.reason}")
    print(_("inventory valid: {units}, {hosts} ({folder})").format(
        units=ngettext("{count} unit", "{count} units", units).format(count=number(units)),
        hosts=ngettext("{count} host", "{count} hosts", hosts).format(count=number(hosts)), folder=_shown(units_dir))
        + (ngettext(" ({count} TODO marker still to fill in)", " ({count} TODO markers still to fill in)",
                    len(todos)).format(count=number(len(todos))) if todos else ""))
    return 0


def run_new_unit(args: argparse.Namespace) -> int:
    if args.units_dir is not None:
        units_dir = Path(args.units_dir)
    else:
        source = chosen_or_refused(args.inventory, paths.INVENTORY_DIR / "qom.unitctl.yml").path
        units_dir = resolve_targets(source)[0][1]
    inventory_root = inventory_root_of(units_dir)
    request = NewUnit(args.unit_id, args.kind, args.name_fa, args.name_en)
    request.city_fa = args.city_fa or request.city_fa
    request.city_en = args.city_en or request.city_en
    try:
        folder = create_unit(request, inventory_root, units_dir, paths.TEMPLATES_DIR / "new-unit")
    except NewUnitRefused as refusal:
        print(f"unitctl new-unit: {refusal}", file=sys.stderr)
        return 1
    print(_("created {folder}: {files}").format(folder=_shown(folder),
                                                 files=", ".join(sorted(p.name for p in folder.iterdir()))))
    print(_("validating the province with the new unit:"))
    return _print_result(inventory_root, units_dir, validate_province(inventory_root, units_dir))


def run_use(args: argparse.Namespace) -> int:
    env = inventory_choice.ENVIRONMENT_VARIABLE
    settings = inventory_choice.settings_name()
    if args.clear and args.source:
        raise CommandRefused(_("name a SOURCE to use, or --clear, not both"))
    if args.clear:
        removed = inventory_choice.clear_setting()
        if removed:
            print(_("removed {settings}: commands act on their default inventory again (the lab's)").format(
                settings=settings))
        else:
            print(_("no setting to remove ({settings} does not exist)").format(settings=settings))
    elif args.source:
        resolve_targets(args.source)  # a readable inventory source, or refused with why
        written = inventory_choice.write_setting(args.source)
        print(_("this checkout now acts on {inventory} (kept in {settings}); --inventory and {variable} still "
                "come first").format(inventory=paths.in_checkout(args.source), settings=paths.in_checkout(written),
                                     variable=env))
    try:
        chosen = inventory_choice.choose(None, paths.LAB_INVENTORY)
    except inventory_choice.InventoryChoiceError as error:
        raise CommandRefused(str(error)) from error
    if chosen.origin == inventory_choice.ENVIRONMENT and (args.source or args.clear):
        print(_("note: {variable} is set in this shell, so it comes first: {inventory}").format(
            variable=env, inventory=chosen.shown), file=sys.stderr)
    elif not args.source and not args.clear:
        if chosen.origin == inventory_choice.DEFAULT:
            print(_("{inventory}: the lab's inventory, the default (nothing set; `unitctl use SOURCE` sets "
                    "another)").format(inventory=chosen.shown))
        else:
            print(_("{inventory} (from {origin})").format(inventory=chosen.shown, origin=chosen.origin_text))
    return 0

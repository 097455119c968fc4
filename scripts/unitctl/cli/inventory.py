"""`unitctl validate` and `unitctl new-unit`: checking the inventory and onboarding a unit."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from unitctl import paths
from unitctl.cli import USAGE_REFUSED, CommandRefused, exit_statuses
from unitctl.inventory.load import load_yaml_file, source_problem
from unitctl.inventory.newunit import NewUnit, NewUnitRefused, create_unit
from unitctl.inventory.schema import PLACEHOLDER, UNIT_KINDS
from unitctl.inventory.validate import Problem, pending_todos, province_summary, province_units_dirs, validate_province


def register(commands: argparse._SubParsersAction) -> None:
    validate = commands.add_parser(
        "validate", help="check the inventory and list every problem (file, line, path, reason)",
        description="Check unit files and province policy. Every problem is listed at once; "
                    "the exit status is 1 when there is any.",
        epilog=exit_statuses(("0", "valid (TODO markers are listed, and refused only with --strict)"),
                             ("1", "some problem: each is listed (file, line, path, reason)"), USAGE_REFUSED))
    validate.add_argument("path", nargs="?", type=Path,
                          help="an inventory source (inventory/qom.unitctl.yml), a folder of units, a unit "
                               "folder or the inventory folder (default: every province in inventory/)")
    validate.add_argument("--strict", action="store_true",
                          help="also refuse TODO markers (a unit made by new-unit and not yet filled in)")
    validate.set_defaults(func=run_validate)

    new_unit = commands.add_parser(
        "new-unit", help="create a unit's five files from the skeleton, with addresses from the province plan",
        description="Write inventory/units/ID/ from templates/new-unit/. Fields only a person can know "
                    f"are marked {PLACEHOLDER}; `unitctl validate` lists them until they are filled in.",
        epilog=exit_statuses(("0", "created, and the province is valid with it"),
                             ("1", "refused (nothing written), or the province is not valid with the new unit"),
                             ("2", "wrong usage")))
    new_unit.add_argument("unit_id", metavar="ID", help="the unit id and folder name, e.g. jafarieh-court")
    new_unit.add_argument("--kind", required=True, help=f"one of: {', '.join(UNIT_KINDS)}")
    new_unit.add_argument("--name-fa", required=True, help="the unit's name in Persian")
    new_unit.add_argument("--name-en", required=True, help="the unit's name in English")
    new_unit.add_argument("--city-fa", help="the city in Persian (left as TODO if not given)")
    new_unit.add_argument("--city-en", help="the city in English (left as TODO if not given)")
    new_unit.add_argument("--units-dir", type=Path, default=paths.INVENTORY_DIR / "units",
                          help="the province's folder of units (default: inventory/units)")
    new_unit.set_defaults(func=run_new_unit)


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
        raise CommandRefused(f"{path} does not exist")
    if (path / "group_vars").is_dir() or any(path.glob("*.unitctl.yml")):
        return [(path, units) for units in province_units_dirs(path)] or [(path, path / "units")]
    if (path / "unit.yml").exists():  # one unit folder: its whole province decides (cross-unit rules)
        path = path.parent
    return [(inventory_root_of(path), path)]


def _shown(path: Path) -> str:
    return os.path.relpath(path) if Path(path).is_absolute() else str(path)


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


def run_validate(args: argparse.Namespace) -> int:
    status = 0
    path = Path(args.path) if args.path else paths.INVENTORY_DIR
    if path.is_dir():
        for problem in broken_sources(path):
            print(problem)
            status = 1
    for inventory_root, units_dir in resolve_targets(args.path):
        problems = validate_province(inventory_root, units_dir)
        if args.strict:  # a TODO marker is a problem: a unit is not ready while one is left
            problems += [Problem(todo.file, todo.path, f"still to fill in: {todo.reason}", todo.line)
                         for todo in pending_todos(units_dir, inventory_root)]
        status = max(status, _print_result(inventory_root, units_dir, problems))
    return status


def _print_result(inventory_root: Path, units_dir: Path, problems: list[Problem]) -> int:
    for problem in problems:
        print(problem)
    if problems:
        files = len({problem.file for problem in problems})
        print(f"{_shown(units_dir)}: {len(problems)} problem{'s' * (len(problems) != 1)} in {files} "
              f"file{'s' * (files != 1)}; fix them all, then run `unitctl validate` again", file=sys.stderr)
        return 1
    units, hosts = province_summary(units_dir)
    todos = pending_todos(units_dir, inventory_root)
    for todo in todos:
        print(f"{todo.file}:{todo.line}: {todo.reason}")
    still = f" ({len(todos)} TODO marker{'s' * (len(todos) != 1)} still to fill in)" if todos else ""
    print(f"inventory valid: {units} units, {hosts} hosts ({_shown(units_dir)}){still}")
    return 0


def run_new_unit(args: argparse.Namespace) -> int:
    units_dir = Path(args.units_dir)
    inventory_root = inventory_root_of(units_dir)
    request = NewUnit(args.unit_id, args.kind, args.name_fa, args.name_en)
    request.city_fa = args.city_fa or request.city_fa
    request.city_en = args.city_en or request.city_en
    try:
        folder = create_unit(request, inventory_root, units_dir, paths.TEMPLATES_DIR / "new-unit")
    except NewUnitRefused as refusal:
        print(f"unitctl new-unit: {refusal}", file=sys.stderr)
        return 1
    print(f"created {_shown(folder)}: {', '.join(sorted(p.name for p in folder.iterdir()))}")
    print("validating the province with the new unit:")
    return _print_result(inventory_root, units_dir, validate_province(inventory_root, units_dir))

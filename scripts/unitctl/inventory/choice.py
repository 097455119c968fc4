"""Which inventory source a command acts on, when its command line does not name one.

A technician of a real unit sets their inventory once instead of typing it on every command:

    --inventory SOURCE on the command line        (this command only)
    UNITCTL_INVENTORY=SOURCE in the environment   (this shell, e.g. in ~/.bashrc)
    unitctl.local.yml at the checkout's top        (this checkout: `unitctl use SOURCE` writes it)
    the command's own default                      (the lab's inventory; `staff`: the province's)

The first one set wins. A relative path on the command line or in UNITCTL_INVENTORY is looked for
in the current folder, then in the checkout's top folder (so a command printed by the toolkit,
with paths relative to the checkout, works from anywhere); one in unitctl.local.yml is relative to
the checkout. A value that names no file is refused with where it came from, never ignored: acting
on the lab when the technician meant their unit is the mistake this module exists to prevent.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from unitctl import paths
from unitctl.i18n import _, ngettext
from unitctl.inventory.load import source_problem

ENVIRONMENT_VARIABLE = "UNITCTL_INVENTORY"

# Where a choice came from (InventoryChoice.origin).
OPTION, ENVIRONMENT, SETTING, DEFAULT = "option", "environment", "setting", "default"


class InventoryChoiceError(ValueError):
    """The inventory named in UNITCTL_INVENTORY or unitctl.local.yml cannot be used: the message
    names where the value came from and how to change it."""


@dataclass(frozen=True)
class InventoryChoice:
    """The inventory source a command uses (`path`; None when nothing is set and the command has
    no default of its own) and where that came from (`origin`: OPTION, ENVIRONMENT, SETTING or
    DEFAULT)."""

    path: Path | None
    origin: str

    @property
    def origin_text(self) -> str:
        """Where the choice came from, as a person reads it: '--inventory', 'UNITCTL_INVENTORY',
        'unitctl.local.yml' or 'the default' (in the messages' language)."""
        return {OPTION: "--inventory", ENVIRONMENT: ENVIRONMENT_VARIABLE,
                SETTING: settings_name(), DEFAULT: _("the default")}[self.origin]

    @property
    def note(self) -> str | None:
        """The one line a command prints when the inventory was not named on its command line nor
        is its default: a technician then sees which province they act on. None otherwise."""
        if self.origin not in (ENVIRONMENT, SETTING) or self.path is None:
            return None
        return _("inventory {inventory} (from {origin})").format(inventory=paths.in_checkout(self.path),
                                                                origin=self.origin_text)

    @property
    def shown(self) -> str:
        """The source as printed in a command to copy ('inventory/qom.unitctl.yml')."""
        return paths.in_checkout(self.path) if self.path is not None else ""


def settings_name() -> str:
    """The per-checkout setting file as a person finds it: 'unitctl.local.yml' when it is at the
    checkout's top, else its full path."""
    return paths.in_checkout(paths.LOCAL_SETTINGS)


def locate(text: str) -> Path:
    """The path a person typed (--inventory, UNITCTL_INVENTORY): as given when it exists from the
    current folder or is absolute, else from the checkout's top folder when it exists there, else
    as given (so the error names what was typed)."""
    path = Path(text).expanduser()
    if path.is_absolute() or path.exists():
        return path
    in_checkout = paths.PROJECT_ROOT / path
    return in_checkout if in_checkout.exists() else path


def path_problem(path: Path, text: str) -> str | None:
    """Why `path` (typed as `text`) is not an inventory source file, in one plain sentence, or None.

    Only the path is looked at; the file's content is load_source's and validate's business."""
    if path.is_dir():
        sources = sorted(p.name for p in path.glob("*.unitctl.yml"))
        if sources:
            return _("{path} is a folder, not an inventory source (*.unitctl.yml); name one of its sources: "
                     "{sources}").format(path=text, sources=", ".join(str(Path(text) / name) for name in sources))
        holder = province_of_unit_folder(path)
        if holder is not None:
            return _("{path} is the folder of the unit {unit}, not an inventory source (*.unitctl.yml); name its "
                     "province's source, {source} (a command for one unit takes {unit} beside it)").format(
                         path=text, unit=path.resolve().name, source=paths.in_checkout(holder))
        return _("{path} is a folder, not an inventory source (*.unitctl.yml)").format(path=text)
    if not path.is_file():
        return _("{path} does not exist; an inventory source is a file such as inventory/qom.unitctl.yml").format(
            path=text)
    return None


def province_of_unit_folder(folder: Path) -> Path | None:
    """The inventory source (of the checkout's, or beside the folder's units folder) whose units
    folder holds `folder` as one of its units; None when `folder` is no unit's folder."""
    folder = Path(folder).resolve()
    if not (folder / "unit.yml").is_file():
        return None
    candidates = known_sources() + sorted(folder.parent.parent.glob("*.unitctl.yml"))
    for source in candidates:
        try:
            spec = yaml.safe_load(source.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if not source_problem(spec) and (source.parent / spec["units_dir"]).resolve() == folder.parent:
            return source
    return None


def read_setting() -> str | None:
    """The inventory the checkout's setting file names, as written there; None without the file.

    Raises InventoryChoiceError when the file cannot be read as `inventory: SOURCE`."""
    settings = paths.LOCAL_SETTINGS
    if not settings.exists():
        return None
    try:
        content = yaml.safe_load(settings.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise InventoryChoiceError(
            _("{settings} cannot be read ({error}); write `inventory: inventory/qom.unitctl.yml` there, or run "
              "`unitctl use SOURCE` (`unitctl use --clear` removes it)").format(
                settings=settings_name(), error=type(error).__name__)) from error
    value = content.get("inventory") if isinstance(content, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise InventoryChoiceError(
            _("{settings} names no inventory; write `inventory: inventory/qom.unitctl.yml` there, or run "
              "`unitctl use SOURCE` (`unitctl use --clear` removes it)").format(settings=settings_name()))
    return value.strip()


def write_setting(source: Path) -> Path:
    """Make `source` the checkout's inventory (relative to the checkout when inside it); returns the
    setting file written."""
    settings = paths.LOCAL_SETTINGS
    settings.write_text(
        "---\n# The inventory unitctl uses in this checkout when neither --inventory nor UNITCTL_INVENTORY\n"
        "# names one. Written by `unitctl use`; `unitctl use --clear` removes it. Not committed.\n"
        + yaml.safe_dump({"inventory": paths.in_checkout(source)}, allow_unicode=True),
        encoding="utf-8")
    return settings


def clear_setting() -> bool:
    """Remove the checkout's setting; True when there was one."""
    try:
        paths.LOCAL_SETTINGS.unlink()
    except FileNotFoundError:
        return False
    return True


def choose(given: Path | None = None, default: Path | None = None) -> InventoryChoice:
    """The inventory a command uses: `given` (its --inventory), else UNITCTL_INVENTORY, else the
    checkout's setting, else `default` (None: the command has none; the choice's path is None).

    Raises InventoryChoiceError when the environment variable or the setting names no inventory
    source file (missing, a folder, an unreadable setting file)."""
    if given is not None:
        return InventoryChoice(Path(given), OPTION)
    typed = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if typed:
        path = locate(typed)
        problem = path_problem(path, typed)
        if problem:
            raise InventoryChoiceError(_("{variable}={problem} (set {variable} to one, or unset it)").format(
                variable=ENVIRONMENT_VARIABLE, problem=problem))
        return InventoryChoice(path, ENVIRONMENT)
    written = read_setting()
    if written:
        path = Path(written).expanduser()
        path = path if path.is_absolute() else paths.PROJECT_ROOT / path
        problem = path_problem(path, written)
        if problem:
            raise InventoryChoiceError(_("{settings}: inventory: {problem} (`unitctl use SOURCE` sets another, "
                                         "`unitctl use --clear` removes the setting)").format(
                                             settings=settings_name(), problem=problem))
        return InventoryChoice(path, SETTING)
    return InventoryChoice(Path(default) if default is not None else None, DEFAULT)


def describe_default(default: Path | None, default_text: str) -> str:
    """What an --inventory option falls back to, for its --help: the environment's or the
    setting's source and where it comes from, else `default_text` (the command's own default, in
    the messages' language). Never raises: a broken setting is described, and refused when a
    command runs."""
    try:
        choice = choose(None, default)
    except InventoryChoiceError as error:
        return _("none usable: {error}").format(error=error)
    if choice.origin == DEFAULT:
        return _("{default}; `unitctl use SOURCE` or {variable}=SOURCE sets another").format(
            default=default_text, variable=ENVIRONMENT_VARIABLE)
    return _("{inventory}, from {origin}").format(inventory=choice.shown, origin=choice.origin_text)


# --- a unit that is not in the inventory in use -------------------------------------------------

def known_sources(current: Path | None = None) -> list[Path]:
    """Every inventory source a unit could be in: the checkout's (inventory/*.unitctl.yml, the
    lab's among them) and those beside `current`, each once, in name order."""
    found: dict[Path, Path] = {}
    for folder in [paths.INVENTORY_DIR] + ([Path(current).resolve().parent] if current else []):
        for source in sorted(Path(folder).glob("*.unitctl.yml")):
            found.setdefault(source.resolve(), source)
    found.setdefault(paths.LAB_INVENTORY.resolve(), paths.LAB_INVENTORY)
    return [found[key] for key in sorted(found)]


def unit_ids_of(source: Path) -> list[str]:
    """The unit ids (folder names) of an inventory source's province, sorted; [] when the source
    cannot be read. Only folder names are read: cheaper than loading every unit."""
    try:
        spec = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    if source_problem(spec):
        return []
    units_dir = Path(source).parent / spec["units_dir"]
    if not units_dir.is_dir():
        return []
    return sorted(p.name for p in units_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def close_ids(typed: str, known: list[str]) -> list[str]:
    """The ids of `known` that look like `typed`, best first: difflib's similarity at least 0.6
    and within 0.1 of the best one, so 'lab-cort' gets lab-court alone, not every 'lab-' id."""
    scored = sorted(((difflib.SequenceMatcher(None, typed, other).ratio(), other) for other in known), reverse=True)
    best = scored[0][0] if scored else 0.0
    return [other for score, other in scored if score >= 0.6 and score >= best - 0.1][:3]


def unit_not_found(missing: list[str], choice: InventoryChoice, known: list[str]) -> str:
    """What to tell a technician whose unit ids `missing` are not among `known`, the units of the
    inventory `choice`: for each, the other source that has it and how to use that source, else
    the unit ids of this inventory that look like it (difflib), else this inventory's units.

    Returns one message (no 'unitctl:' prefix), e.g. "no unit qom-court in inventory/lab.unitctl.yml
    (the default). qom-court is in inventory/qom.unitctl.yml: use --inventory
    inventory/qom.unitctl.yml or set UNITCTL_INVENTORY (`unitctl use inventory/qom.unitctl.yml`
    sets it for this checkout)"."""
    here = Path(choice.path).resolve() if choice.path else None
    elsewhere = {source: unit_ids_of(source) for source in known_sources(choice.path)
                 if source.resolve() != here}
    hints = []
    found: dict[str, list[str]] = {}
    unplaced = []
    for unit_id in missing:
        holder = next((source for source, ids in elsewhere.items() if unit_id in ids), None)
        if holder is None:
            unplaced.append(unit_id)
        else:
            found.setdefault(paths.in_checkout(holder), []).append(unit_id)
    for shown, unit_ids in found.items():
        hints.append(ngettext("{units} is in {inventory}: use --inventory {inventory} or set {variable} "
                              "(`unitctl use {inventory}` sets it for this checkout)",
                              "{units} are in {inventory}: use --inventory {inventory} or set {variable} "
                              "(`unitctl use {inventory}` sets it for this checkout)", len(unit_ids)).format(
            units=", ".join(unit_ids), inventory=shown, variable=ENVIRONMENT_VARIABLE))
    for unit_id in unplaced:
        close = close_ids(unit_id, known)
        if close:
            hints.append(_("{unit}: did you mean {choices}?").format(unit=unit_id, choices=_(" or ").join(close)))
        elif known:
            hints.append(_("{unit} is in no inventory source of this checkout; this one has: {known}").format(
                unit=unit_id, known=", ".join(sorted(known))))
        else:
            hints.append(_("{unit} is in no inventory source of this checkout; this one has: no unit").format(
                unit=unit_id))
    where = (_("{inventory} ({origin})").format(inventory=choice.shown, origin=choice.origin_text) if choice.path
             else _("the inventory"))
    return _("no unit {units} in {where}.").format(units=", ".join(missing), where=where) + " " + \
        "; ".join(hints)

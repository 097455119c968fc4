"""The inventory model: province policy plus one folder per unit (see inventory/README.md).

Loading keeps the raw YAML of each file, the line of every value and any syntax error, so that
validation can name the file, the path and the line of every problem instead of stopping at the
first one. Everything that reads the inventory (the Ansible inventory plugin, validation, the
lab, reports) goes through `load_units_dir`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from unitctl.i18n import N_, _, ngettext, number

UNIT_FILES = ("unit.yml", "staff.yml", "rooms.yml", "addressing.yml", "hosts.yml")

# A place in a YAML document: mapping keys and list indexes from the top, e.g. ("hosts", 2, "address").
YamlPath = tuple[str | int, ...]


class Vaulted(str):
    """A value encrypted in place with ansible-vault (`!vault |`): never a plaintext secret."""


class InventoryLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present: 10x faster
    """Safe YAML plus the two tags Ansible adds, so inventory files Ansible accepts load here too."""


InventoryLoader.add_constructor("!vault", lambda loader, node: Vaulted(loader.construct_scalar(node)))
InventoryLoader.add_constructor("!unsafe", lambda loader, node: str(loader.construct_scalar(node)))


@dataclass
class YamlError:
    """Why a file could not be read as YAML, and where (1-based line, None when unknown)."""

    reason: str
    line: int | None


@dataclass
class YamlFile:
    """A YAML file as read: its data, the line of each value, repeated keys, or its syntax error."""

    data: Any = None
    lines: dict[YamlPath, int] = field(default_factory=dict)
    repeated_keys: list[YamlPath] = field(default_factory=list)
    error: YamlError | None = None


# Bounds on what one inventory file may cost to read: a unit file is a few kilobytes and a few
# hundred values. YAML aliases (*name) reuse a value; nested, a few lines can stand for billions
# of values ("billion laughs"), so the values a document expands to are counted before use.
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_EXPANDED_VALUES = 100_000


def load_yaml_file(path: Path) -> YamlFile:
    """Read one YAML file without ever raising: a folder, an unreadable or special file, text that
    is not UTF-8, bad YAML, an alias that contains itself or a document that aliases expand past
    MAX_EXPANDED_VALUES are recorded as the file's error instead."""
    path = Path(path)
    if path.is_symlink() and not path.exists():
        return YamlFile(error=YamlError(_("this is a link to {target}, which does not exist; put the file itself "
                                          "here").format(target=os.readlink(path)), None))
    if path.is_dir():
        return YamlFile(error=YamlError(_("this is a folder, but a file is expected here; move what is in it "
                                          "into one file of this name"), None))
    if path.exists() and not path.is_file():
        return YamlFile(error=YamlError(_("this is not a regular file (a pipe, socket or device); replace it "
                                          "with a plain text file"), None))
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return YamlFile(error=YamlError(_("the file is larger than {size} MB; an inventory file is a few "
                                              "kilobytes: is it the right file?").format(
                                                  size=number(MAX_FILE_BYTES // (1024 * 1024))), None))
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return YamlFile(error=YamlError(_("the file is not UTF-8 text; save it as UTF-8"), None))
    except OSError as error:
        return YamlFile(error=YamlError(_("the file cannot be read ({error}); check that it exists and that its "
                                          "permissions let it be read").format(error=error.strerror or error), None))
    try:
        # One parse: the composed nodes carry the line marks, and the data is constructed from them.
        loader = InventoryLoader(text)
        try:
            node = loader.get_single_node()
            problem = _alias_problem(node) if node is not None else None
            if problem:
                return YamlFile(error=problem)
            try:
                data = loader.construct_document(node) if node is not None else None
            except ValueError as error:  # a date YAML recognises by its form but no calendar has
                date = _impossible_date(node)
                return YamlFile(error=YamlError(
                    _("{value} is not a real date ({detail}); write a date as YYYY-MM-DD").format(
                        value=repr(date.value) if date else "a date", detail=error),
                    date.start_mark.line + 1 if date else None))
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        return YamlFile(error=YamlError(_plain_yaml_error(error), mark.line + 1 if mark else None))
    except yaml.YAMLError as error:
        return YamlFile(error=YamlError(_("this is not valid YAML: {detail}").format(detail=error), None))
    loaded = YamlFile(data=data)
    if node is not None:
        _record_lines(node, (), loaded)
    return loaded


def _impossible_date(node: yaml.Node) -> yaml.ScalarNode | None:
    """The first scalar YAML reads as a date (2028-13-45) that is not one, or None."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:timestamp":
            try:
                yaml.SafeLoader("").construct_yaml_timestamp(node)
            except ValueError:
                return node
        return None
    children = node.value if isinstance(node, yaml.SequenceNode) else (
        [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else [])
    for child in children:
        found = _impossible_date(child)
        if found is not None:
            return found
    return None


def _alias_problem(root: yaml.Node) -> YamlError | None:
    """An alias that contains itself, or more than MAX_EXPANDED_VALUES values once aliases are
    expanded; None for an ordinary document. Walks the composed node graph without recursion,
    counting a shared node each time it is reached (that is what expanding it costs)."""
    count = 0
    stack: list[tuple[yaml.Node, frozenset[int]]] = [(root, frozenset())]
    while stack:
        node, ancestors = stack.pop()
        count += 1
        if count > MAX_EXPANDED_VALUES:
            return YamlError(_("through its aliases (*name) this file stands for more than {count} values; write "
                               "the values out instead of nesting aliases").format(
                                   count=number(f"{MAX_EXPANDED_VALUES:,}")), node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            continue
        if id(node) in ancestors:
            return YamlError(_("an alias (*name) refers to the value that contains it, so the value never ends; "
                               "write the value out instead"), node.start_mark.line + 1)
        inside = ancestors | {id(node)}
        children = node.value if isinstance(node, yaml.SequenceNode) else \
            [child for pair in node.value for child in pair]
        stack.extend((child, inside) for child in children)
    return None


# PyYAML's words for the mistakes people make most, and what they mean (English, N_(); PyYAML's
# own words are quoted as they are).
_YAML_MISTAKES = (
    ("expected <block end>", N_("a line is indented differently from the lines around it")),
    ("did not find expected '-' indicator", N_("a line is indented differently from the lines around it")),
    ("did not find expected key", N_("a line is indented differently from the lines around it")),
    ("found character '\\t'", N_("a tab is used for indentation; use spaces")),
    ("cannot start any token", N_("a value starts with a character YAML reserves (a tab, '@' or '`'); "
                                  "indent with spaces and put such values in quotes")),
    ("mapping values are not allowed",
     N_("a ':' is in an unexpected place; a value that contains ': ' must be put in quotes")),
    ("could not find expected ':'", N_("a line is missing the ':' between key and value")),
    ("found unexpected end of stream", N_("a quote or bracket is opened but never closed")),
    ("found undefined alias", N_("'*' starts an alias; put a value starting with '*' in quotes")),
    # The unit files write VLANs and branches as {id: 10, name: ...}: a brace or bracket left open.
    ("did not find expected ',' or ']'",
     N_("a list in square brackets is not closed, or two of its items have no ',' between them")),
    ("did not find expected ',' or '}'",
     N_("a mapping in curly brackets is not closed, or two of its entries have no ',' between them")),
    ("while scanning an anchor", N_("'&' starts an anchor; put a value starting with '&' in quotes")),
    ("while scanning a block scalar", N_("'|' or '>' starts a block of text; put a value starting with it in quotes")),
)


def _plain_yaml_error(error: yaml.MarkedYAMLError) -> str:
    detail = " ".join(str(part) for part in (error.context, error.problem) if part)
    meaning = next((plain for words, plain in _YAML_MISTAKES if words in detail), None)
    if meaning:
        return _("this is not valid YAML: {meaning} (the YAML reader says: {detail})").format(
            meaning=_(meaning), detail=detail)
    return _("this is not valid YAML: {detail}").format(detail=detail)


def _record_lines(node: yaml.Node, path: YamlPath, loaded: YamlFile) -> None:
    loaded.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            if key in seen:
                loaded.repeated_keys.append(path + (key,))
            seen.add(key)
            # A mapping entry's line is its key's line: that is where a technician looks.
            loaded.lines[path + (key,)] = key_node.start_mark.line + 1
            _record_lines(value_node, path + (key,), loaded)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, path + (index,), loaded)


@dataclass
class Unit:
    """One judicial unit as read from its folder; `data` maps each topic file to its YAML.

    `files` keeps every file as read (with line marks and syntax errors); a file that is
    missing or broken has no entry in `data`.
    """

    folder: Path
    data: dict[str, Any] = field(default_factory=dict)
    files: dict[str, YamlFile] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.folder.name

    def _section(self, file_name: str, key: str, empty: Any) -> Any:
        document = self.data.get(file_name)
        value = document.get(key) if isinstance(document, dict) else None
        return value if isinstance(value, type(empty)) else empty

    @property
    def info(self) -> dict[str, Any]:
        return self._section("unit.yml", "unit", {})

    @property
    def staff(self) -> list[dict[str, Any]]:
        return [entry for entry in self._section("staff.yml", "staff", []) if isinstance(entry, dict)]

    @property
    def rooms(self) -> dict[str, Any]:
        return self._section("rooms.yml", "rooms", {})

    @property
    def addressing(self) -> dict[str, Any]:
        return self._section("addressing.yml", "addressing", {})

    @property
    def vlans(self) -> list[dict[str, Any]]:
        vlans = self.addressing.get("vlans")
        return [vlan for vlan in vlans if isinstance(vlan, dict)] if isinstance(vlans, list) else []

    @property
    def hosts(self) -> list[dict[str, Any]]:
        return [entry for entry in self._section("hosts.yml", "hosts", []) if isinstance(entry, dict)]

    @property
    def missing_files(self) -> list[str]:
        return [name for name in UNIT_FILES if name not in self.files]


@dataclass
class Province:
    units_dir: Path
    units: list[Unit]

    def all_hosts(self) -> list[tuple[Unit, dict[str, Any]]]:
        return [(unit, host) for unit in self.units for host in unit.hosts]


# What technicians type on a Persian keyboard, read as the toolkit means it (the file is left as
# typed). Persian (U+06F0-06F9) and Arabic-Indic (U+0660-0669) digits become ASCII digits in a value
# that is only digits and separators (a date, a number, an address); Persian text keeps its digits.
# Arabic yeh and kaf (U+064A, U+0643) become the Persian letters (U+06CC, U+06A9) that a Persian
# keyboard types, so one name is written one way. Direction marks and the byte-order mark, which
# copy-paste from documents brings along, are dropped; a no-break space becomes a space. The
# zero-width non-joiner (U+200C) is part of Persian spelling and stays.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_LETTERS = str.maketrans({"ي": "ی", "ك": "ک", "\u00a0": " "})
_INVISIBLE = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"))
_NUMERIC = re.compile(r"[0-9۰-۹٠-٩][0-9۰-۹٠-٩/.:\-]*")


def normalise_typed(value: Any) -> Any:
    """A unit file's value as the toolkit reads it (see above); ints for values that are only
    digits once converted, as YAML would have read them typed in ASCII."""
    if isinstance(value, dict):
        return {key: normalise_typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise_typed(item) for item in value]
    if not isinstance(value, str) or isinstance(value, Vaulted):
        return value
    text = value.translate(_INVISIBLE).translate(_LETTERS)
    if _NUMERIC.fullmatch(text.strip()) and text.strip() != text.strip().translate(_DIGITS):
        text = text.strip().translate(_DIGITS)
        return int(text) if text.isdigit() else text
    return text


def todo_lines(path: Path) -> list[tuple[int, str]]:
    """The lines of a file that hold a TODO marker (a value or comment a person still has to fill
    in, as `unitctl new-unit` writes them): (1-based line number, the line stripped)."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1) if "TODO" in line]


def load_unit(folder: Path) -> Unit:
    unit = Unit(Path(folder))
    for name in UNIT_FILES:
        path = unit.folder / name
        if path.exists() or path.is_symlink():
            loaded = load_yaml_file(path)
            unit.files[name] = loaded
            if loaded.error is None:
                unit.data[name] = normalise_typed(loaded.data)
    return unit


def load_units_dir(units_dir: Path) -> Province:
    """Read every unit folder under `units_dir` (raw: no validation, never raises on bad YAML)."""
    units_dir = Path(units_dir)
    # Hidden folders are not units (editor backups, a unit `new-unit` is still writing).
    folders = sorted(p for p in units_dir.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if units_dir.is_dir() else []
    return Province(units_dir, [load_unit(folder) for folder in folders])


@dataclass(frozen=True)
class Source:
    """An inventory source (`*.unitctl.yml`) and the province it names.

    `root` is the folder of the source (where Ansible reads group_vars/ and host_vars/),
    `units_dir` the folder of unit folders, `lab` whether it is a lab province."""

    path: Path
    root: Path
    units_dir: Path
    lab: bool
    province: Province


SOURCE_KEYS = {"plugin": "unitctl_province", "units_dir": "units", "lab": "true (the lab's source only)"}


def source_problem(spec: Any) -> str | None:
    """What is wrong with the content of an inventory source (*.unitctl.yml), or None."""
    if not isinstance(spec, dict) or not isinstance(spec.get("units_dir"), str):
        return _("names no 'units_dir'; an inventory source says 'plugin: unitctl_province' and "
                 "'units_dir: units'")
    if spec.get("plugin") != "unitctl_province":
        return _("'plugin: {plugin}' is not the toolkit's inventory plugin: write 'plugin: unitctl_province' "
                 "(Ansible would not read the units otherwise)").format(plugin=spec.get("plugin"))
    unknown = sorted(str(key) for key in spec if key not in SOURCE_KEYS)
    if unknown:
        return ngettext("unknown key {keys}; an inventory source has only: {allowed}",
                        "unknown keys {keys}; an inventory source has only: {allowed}", len(unknown)).format(
                            keys=", ".join(unknown), allowed=", ".join(SOURCE_KEYS))
    return None


def load_source(path: Path | str) -> Source:
    """Read an inventory source and load its province (raw: not validated).

    Raises ValueError when the file is not a mapping naming `units_dir`, OSError when it cannot
    be read. Every reader of a `*.unitctl.yml` goes through here."""
    path = Path(path).resolve()
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ValueError(_("{path} is not an inventory source: it cannot be read as YAML in UTF-8 ({error})").format(
            path=path, error=error)) from error
    problem = source_problem(spec)
    if problem:
        raise ValueError(f"{path}: {problem}")
    units_dir = path.parent / spec["units_dir"]
    return Source(path, path.parent, units_dir, bool(spec.get("lab")), load_units_dir(units_dir))

"""The province policy schema (inventory/policy-schema.yml) and the checks it drives.

Every key the province's `group_vars/all` (and the lab's `group_vars/lab`) may hold is declared
there once with its type, its meaning and where it may be set. `check_policy_file` reports, for
one policy file: an undeclared key (with the closest declared ones: a misspelt key would
otherwise be ignored without a word), a key computed by the inventory plugin, a key set in the
wrong group, and a value of the wrong type. `missing_required` names required keys no file sets.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from unitctl import paths

SCHEMA_PATH = paths.INVENTORY_DIR / "policy-schema.yml"
TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "bool": (bool,), "list": (list,), "dict": (dict,), "port": (int,),
}
TYPE_WORDS = {"str": "text", "int": "a whole number", "bool": "true or false", "list": "a list",
              "dict": "a mapping of keys to values", "port": "a port number (1-65535)"}
# Which group_vars folder a key may be set in, by its `where`.
WHERE_GROUPS = {"all": ("all",), "lab": ("lab",), "all_or_lab": ("all", "lab")}


@dataclass(frozen=True)
class PolicyKey:
    name: str
    type: str
    meaning: str
    where: str = "all"
    required: bool = True
    min: int | None = None  # the smallest value an int may take


@dataclass(frozen=True)
class PolicySchema:
    keys: dict[str, PolicyKey]
    derived: frozenset[str]


@lru_cache(maxsize=4)
def load_schema(path: Path = SCHEMA_PATH) -> PolicySchema:
    """The schema as declared; raises ValueError naming the key when a declaration is malformed."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    keys = {}
    for name, spec in data["keys"].items():
        if spec.get("type") not in TYPES or not spec.get("meaning") \
                or spec.get("where", "all") not in WHERE_GROUPS \
                or "min" in spec and (spec["type"] != "int" or not isinstance(spec["min"], int)):
            raise ValueError(f"{path}: the declaration of '{name}' needs a type ({', '.join(TYPES)}), "
                             f"a meaning and a where ({', '.join(WHERE_GROUPS)}); a min only on an int, "
                             "as a whole number")
        keys[name] = PolicyKey(name, spec["type"], spec["meaning"], spec.get("where", "all"),
                               spec.get("required", True), spec.get("min"))
    return PolicySchema(keys, frozenset(data.get("derived", [])))


def _templated(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _type_problem(key: PolicyKey, value: Any) -> str | None:
    if _templated(value) or value is None and not key.required:
        return None
    expected = TYPES[key.type]
    if isinstance(value, bool) and bool not in expected or not isinstance(value, expected):
        return f"should be {TYPE_WORDS[key.type]}, but it is {type(value).__name__} ({value!r})"
    if key.type == "port" and not 1 <= value <= 65535:
        return f"should be {TYPE_WORDS['port']}, but it is {value}"
    if key.min is not None and value < key.min:
        return f"should be at least {key.min}, but it is {value}"
    return None


def check_policy_file(group: str, data: dict[str, Any],
                      schema: PolicySchema | None = None) -> list[tuple[str, str]]:
    """Problems of one file of group_vars/<group> as (key, reason); [] when it is clean."""
    schema = schema or load_schema()
    problems = []
    for name, value in data.items():
        key = schema.keys.get(str(name))
        if str(name) in schema.derived:
            problems.append((name, f"'{name}' is computed by the inventory plugin from the unit folders; "
                                   "remove it from this file"))
        elif key is None:
            close = difflib.get_close_matches(str(name), list(schema.keys), n=2, cutoff=0.75)
            hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
            problems.append((name, f"'{name}' is not a province policy key{hint}; every policy key is "
                                   "declared in inventory/policy-schema.yml"))
        elif group not in WHERE_GROUPS[key.where]:
            place = " or ".join(f"group_vars/{g}" for g in WHERE_GROUPS[key.where])
            problems.append((name, f"'{name}' belongs in {place}, not in group_vars/{group}"))
        else:
            reason = _type_problem(key, value)
            if reason:
                problems.append((name, reason))
    return problems


def missing_required(keys_set: set[str], schema: PolicySchema | None = None) -> list[PolicyKey]:
    """Required province keys (where: all or all_or_lab) that group_vars/all does not set."""
    schema = schema or load_schema()
    return [key for key in schema.keys.values()
            if key.required and "all" in WHERE_GROUPS[key.where] and key.name not in keys_set]

"""The province policy schema (inventory/policy-schema.yml) and the checks it drives.

Every key the province's `group_vars/all` (and the lab's `group_vars/lab`) may hold is declared
there once with its type, its meaning and where it may be set. `check_policy_file` reports, for
one policy file: an undeclared key (with the closest declared ones: a misspelt key would
otherwise be ignored without a word), a key computed by the inventory plugin, a key set in the
wrong group, a value of the wrong type, and a value outside what its declaration allows (a
number's min and max, a text's choices or format, a list's fewest entries and the form of each,
a mapping's fields). `missing_required` names required keys no file sets.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from unitctl import paths
from unitctl.i18n import N_, _, ngettext, number, word
from unitctl.kernel_policy import MODULE_NAME
from unitctl.releases import DEBIAN_RELEASES, phase_out_date

SCHEMA_PATH = paths.INVENTORY_DIR / "policy-schema.yml"
TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "bool": (bool,), "list": (list,), "dict": (dict,), "port": (int,),
}
# Each type in words (English: the policy reference page; translated with _() in problems).
TYPE_WORDS = {"str": N_("text"), "int": N_("a whole number"), "bool": N_("true or false"), "list": N_("a list"),
              "dict": N_("a mapping of keys to values"), "port": N_("a port number (1-65535)")}
# Which group_vars folder a key may be set in, by its `where`.
WHERE_GROUPS = {"all": ("all",), "lab": ("lab",), "all_or_lab": ("all", "lab")}
TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
OS_NAME = re.compile(r"(?i)debian|gnu/linux|bookworm|ubuntu")
MAX_STARTUPS = re.compile(r"^([0-9]+):([0-9]+):([0-9]+)$")


def _legal_notice(text: str) -> str | None:
    """The notice every login shows (roles/login_banner refuses the same): Persian and English,
    no backslash (the console reads \\s, \\r, \\v, \\m as the OS and kernel), no OS name. Only the
    text outside {{ }} is judged: a template's value is not known here."""
    literal = TEMPLATE.sub("", text)
    if not literal.strip():
        return None if TEMPLATE.search(text) else _("should be the legal notice, but it is empty")
    if "\\" in literal:
        return _("should hold no backslash: the console would read \\s, \\r, \\v, \\m as the operating system "
                 "and kernel")
    if OS_NAME.search(literal):
        return _("should not name the operating system ('{name}'): the notice must not tell an attacker what the "
                 "host runs (CIS 1.6.2, 1.6.3)").format(name=OS_NAME.search(literal).group())
    persian, english = re.search(r"[\u0600-\u06FF]", literal), re.search("[A-Za-z]", literal)
    if not persian and not english:
        return _("should be in Persian and English, but it has no Persian and no English text")
    if not persian:
        return _("should be in Persian and English, but it has no Persian text")
    if not english:
        return _("should be in Persian and English, but it has no English text")
    return None


def _max_startups(text: str) -> str | None:
    """sshd's MaxStartups as roles/ssh_server takes it: start:rate:full, rate 1-100, start <= full."""
    match = MAX_STARTUPS.match(text)
    if not match:
        return _("should be start:rate:full (three whole numbers, such as 10:30:60), but it is {value}").format(
            value=repr(text))
    start, rate, full = map(int, match.groups())
    if not 1 <= rate <= 100:
        return _("should have a rate (the middle number, a percentage) of 1 to 100, but it is {rate}").format(rate=rate)
    if start > full:
        return _("should have start ({start}) at most full ({full})").format(start=start, full=full)
    return None


def _on_calendar(text: str) -> str | None:
    if not text.strip() or "\n" in text:
        return _("should be one systemd OnCalendar expression (such as '*-*-* 03:15:00'), but it is {value}").format(
            value=repr(text))
    return None


def _module_name(text: str) -> str | None:
    if not MODULE_NAME.match(text):
        return _("{value} is not a kernel module name (as modprobe takes it: lower-case letters, digits, "
                 "'-' and '_', no spaces, options or paths)").format(value=repr(text))
    return None


def _absolute_path(text: str) -> str | None:
    if not text.startswith("/") or re.search(r"\s", text):
        return _("{value} is not an absolute path without spaces (it must start with /)").format(value=repr(text))
    return None


def _aide_expression(text: str) -> str | None:
    if not text.startswith("/"):
        return _("{value} is not an AIDE expression of a path (it must start with /)").format(value=repr(text))
    return None


def _names(text: str) -> str | None:
    return None if text.strip() else _("should be a name, but it is empty")


# Named checks of a text (`format` of a str key, `items` of a list key): each returns the reason or None.
FORMATS: dict[str, tuple[str, Callable[[str], str | None]]] = {
    "legal_notice": ("Persian and English, no backslash, no OS name", _legal_notice),
    "max_startups": ("start:rate:full, rate 1-100, start at most full", _max_startups),
    "on_calendar": ("one systemd OnCalendar expression", _on_calendar),
    "module_name": ("kernel module names", _module_name),
    "absolute_path": ("absolute paths without spaces", _absolute_path),
    "aide_expression": ("AIDE expressions, each starting with /", _aide_expression),
    "name": ("names", _names),
}

# Formats that judge the text around a template's {{ }} themselves (any other templated value is
# left to Ansible to render).
JUDGES_TEMPLATES = frozenset({"legal_notice"})


def _password_ageing(value: dict) -> list[tuple[tuple, str]]:
    problems = []
    for name in ("min_days", "warn_days"):
        if _whole(value.get(name)) and _whole(value.get("max_days")) and value[name] > value["max_days"]:
            problems.append(((name,), _("should be at most max_days ({max_days}), but it is {value}").format(
                max_days=value["max_days"], value=value[name])))
    return problems


def _login_lockout(value: dict) -> list[tuple[tuple, str]]:
    unlock = value.get("unlock_time")
    if _whole(unlock) and 0 < unlock < 900:
        return [(("unlock_time",), _("should be 0 (never unlocks by itself) or at least 900 seconds, "
                                     "but it is {value}").format(value=unlock))]
    return []


RELEASE_FIELDS = ("phase_out",)


def _debian_releases(value: dict) -> list[tuple[tuple, str]]:
    """province_debian_releases: {<major release>: {phase_out: <date> or nothing}}, only releases the
    toolkit supports (DEBIAN_RELEASES), at least one."""
    problems: list[tuple[tuple, str]] = []
    if not value:
        return [((), _("should name at least one Debian release ({releases})").format(
            releases=", ".join(map(str, DEBIAN_RELEASES))))]
    for release, settings in value.items():
        if isinstance(release, str) and release.strip().isdigit() and int(release) in DEBIAN_RELEASES:
            problems.append(((release,), _("{value} is written as text: write the release as a number, without "
                                           "quotes ({number})").format(value=repr(release), number=int(release))))
            continue
        if not _whole(release) or release not in DEBIAN_RELEASES:
            problems.append(((release,), _("{value} is not a Debian release the toolkit supports ({releases}: "
                                           "the major number, as /etc/debian_version starts)").format(
                value=repr(release), releases=", ".join(f"{number} {name}" for number, name in
                                                        DEBIAN_RELEASES.items()))))
            continue
        if settings is None:
            continue
        if not isinstance(settings, dict):
            problems.append(((release,), _("should be a mapping such as {{phase_out: 2028-06-30}}, or {{}} for a "
                                           "release not being phased out, but it is {value}").format(
                value=repr(settings))))
            continue
        for name, item in settings.items():
            if name not in RELEASE_FIELDS:
                problems.append(((release, name), _("'{field}' is not a field of a release; its fields are "
                                                    "{fields}").format(field=name, fields=", ".join(RELEASE_FIELDS))))
            elif item is not None and phase_out_date(item) is None:
                problems.append(((release, name), _("should be a date (YYYY-MM-DD), but it is {value}").format(
                    value=repr(item))))
    return problems


# Rules that judge a whole mapping (its keys are data, not declared fields).
MAPPING_RULES = frozenset({"debian_releases"})
# Named checks across the fields of a mapping (`rules` of a dict key; on a dict without `fields`,
# the rule judges the whole mapping, keys and values).
RULES: dict[str, tuple[str, Callable[[dict], list[tuple[tuple, str]]]]] = {
    "password_ageing": ("min_days and warn_days at most max_days", _password_ageing),
    "login_lockout": ("unlock_time 0 or at least 900", _login_lockout),
    "debian_releases": ("release numbers the toolkit supports (12, 13), each {phase_out: date} or {}",
                        _debian_releases),
}


@dataclass(frozen=True)
class PolicyKey:
    name: str
    type: str
    meaning: str
    where: str = "all"
    required: bool = True
    min: int | None = None  # the smallest value an int may take, or the fewest entries of a list
    max: int | None = None  # the largest value an int may take
    choices: tuple[str, ...] | None = None  # the only values a str may take
    format: str | None = None  # a named check of a str's text (FORMATS)
    items: str | None = None  # a named check of each entry of a list (FORMATS); entries are text
    fields: dict[str, PolicyKey] | None = field(default=None, hash=False)  # a dict's keys, each required
    rules: str | None = None  # a named check across a dict's fields (RULES)


@dataclass(frozen=True)
class PolicySchema:
    keys: dict[str, PolicyKey]
    derived: frozenset[str]


def _declaration(path: Path, name: str, spec: Any, is_field: bool = False) -> PolicyKey:
    """One key (or one field of a dict key) as declared; ValueError naming it when malformed."""
    what = "the field" if is_field else "the declaration of"
    if not isinstance(spec, dict) or spec.get("type") not in TYPES \
            or not is_field and (not spec.get("meaning") or spec.get("where", "all") not in WHERE_GROUPS):
        raise ValueError(f"{path}: {what} '{name}' needs a type ({', '.join(TYPES)}), a meaning and a where "
                         f"({', '.join(WHERE_GROUPS)})")
    kind = spec["type"]
    allowed = {"min": kind in ("int", "list"), "max": kind == "int", "choices": kind == "str",
               "format": kind == "str", "items": kind == "list", "fields": kind == "dict" and not is_field,
               "rules": kind == "dict" and (spec.get("rules") in MAPPING_RULES) != ("fields" in spec)}
    wrong = [extra for extra, fits in allowed.items() if extra in spec and not fits]
    bounds = [spec[b] for b in ("min", "max") if b in spec]
    if wrong or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds) \
            or "choices" in spec and not (isinstance(spec["choices"], list) and spec["choices"]
                                          and all(isinstance(c, str) for c in spec["choices"])) \
            or spec.get("format", "name") not in FORMATS or spec.get("items", "name") not in FORMATS \
            or spec.get("rules", "password_ageing") not in RULES \
            or "fields" in spec and not (isinstance(spec["fields"], dict) and spec["fields"]):
        raise ValueError(f"{path}: {what} '{name}': min only on an int or a list and max only on an int (whole "
                         f"numbers), choices (a list of texts) and format ({', '.join(FORMATS)}) only on a str, "
                         f"items ({', '.join(FORMATS)}) only on a list, fields and rules ({', '.join(RULES)}) "
                         "only on a dict")
    fields = {str(sub): _declaration(path, f"{name}.{sub}", sub_spec, is_field=True)
              for sub, sub_spec in spec["fields"].items()} if "fields" in spec else None
    return PolicyKey(name, kind, spec.get("meaning", ""), spec.get("where", "all"), spec.get("required", True),
                     spec.get("min"), spec.get("max"),
                     tuple(spec["choices"]) if "choices" in spec else None, spec.get("format"),
                     spec.get("items"), fields, spec.get("rules"))


@lru_cache(maxsize=4)
def load_schema(path: Path = SCHEMA_PATH) -> PolicySchema:
    """The schema as declared; raises ValueError naming the key when a declaration is malformed."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    keys = {name: _declaration(path, name, spec) for name, spec in data["keys"].items()}
    return PolicySchema(keys, frozenset(data.get("derived", [])))


def _templated(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def describe(key: PolicyKey) -> str:
    """The values a key allows beyond its type, in words (for the policy reference page)."""
    parts = []
    if key.type == "list" and key.min is not None:
        parts.append(f"at least {key.min} entr{'y' if key.min == 1 else 'ies'}")
    elif key.min is not None or key.max is not None:
        parts.append(_range(key))
    if key.choices:
        parts.append("one of " + ", ".join(key.choices))
    if key.format:
        parts.append(FORMATS[key.format][0])
    if key.items:
        parts.append("entries: " + FORMATS[key.items][0])
    if key.fields:
        parts.append("fields " + "; ".join(f"{sub} {describe(spec) or TYPE_WORDS[spec.type]}"
                                           for sub, spec in key.fields.items()))
    if key.rules:
        parts.append(RULES[key.rules][0])
    return ", ".join(parts)


def _value_problems(key: PolicyKey, value: Any, path: tuple) -> list[tuple[tuple, str]]:
    """Every problem of `value` against its declaration, each with its path under the key."""
    if _templated(value) and key.format not in JUDGES_TEMPLATES or value is None and not key.required:
        return []
    expected = TYPES[key.type]
    if isinstance(value, bool) and bool not in expected or not isinstance(value, expected):
        return [(path, _("should be {type}, but it is {python_type} ({value})").format(
            type=word(TYPE_WORDS, key.type), python_type=type(value).__name__, value=repr(value)))]
    if key.type == "port" and not 1 <= value <= 65535:
        return [(path, _("should be {type}, but it is {value}").format(type=word(TYPE_WORDS, "port"), value=value))]
    if key.type == "int" and (key.min is not None and value < key.min or key.max is not None and value > key.max):
        return [(path, _("should be {range}, but it is {value}").format(range=_range_words(key), value=value))]
    if key.type == "str":
        if key.choices and value not in key.choices:
            close = difflib.get_close_matches(value.lower(), key.choices, n=1, cutoff=0.6)
            hint = _(" (did you mean {suggestion}?)").format(suggestion=repr(close[0])) if close else ""
            return [(path, _("should be one of {choices}, but it is {value}{hint}").format(
                choices=", ".join(key.choices), value=repr(value), hint=hint))]
        reason = FORMATS[key.format][1](value) if key.format else None
        return [(path, reason)] if reason else []
    if key.type == "list":
        return _list_problems(key, value, path)
    if key.type == "dict" and key.fields is not None:
        return _dict_problems(key, value, path)
    if key.type == "dict" and key.rules:
        return [(path + sub, reason) for sub, reason in RULES[key.rules][1](value)]
    return []


def _range(key: PolicyKey) -> str:
    """The bounds of a key in English (the policy reference page)."""
    if key.min is not None and key.max is not None:
        return f"{key.min} to {key.max}"
    return f"at least {key.min}" if key.min is not None else f"at most {key.max}"


def _range_words(key: PolicyKey) -> str:
    """The bounds of a key in the language of the problems (unitctl.i18n)."""
    if key.min is not None and key.max is not None:
        return _("{minimum} to {maximum}").format(minimum=number(key.min), maximum=number(key.max))
    if key.min is not None:
        return _("at least {minimum}").format(minimum=number(key.min))
    return _("at most {maximum}").format(maximum=number(key.max))


def _list_problems(key: PolicyKey, value: list, path: tuple) -> list[tuple[tuple, str]]:
    problems = []
    if key.min is not None and len(value) < key.min:
        problems.append((path, ngettext("should have at least {minimum} entry, but it has {count}",
                                        "should have at least {minimum} entries, but it has {count}", key.min).format(
                                            minimum=number(key.min), count=number(len(value)))))
    for index, item in enumerate(value if key.items else []):
        if _templated(item):
            continue
        if not isinstance(item, str):
            problems.append((path + (index,), _("should be text, but it is {python_type} ({value})").format(
                python_type=type(item).__name__, value=repr(item))))
            continue
        reason = FORMATS[key.items][1](item)
        if reason:
            problems.append((path + (index,), reason))
    return problems


def _dict_problems(key: PolicyKey, value: dict, path: tuple) -> list[tuple[tuple, str]]:
    fields = key.fields or {}
    problems = []
    for name, item in value.items():
        spec = fields.get(str(name))
        if spec is None:
            close = difflib.get_close_matches(str(name), list(fields), n=1, cutoff=0.75)
            hint = _(" (did you mean {suggestion}?)").format(suggestion=repr(close[0])) if close else ""
            problems.append((path + (name,), _("'{field}' is not a field of {key}{hint}; its fields are "
                                               "{fields}").format(field=name, key=key.name, hint=hint,
                                                                  fields=", ".join(fields))))
        else:
            problems += _value_problems(spec, item, path + (name,))
    missing = [name for name in fields if name not in value]
    if missing:
        problems.append((path, _("lacks {missing}: every field of {key} must be set ({fields})").format(
            missing=", ".join(missing), key=key.name, fields=", ".join(fields))))
    if key.rules:  # across fields; a field already reported is not reported twice
        reported = {problem_path for problem_path, _reason in problems}
        problems += [(path + sub, reason) for sub, reason in RULES[key.rules][1](value)
                     if path + sub not in reported]
    return problems


def check_policy_file(group: str, data: dict[str, Any],
                      schema: PolicySchema | None = None) -> list[tuple[tuple, str]]:
    """Problems of one file of group_vars/<group> as (YAML path, reason); [] when it is clean. The
    path starts with the key; a problem inside its value goes on (a field, a list entry's index)."""
    schema = schema or load_schema()
    problems: list[tuple[tuple, str]] = []
    for name, value in data.items():
        key = schema.keys.get(str(name))
        if str(name) in schema.derived:
            problems.append(((name,), _("'{key}' is computed by the inventory plugin from the unit folders; "
                                        "remove it from this file").format(key=name)))
        elif key is None:
            close = difflib.get_close_matches(str(name), list(schema.keys), n=2, cutoff=0.75)
            hint = _(" (did you mean {suggestion}?)").format(
                suggestion=_(" or ").join(repr(c) for c in close)) if close else ""
            problems.append(((name,), _("'{key}' is not a province policy key{hint}; every policy key is "
                                        "declared in inventory/policy-schema.yml").format(key=name, hint=hint)))
        elif group not in WHERE_GROUPS[key.where]:
            place = _(" or ").join(f"group_vars/{g}" for g in WHERE_GROUPS[key.where])
            problems.append(((name,), _("'{key}' belongs in {place}, not in group_vars/{group}").format(
                key=name, place=place, group=group)))
        else:
            problems += _value_problems(key, value, (name,))
    return problems


def missing_required(keys_set: set[str], schema: PolicySchema | None = None) -> list[PolicyKey]:
    """Required province keys (where: all or all_or_lab) that group_vars/all does not set."""
    schema = schema or load_schema()
    return [key for key in schema.keys.values()
            if key.required and "all" in WHERE_GROUPS[key.where] and key.name not in keys_set]

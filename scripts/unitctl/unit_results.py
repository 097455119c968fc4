"""Compliance results a unit sends to the provincial centre: the collect mode of the evaluation
(`unitctl evaluate --collect`, circular 8476 clause 4: each unit checks itself, the centre evaluates
what the units sent).

Layout, the same in a unit's spool and in the centre's drop folder:

    FOLDER/UNIT/STAMP.json

FOLDER   at the centre paths.COLLECTED_DIR (results/collected/ in the checkout), or
         `unitctl evaluate --collect --collected FOLDER`; on a unit server, its spool, which the
         sender copies to the centre as it is (folder and file names unchanged; a file the centre
         cannot be reached for stays in the spool until the next sending).
UNIT     the unit's id as in the inventory: one folder per unit, so that the centre can let each
         unit's account write into its own folder and nowhere else.
STAMP    the UTC moment the unit's run started, YYYYMMDDTHHMMSSZ (20261128T120000Z.json), so that
         names sort in time order.
A name beginning with "." is a file still being written (this module's temporary files, rsync's
partial ones) and is never read; a file not ending in ".json" is left alone.

One file (JSON, UTF-8):

    {"schema": "unitctl-unit-results/1",
     "unit_id": "qom-court",                    the unit whose hosts were checked
     "host": "qom-court-srv1",                  the host that ran the checks and sent them (inventory name)
     "started": "2026-11-28T12:00:00+00:00",    the run's start and end, ISO 8601 with the UTC offset
     "finished": "2026-11-28T12:03:10+00:00",
     "toolkit_commit": "f27268a1b2c3",          the toolkit's commit that ran the suite
     "compliance": {"schema": "unitctl-compliance/1", "checks": {...}, "results": [...], "facts": {...}}}

`compliance` is the suite's own results (`pytest tests/compliance --compliance-json FILE`,
unitctl.compliance.write_results), unchanged. A unit writes its file with `spool_results`: into a
temporary file of the same folder, flushed to disk, then renamed, so that a reader (and the sender)
sees a whole file or none.

The centre (`newest_results`) takes, for each unit of the inventory, its newest file that is valid;
older files are not read. A file is refused, with its path and the reason, and does not count, when
it is a symbolic link (never followed; a unit folder that is one too), when it is larger than
MAX_FILE_BYTES, when it cannot be read as JSON in UTF-8 (nested too deeply included), when it is
not of the schema above (or its `compliance` not of unitctl-compliance/1, or not shaped as the
suite writes it), when its name is not its run's start,
when its run ends in the future (the sending host's clock), when it lies in another unit's folder or
in none, when its unit is not in the inventory, and when it has results or facts for hosts that are
not that unit's in the inventory, or was sent by such a host. `collection` then tells each unit's
state: `reported` (its newest valid results are at most the policy's age,
province_unit_results_max_age_hours), `stale` (older) or `missing` (none); a unit that is stale or
missing is "not reported": never compliant, its hosts not evaluated.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from unitctl import paths
from unitctl.compliance import CONTROL_PATTERN, SEVERITIES, network_hosts, target_hosts
from unitctl.files import write_atomic
from unitctl.i18n import N_, _
from unitctl.inventory.load import Province
from unitctl.report.evaluation import jalali

SCHEMA = "unitctl-unit-results/1"
COMPLIANCE_SCHEMA = "unitctl-compliance/1"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
STAMP_NAME = re.compile(r"[0-9]{8}T[0-9]{6}Z\.json")  # whole name (fullmatch), ASCII digits only
OUTCOMES = ("pass", "fail", "error", "skipped", "not_applicable", "unreachable")
# The policy key and its value when policy sets none: a daily run (24 h) and two hours for the run
# itself and a late delivery.
MAX_AGE_POLICY = "province_unit_results_max_age_hours"
DEFAULT_MAX_AGE_HOURS = 26
# How far in the future a run may end, by the centre's clock, before the file is refused: the
# hosts' clocks follow the province's time servers, so more than this is a wrong clock, and such a
# file would count as fresh for as long as it stayed in the future.
CLOCK_TOLERANCE = timedelta(minutes=10)
# The largest file the centre reads: a unit's run writes a few MB at most (a result of a few hundred
# bytes per check and host); anything bigger is refused before it is read, so that one unit's broken
# or hostile file cannot exhaust the centre's memory and stop the whole province's evaluation.
MAX_FILE_BYTES = 16 * 1024 * 1024

# Why a file is refused: the kind (unitctl.report.evaluation.REFUSAL_FA labels it) and each reason
# (English with placeholders; translated where it is printed).
NOT_JSON = N_("it cannot be read as JSON in UTF-8 ({error})")
TOO_LARGE = N_("it is {size} MB, more than the {limit} MB a unit's results file may be; it is not read")
SYMLINK = N_("it is a symbolic link (to {target}): the centre reads only files the unit wrote into its folder")
UNREADABLE_FOLDER = N_("the folder cannot be read ({error})")
WRONG_SCHEMA = N_("it is not a unit's results file: its schema is {found}, not {expected}")
WRONG_COMPLIANCE_SCHEMA = N_("its compliance results have the schema {found}, not {expected}")
NOT_TEXT = N_("its {field} is missing or is not text")
NOT_A_MOMENT = N_("its {field} is not a date and time with its UTC offset (ISO 8601): {value}")
ENDS_BEFORE_START = N_("its run finished ({finished}) before it started ({started})")
IN_THE_FUTURE = N_("its run finished in the future ({finished}, by this machine's clock): is the clock of "
                   "{host} right?")
NOT_AS_WRITTEN = N_("its compliance results are not as the suite writes them, at {where}")
BAD_NAME = N_("its name is not the UTC moment its run started, YYYYMMDDTHHMMSSZ.json")
NAME_NOT_START = N_("its name says its run started at {named}, but the file says {started}")
OUTSIDE_UNIT_FOLDER = N_("it is not in a unit's folder (FOLDER/UNIT/YYYYMMDDTHHMMSSZ.json)")
OTHER_UNITS_FOLDER = N_("it is the results of {unit} but lies in the folder of {folder}")
UNKNOWN_UNIT = N_("{unit} is not a unit of the inventory {inventory}: its results are not read")
FOREIGN_HOSTS = N_("it has results for hosts that are not hosts of {unit} in the inventory: {hosts}")
FOREIGN_SENDER = N_("it was sent by {host}, which is not a host of {unit} in the inventory")



@dataclass(frozen=True)
class Refusal:
    """A file (or a unit's folder) the centre does not count, and why: `reason` is English with
    placeholders filled from `params`; `kind` one of unitctl.report.evaluation.REFUSAL_FA's."""

    path: Path
    kind: str
    reason: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def english(self) -> str:
        return self.reason.format(**self.params)

    def message(self) -> str:
        """The reason in the language of the environment."""
        return _(self.reason).format(**self.params)


class Refused(Exception):
    def __init__(self, kind: str, reason: str, **params: str):
        super().__init__(reason.format(**params))
        self.kind, self.reason, self.params = kind, reason, params


@dataclass(frozen=True)
class UnitResults:
    """One valid file: its metadata and the suite's results it carries."""

    path: Path
    unit_id: str
    host: str
    started: datetime
    finished: datetime
    toolkit_commit: str
    compliance: dict[str, Any]


@dataclass
class Collected:
    """What `newest_results` found: each unit's newest valid results, and the refusals."""

    newest: dict[str, UnitResults]
    refused: list[Refusal]


def file_name(started: datetime) -> str:
    """The name of a run's file: its start in UTC, e.g. 20261128T120000Z.json."""
    return started.astimezone(UTC).strftime(STAMP_FORMAT) + ".json"


def spool_results(spool_dir: Path, unit_id: str, host: str, started: datetime, finished: datetime,
                  toolkit_commit: str, compliance: dict[str, Any]) -> Path:
    """Write one run's results as SPOOL/UNIT/STAMP.json (the module's docstring), atomically: a
    temporary ".NAME.tmp" in the same folder, flushed to disk, then renamed, and the folder flushed,
    so that neither a reader nor a power cut sees half a file. The sender copies the spool as it is.

    `started`, `finished`: the run's moments, with their time zone; `compliance`: the suite's results
    as it wrote them (unitctl-compliance/1), kept unchanged. Returns the file's path.
    Raises ValueError for a moment without a time zone, a unit id that is not one folder name,
    results of another schema; FileExistsError when a file for a run started in the same second is
    there already (it is never replaced)."""
    for name, moment in (("started", started), ("finished", finished)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} has no time zone: {moment.isoformat()}")
    if not unit_id or "/" in unit_id or unit_id.startswith(".") or unit_id != unit_id.strip():
        raise ValueError(f"{unit_id!r} is not a unit id (one folder name)")
    if not isinstance(compliance, dict) or compliance.get("schema") != COMPLIANCE_SCHEMA:
        raise ValueError(f"the results are not of the schema {COMPLIANCE_SCHEMA}")
    document = {
        "schema": SCHEMA, "unit_id": unit_id, "host": host,
        "started": started.astimezone(UTC).isoformat(timespec="seconds"),
        "finished": finished.astimezone(UTC).isoformat(timespec="seconds"),
        "toolkit_commit": toolkit_commit, "compliance": compliance,
    }
    folder = Path(spool_dir) / unit_id
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file_name(started)
    if target.exists():
        raise FileExistsError(f"{target} exists already")
    # Evidence quotes configuration: not for every account.
    write_atomic(target, (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode(), mode=0o640)
    return target


def unit_hosts(province: Province) -> dict[str, set[str]]:
    """Every unit's host names in the inventory, by unit id."""
    hosts: dict[str, set[str]] = {unit.id: set() for unit in province.units}
    for unit, host in province.all_hosts():
        if isinstance(host, dict) and isinstance(host.get("name"), str):
            hosts[unit.id].add(host["name"])
    return hosts


def read_results_file(path: Path, folder_unit: str, hosts: set[str], now: datetime) -> UnitResults:
    """One file of the unit `folder_unit` (whose inventory hosts are `hosts`), checked as the
    module's docstring says. Raises Refused with the kind and reason."""
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            raise Refused("unreadable", TOO_LARGE, size=f"{size / 2**20:.1f}", limit=f"{MAX_FILE_BYTES / 2**20:.1f}")
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise Refused("unreadable", NOT_JSON, error=str(error)) from error
    except RecursionError as error:  # arrays or objects nested deeper than Python's parser goes
        raise Refused("unreadable", NOT_JSON, error="nested too deeply") from error
    found = document.get("schema") if isinstance(document, dict) else type(document).__name__
    if found != SCHEMA:
        raise Refused("schema", WRONG_SCHEMA, found=str(found), expected=SCHEMA)
    for key in ("unit_id", "host", "toolkit_commit"):
        if not isinstance(document.get(key), str) or not document[key].strip():
            raise Refused("invalid", NOT_TEXT, field=key)
    unit_id, sender = document["unit_id"], document["host"]
    if unit_id != folder_unit:
        raise Refused("unit", OTHER_UNITS_FOLDER, unit=unit_id, folder=folder_unit)
    started, finished = (_moment(document, key) for key in ("started", "finished"))
    if finished < started:
        raise Refused("invalid", ENDS_BEFORE_START, started=document["started"], finished=document["finished"])
    if finished > now + CLOCK_TOLERANCE:
        raise Refused("invalid", IN_THE_FUTURE, finished=document["finished"], host=sender)
    if Path(path).name != file_name(started):
        raise Refused("name", NAME_NOT_START, named=Path(path).stem, started=document["started"])
    compliance = document.get("compliance")
    found = compliance.get("schema") if isinstance(compliance, dict) else type(compliance).__name__
    if found != COMPLIANCE_SCHEMA:
        raise Refused("schema", WRONG_COMPLIANCE_SCHEMA, found=str(found), expected=COMPLIANCE_SCHEMA)
    where = compliance_problem(compliance)
    if where:
        raise Refused("invalid", NOT_AS_WRITTEN, where=where)
    if sender not in hosts:
        raise Refused("hosts", FOREIGN_SENDER, host=sender, unit=unit_id)
    claimed = {(result["unit_id"], result["host"]) for result in compliance["results"]}
    claimed |= {(fact_unit, host) for fact_unit, facts in compliance.get("facts", {}).items() for host in facts}
    foreign = sorted(f"{host} ({claimed_unit})" if claimed_unit != unit_id else host
                     for claimed_unit, host in claimed if claimed_unit != unit_id or host not in hosts)
    if foreign:
        raise Refused("hosts", FOREIGN_HOSTS, unit=unit_id, hosts=", ".join(foreign))
    return UnitResults(Path(path), unit_id, sender, started, finished, document["toolkit_commit"], compliance)


def _moment(document: dict, key: str) -> datetime:
    value = document.get(key)
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise Refused("invalid", NOT_A_MOMENT, field=key, value=str(value))
    return moment


def compliance_problem(compliance: dict) -> str | None:
    """Where the suite's results are not shaped as unitctl.compliance.write_results writes them (a
    path such as "results[3].outcome"), None when they are: what the report reads of them must be
    there, of its type, and within its values (severities, outcomes, benchmark controls)."""
    checks, results = compliance.get("checks"), compliance.get("results")
    if not isinstance(checks, dict):
        return "checks"
    for check_id, meta in checks.items():
        if not isinstance(meta, dict) or meta.get("id") != check_id:
            return f"checks.{check_id}.id"
        for key in ("title_en", "title_fa", "policy", "fix"):
            if not isinstance(meta.get(key), str):
                return f"checks.{check_id}.{key}"
        if meta.get("severity") not in SEVERITIES:
            return f"checks.{check_id}.severity"
        if not isinstance(meta.get("fix_fa", ""), str):
            return f"checks.{check_id}.fix_fa"
        controls = meta.get("controls", [])
        if not isinstance(controls, list) or not all(isinstance(c, str) and CONTROL_PATTERN.match(c) for c in controls):
            return f"checks.{check_id}.controls"
    if not isinstance(results, list):
        return "results"
    for index, result in enumerate(results):
        if not isinstance(result, dict):
            return f"results[{index}]"
        for key in ("check_id", "host", "unit_id", "evidence"):
            if not isinstance(result.get(key), str):
                return f"results[{index}].{key}"
        if result["check_id"] not in checks:
            return f"results[{index}].check_id"
        if result.get("outcome") not in OUTCOMES:
            return f"results[{index}].outcome"
        seconds = result.get("seconds")
        # Python's json reads NaN and Infinity, which no suite writes and no report can add up.
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < math.inf:
            return f"results[{index}].seconds"
    facts = compliance.get("facts", {})
    if not isinstance(facts, dict):
        return "facts"
    for fact_unit, by_host in facts.items():
        if not isinstance(by_host, dict) or not all(isinstance(values, dict) for values in by_host.values()):
            return f"facts.{fact_unit}"
    return None


def newest_results(folder: Path, province: Province, now: datetime, inventory: str = "") -> Collected:
    """Each unit's newest valid results in the drop folder `folder` (the module's docstring), and
    every file refused on the way; a file older than a unit's newest valid one is not read. A
    folder that does not exist holds nothing. `inventory` names the inventory in a refusal."""
    hosts = unit_hosts(province)
    newest: dict[str, UnitResults] = {}
    refused: list[Refusal] = []
    try:
        entries = sorted(Path(folder).iterdir()) if Path(folder).is_dir() else []
    except OSError as error:
        return Collected({}, [Refusal(Path(folder), "unreadable", UNREADABLE_FOLDER, {"error": str(error)})])
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():  # a unit's account could point the centre at any file the centre may read
            refused.append(Refusal(entry, "unreadable", SYMLINK, {"target": _link_target(entry)}))
            continue
        if not entry.is_dir():
            if entry.name.endswith(".json"):
                refused.append(Refusal(entry, "unit", OUTSIDE_UNIT_FOLDER))
            continue
        try:
            candidates = [path for path in entry.iterdir()
                          if path.name.endswith(".json") and not path.name.startswith(".")]
            links = sorted(path for path in candidates if path.is_symlink())
            files = [path for path in candidates if not path.is_symlink() and path.is_file()]
        except OSError as error:  # a folder this account may not read
            refused.append(Refusal(entry, "unreadable", UNREADABLE_FOLDER, {"error": str(error)}))
            continue
        refused += [Refusal(path, "unreadable", SYMLINK, {"target": _link_target(path)}) for path in links]
        if not files:
            continue
        if entry.name not in hosts:
            refused.append(Refusal(entry, "unit", UNKNOWN_UNIT, {"unit": entry.name, "inventory": inventory}))
            continue
        refused += [Refusal(path, "name", BAD_NAME) for path in sorted(files) if not STAMP_NAME.fullmatch(path.name)]
        for path in sorted((path for path in files if STAMP_NAME.fullmatch(path.name)), reverse=True):
            try:
                newest[entry.name] = read_results_file(path, entry.name, hosts[entry.name], now)
                break
            except Refused as refusal:
                refused.append(Refusal(path, refusal.kind, refusal.reason, refusal.params))
    return Collected(newest, refused)


def _link_target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError as error:
        return str(error)


def printable(text: str) -> str:
    """`text` as UTF-8 can hold it: a file or folder name that is not UTF-8 (Python keeps its bytes as
    surrogates) shows them as \\xNN escapes instead of stopping the report from being written."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def collection(collected: Collected, province: Province, now: datetime, max_age_hours: float,
               folder: Path) -> dict[str, Any]:
    """What the report says of the collection (unitctl.report.evaluation.build_evaluation's
    `collected`):

    {"folder": the drop folder (as paths.in_checkout prints it), "max_age_hours": the policy's limit,
     "units": {unit_id: {"state": "reported" | "stale" | "missing", "file", "host", "started",
               "finished", "finished_jalali", "toolkit_commit", "age_hours" (at `now`, one
               decimal; None for the metadata of a missing unit), "not_evaluated_hosts": the unit's
               checked hosts when it is not reported, else []}},
     "refused": [{"file", "kind", "reason" (English)}]}"""
    checked = {}
    for target in target_hosts(province) + network_hosts(province):
        checked.setdefault(target.unit_id, []).append(target.name)
    units = {}
    for unit in province.units:
        found = collected.newest.get(unit.id)
        entry: dict[str, Any] = dict.fromkeys(("file", "host", "started", "finished", "finished_jalali",
                                               "toolkit_commit", "age_hours"))
        if found is None:
            entry["state"] = "missing"
        else:
            age = max(0.0, (now - found.finished).total_seconds() / 3600)
            entry.update(state="reported" if age <= max_age_hours else "stale", file=paths.in_checkout(found.path),
                         host=found.host, started=found.started.astimezone(UTC).isoformat(timespec="seconds"),
                         finished=found.finished.astimezone(UTC).isoformat(timespec="seconds"),
                         finished_jalali=jalali(found.finished), toolkit_commit=found.toolkit_commit,
                         age_hours=round(age, 1))
        entry["not_evaluated_hosts"] = [] if entry["state"] == "reported" else sorted(checked.get(unit.id, []))
        units[unit.id] = entry
    return {"folder": printable(paths.in_checkout(folder)), "max_age_hours": max_age_hours, "units": units,
            "refused": [{"file": printable(displayed(refusal.path)), "kind": refusal.kind,
                         "reason": printable(refusal.english)} for refusal in collected.refused]}


def displayed(path: Path) -> str:
    """A refused file as a person finds it: relative to the checkout when it lies there, with its own
    name (a symbolic link is named, not what it points to)."""
    path = Path(path)
    return str(Path(paths.in_checkout(path.parent)) / path.name)


def merged_compliance(collected: Collected, report: dict[str, Any],
                      checks: dict[str, dict] | None = None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """One compliance document (unitctl-compliance/1) of the units `report` (`collection`'s) says
    reported: their results and facts, and the ids of checks left out, per unit.

    `checks`: the centre's own descriptions of its checks (`unitctl.cli.evaluate.suite_checks`: the
    suite's metadata, nothing run). A unit's file says how each check went, never what a check is:
    the severity, titles and fix shown for every unit come from the centre's suite, so one unit's
    file cannot change them for another (or put a command of its own in the report). A result of a
    check the centre does not have is left out and named. With `checks` None (a test of the merge
    alone), each check's description comes from the newest run that has it."""
    merged: dict[str, Any] = {"schema": COMPLIANCE_SCHEMA, "checks": dict(checks or {}), "results": [], "facts": {}}
    unknown: dict[str, list[str]] = {}
    reported = [found for unit_id, found in collected.newest.items() if report["units"][unit_id]["state"] == "reported"]
    for found in sorted(reported, key=lambda found: found.finished):
        if checks is None:
            merged["checks"].update(found.compliance["checks"])
        for result in found.compliance["results"]:
            if result["check_id"] in merged["checks"]:
                merged["results"].append(result)
            else:
                unknown.setdefault(found.unit_id, []).append(result["check_id"])
        merged["facts"].update(found.compliance.get("facts", {}))
    merged["checks"] = dict(sorted(merged["checks"].items()))
    return merged, {unit_id: sorted(set(ids)) for unit_id, ids in unknown.items()}

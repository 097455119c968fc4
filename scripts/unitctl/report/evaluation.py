"""The provincial evaluation (clause 4 of the circular): results of the compliance suite turned
into a scored, bilingual report for the ICT council, with history for the trend.

Inputs: the JSON the compliance suite writes (schema unitctl-compliance/1) and the province.
Outputs, in one folder: evaluation.json (schema unitctl-evaluation/1), evaluation.junit.xml and
evaluation.html; a copy of the JSON goes into the history folder, so the next run shows the trend.

History (`write_outputs`, `previous_for`): one folder HISTORY holds
  HISTORY/evaluation-STAMP.json              the province's evaluations (`unitctl evaluate`) only;
  HISTORY/units/UNIT/evaluation-STAMP.json   one unit's own checks (`unitctl check UNIT`).
A unit check never writes among the province's evaluations, so the next `evaluate` still compares
every unit with the previous province evaluation. A province evaluation's trend is against the
previous province evaluation only. A unit check's trend is against the unit's most recent earlier
score, whichever run measured it: its own previous check or a province evaluation, the newer of
the two (the unit entry's `previous_started` and `previous_scope` say which). Runs limited with
`-k` are compared only with runs limited by the same expression. Documents written before this
layout, where unit checks sat among the evaluations, are told apart by their `run.units`.

The report's trend charts (`score_history`) show the same runs over time: a province evaluation
the earlier province evaluations, a unit check the unit's earlier checks and the province
evaluations that scored it; the last `TREND_RUNS` runs, this one included.
"""

from __future__ import annotations

import getpass
import json
import os
import shlex
import subprocess
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import jdatetime
import jinja2
import yaml

from unitctl.compliance import BENCHMARKS, SEVERITIES, fix_is_playbook
from unitctl.files import write_atomic
from unitctl.inventory import vaults
from unitctl.inventory.load import Province
from unitctl.paths import PROJECT_ROOT, TEMPLATES_DIR
from unitctl.releases import DEBIAN_RELEASES
from unitctl.report import charts

SCHEMA = "unitctl-evaluation/1"
# A unit's score weighs each evaluated check by its severity (published in the report).
SEVERITY_WEIGHTS = {"critical": 10, "high": 5, "medium": 2, "low": 1}
EVALUATED = ("pass", "fail", "error", "unreachable")
PROBLEMS = ("fail", "error", "unreachable")
TREND_RUNS = 12  # the runs a trend chart shows, this one included

# Exit statuses of `unitctl check` and `unitctl evaluate`.
EXIT_COMPLIANT = 0
EXIT_NON_COMPLIANT = 1  # at least one check failed
EXIT_NOT_EVALUATED = 2  # nothing failed, but some host or check could not be evaluated

TEHRAN = ZoneInfo("Asia/Tehran")

# Persian labels for the values the report shows in its Persian column (English beside them).
SEVERITY_FA = {"critical": "بحرانی", "high": "زیاد", "medium": "متوسط", "low": "کم"}
OUTCOME_FA = {"pass": "قبول", "fail": "رد", "error": "خطا", "unreachable": "در دسترس نبود",
              "skipped": "ردشده", "not_applicable": "نامرتبط"}
EMERGENCY_POWER = {  # rooms.yml's emergency_power: (Persian, English)
    "generator": ("مولد برق (ژنراتور)", "generator"),
    "ups_only": ("فقط یو‌پی‌اس", "UPS only"),
    "none": ("ندارد", "none"),
}
# NUT's ups.status words (upsc; the NUT developer guide's list), each with Persian and English.
UPS_STATUS = {
    "OL": ("روی برق شهر", "on line power"),
    "OB": ("روی باتری", "on battery"),
    "LB": ("باتری ضعیف", "low battery"),
    "HB": ("ولتاژ باتری زیاد", "high battery"),
    "RB": ("باتری باید تعویض شود", "replace battery"),
    "CHRG": ("در حال شارژ", "charging"),
    "DISCHRG": ("در حال تخلیه", "discharging"),
    "BYPASS": ("مسیر کنارگذر (بای‌پس)", "on bypass"),
    "CAL": ("در حال کالیبره‌شدن", "calibrating"),
    "OFF": ("خاموش (بدون خروجی)", "offline"),
    "OVER": ("اضافه‌بار", "overloaded"),
    "TRIM": ("کاهش ولتاژ ورودی", "trimming voltage"),
    "BOOST": ("افزایش ولتاژ ورودی", "boosting voltage"),
    "FSD": ("خاموشی اجباری", "forced shutdown"),
    "ALARM": ("هشدار", "alarm"),
}
# How completely a unit could be evaluated (its `evaluated` key).
COVERAGE = {
    "complete": ("کامل", "complete"),
    "partial": ("ناتمام", "incomplete"),
    "none": ("ارزیابی نشد", "not evaluated"),
}

# Collect mode (unitctl.unit_results): each unit's state, and the kinds of files refused.
COLLECTED_STATE = {
    "reported": ("گزارش داده", "reported"),
    "stale": ("گزارش نداده", "not reported"),  # its newest results are older than policy allows
    "missing": ("گزارش نداده", "not reported"),  # no results at all
}
REFUSAL_FA = {
    "unreadable": "خوانده نشد",
    "schema": "قالب نادرست",
    "invalid": "محتوای نادرست",
    "name": "نام پرونده نادرست",
    "unit": "واحد ناشناخته یا پوشهٔ نادرست",
    "hosts": "میزبان‌هایی که از این واحد نیستند",
}


@dataclass
class RunInfo:
    started: datetime
    finished: datetime
    user: str
    sudo_user: str | None
    toolkit_commit: str
    inventory: str
    units: list[str]
    keyword: str | None = None  # `-k`: only the checks matching this pytest expression ran
    # "direct": the suite ran on every host from here; "collect": the results the units sent
    # (unitctl.unit_results), each unit's own run named in its entry's `collected`.
    mode: str = "direct"

    def as_dict(self) -> dict[str, Any]:
        return {
            "started": self.started.isoformat(timespec="seconds"),
            "finished": self.finished.isoformat(timespec="seconds"),
            "started_jalali": jalali(self.started),
            "user": self.user,
            "sudo_user": self.sudo_user,
            "toolkit_commit": self.toolkit_commit,
            "inventory": self.inventory,
            "units": self.units,
            "scope": "unit" if self.units else "province",
            "keyword": self.keyword,
            "mode": self.mode,
        }


def jalali(moment: datetime) -> str:
    """A UTC moment as a Jalali date and time in Tehran (+03:30), as the council reads it."""
    tehran = jdatetime.datetime.fromgregorian(datetime=moment.astimezone(TEHRAN))
    return tehran.strftime("%Y/%m/%d %H:%M")


def toolkit_commit() -> str:
    result = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
                            capture_output=True, text=True, timeout=10, check=False)
    dirty = subprocess.run(["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=10, check=False)
    commit = result.stdout.strip() or "unknown"
    return commit + ("+local-changes" if dirty.stdout.strip() else "")


def who_ran() -> tuple[str, str | None]:
    """The account that ran the evaluation, and the person behind sudo if any."""
    return getpass.getuser(), os.environ.get("SUDO_USER")


def unit_score(results: list[dict], checks: dict[str, dict]) -> float | None:
    weights = Counter()
    for result in results:
        if result["outcome"] in EVALUATED:
            weight = SEVERITY_WEIGHTS[checks[result["check_id"]]["severity"]]
            weights["evaluated"] += weight
            weights["passed"] += weight if result["outcome"] == "pass" else 0
    if not weights["evaluated"]:
        return None
    return round(100.0 * weights["passed"] / weights["evaluated"], 1)


def province_identity(inventory_root: Path) -> dict[str, str | None]:
    """Who the province is (group_vars/all/identity.yml: province_name_fa, province_name_en...)."""
    path = Path(inventory_root) / "group_vars" / "all" / "identity.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        data = None
    data = data if isinstance(data, dict) else {}
    return {key: data.get(f"province_{key}") for key in ("name_fa", "name_en", "judiciary_fa", "judiciary_en")}


def _identity_near(units_dir: Path) -> dict[str, str | None]:
    """The identity of the inventory that holds `units_dir` (the nearest folder above it with
    group_vars/all/identity.yml), for callers that did not name the inventory's root."""
    for folder in Path(units_dir).resolve().parents:
        if (folder / "group_vars" / "all" / "identity.yml").is_file():
            return province_identity(folder)
    return province_identity(Path(units_dir))


def not_reported(unit: dict) -> bool:
    """Whether a unit entry is "not reported" (collect mode: its results missing or too old);
    always False in the direct mode."""
    return (unit.get("collected") or {}).get("state", "reported") != "reported"


def coverage(results: list[dict]) -> str:
    """`complete` when every check that ran on the unit could be evaluated; `partial` when some
    host was unreachable or some check errored; `none` when nothing passed or failed at all."""
    outcomes = {result["outcome"] for result in results}
    if not outcomes & {"pass", "fail"}:
        return "none"
    return "partial" if outcomes & {"error", "unreachable"} else "complete"


def build_evaluation(compliance: dict, province: Province, run: RunInfo,
                     previous: dict | None = None, facts: dict | None = None,
                     identity: dict | None = None, history: list[dict] | None = None,
                     collected: dict | None = None) -> dict[str, Any]:
    """Everything the report shows, as one JSON document.

    `previous` is the run to compare with (`previous_for`); `identity` the province's names
    (`province_identity` of the inventory's root; found from the units folder when not given);
    `history` the earlier runs' scores for the trend (`score_history`), oldest first.

    `collected`, in collect mode only (unitctl.unit_results.collection; `compliance` then holds the
    results of the units that reported, and no others): each unit entry gets its `collected` state
    and the document the `collection` (folder, max_age_hours, refused). A unit not reported has no
    results, so it is not evaluated (no score); it also keeps the province from being compliant
    (status not_evaluated unless a check failed elsewhere) and its evaluation complete."""
    checks = compliance["checks"]
    results = compliance["results"]
    units = {}
    for unit in province.units:
        if run.units and unit.id not in run.units:
            continue
        mine = [result for result in results if result["unit_id"] == unit.id]
        counts = Counter(result["outcome"] for result in mine)
        unit_vault_ids = vaults.vault_ids([unit.id], province.units_dir)
        failures = [_failure(result, checks, run.inventory, unit_vault_ids) for result in mine
                    if result["outcome"] in ("fail", "error")]
        score = unit_score(mine, checks)
        evaluated = coverage(mine)
        earlier = (previous or {}).get("units", {}).get(unit.id) or {}
        # A run that could not evaluate the unit (its hosts unreachable: scored 0) says nothing of
        # how it changed: no trend from it, nor to it.
        before = charted_score(earlier)
        now = None if evaluated == "none" else score
        measured = earlier.get("measured") or (previous or {}).get("run") or {}
        units[unit.id] = {
            "name_fa": unit.info.get("name_fa"),
            "name_en": unit.info.get("name_en"),
            "kind": unit.info.get("kind"),
            "score": score,
            "previous_score": before,
            "trend": None if now is None or before is None else round(now - before, 1),
            "counts": {outcome: counts[outcome] for outcome in
                       ("pass", "fail", "error", "unreachable", "skipped", "not_applicable")},
            # Failed checks only: a check in error could not be judged (counts.error, its own column).
            "failures_by_severity": {severity: sum(1 for f in failures if f["severity"] == severity
                                                   and f["outcome"] == "fail")
                                     for severity in SEVERITIES},
            "failures": sorted(failures, key=lambda f: (SEVERITIES.index(f["severity"]), f["check_id"], f["host"])),
            "fix_first": fix_first(failures, run.inventory, unit_vault_ids),
            "unreachable_hosts": sorted({r["host"] for r in mine if r["outcome"] == "unreachable"}),
            "error_hosts": sorted({r["host"] for r in mine if r["outcome"] == "error"}),
            "evaluated": evaluated,
            "status": _status(mine),
            "previous_started": measured.get("started") if before is not None else None,
            "previous_started_jalali": measured.get("started_jalali") if before is not None else None,
            "previous_scope": _scope(measured) if before is not None else None,
            "rooms": unit.rooms,
            "power": _power_facts((facts or {}).get(unit.id, {})),
            "releases": release_rows((facts or {}).get(unit.id, {}), mine),
            "benchmarks": benchmark_scores(mine, checks),
        }
        if collected is not None:
            units[unit.id]["collected"] = collected["units"][unit.id]
    in_scope = [r for r in results if not run.units or r["unit_id"] in run.units]
    document = {
        "schema": SCHEMA,
        "run": run.as_dict(),
        "province": identity if identity is not None else _identity_near(province.units_dir),
        "score": unit_score(in_scope, checks),
        "evaluated": coverage(in_scope),
        "scoring": {"weights": SEVERITY_WEIGHTS, "severities": list(SEVERITIES),
                    "formula": "100 × (weight of passed checks) / (weight of evaluated checks); "
                               "unreachable hosts count as not passed"},
        "previous_run": (previous or {}).get("run"),
        "units": units,
        "benchmarks": benchmark_scores(in_scope, checks),
        "history": list(history or [])[-(TREND_RUNS - 1):],
        "checks": checks,
        "results": results,
        "status": _status(results),
    }
    if collected is not None:
        document["collection"] = {key: collected[key] for key in ("folder", "max_age_hours", "refused")}
        if any(not_reported(unit) for unit in units.values()):
            document["status"] = "non_compliant" if document["status"] == "non_compliant" else "not_evaluated"
            document["evaluated"] = "none" if document["evaluated"] == "none" else "partial"
    return document


# The fact HOST-003 records: the Debian major release each server and workstation runs.
RELEASE_FACT = "debian_release"


def _power_facts(unit_facts: dict[str, dict]) -> dict[str, dict]:
    """The hosts' UPS and room facts (PWR-*), without the release each host reported."""
    power = {host: {name: value for name, value in facts.items() if name != RELEASE_FACT}
             for host, facts in unit_facts.items()}
    return {host: facts for host, facts in power.items() if facts}


def release_rows(unit_facts: dict[str, dict], results: list[dict]) -> list[dict]:
    """Which Debian release each of a unit's hosts runs, for the council's plan of upgrades:
    [{"host", "release" (12, 13), "codename", "phased_out" (HOST-004 failed: past the date
    province_debian_releases gives, or a release the province does not support)}], by host."""
    past = {r["host"] for r in results if r["check_id"] == "HOST-004" and r["outcome"] == "fail"}
    return [{"host": host, "release": facts[RELEASE_FACT], "codename": DEBIAN_RELEASES.get(facts[RELEASE_FACT], ""),
             "phased_out": host in past}
            for host, facts in sorted(unit_facts.items()) if RELEASE_FACT in facts]


def fix_command(fix: str, inventory: str, host: str, vault_ids: list[str] | tuple[str, ...] = ()) -> str | None:
    """The command that puts a failed check right on its host (or hosts, comma-separated), to copy
    as it is: the check's playbook on the inventory the run used (ansible.cfg's default is the lab,
    so it is always named), with the unit's own vault identity when it has a vault
    (unitctl.inventory.vaults.vault_ids: the run would refuse its hosts without it), e.g.
    `ansible-playbook -i inventory/qom.unitctl.yml playbooks/site.yml --limit qom-court-srv
    --vault-id qom-court@scripts/vault-password-client.py`. None when the check's fix is a person's
    task in words (a room's cooling)."""
    if not fix_is_playbook(fix):
        return None
    return shlex.join(["ansible-playbook", "-i", inventory, fix, "--limit", host,
                       *(argument for vault_id in vault_ids for argument in ("--vault-id", vault_id))])


def _failure(result: dict, checks: dict, inventory: str, vault_ids: list[str]) -> dict:
    meta = checks[result["check_id"]]
    return {
        "check_id": result["check_id"], "host": result["host"], "outcome": result["outcome"],
        "severity": meta["severity"], "title_en": meta["title_en"], "title_fa": meta["title_fa"],
        "policy": meta["policy"], "fix": meta["fix"], "fix_fa": meta.get("fix_fa", ""),
        # A person's task (a room's cooling) has no command: the report gives it in words.
        "fix_command": fix_command(meta["fix"], inventory, result["host"], vault_ids),
        "controls": list(meta.get("controls", ())),
        "evidence": result["evidence"].strip(),
    }


def fix_first(failures: list[dict], inventory: str = "inventory/lab.unitctl.yml",
              vault_ids: list[str] | tuple[str, ...] = ()) -> dict | None:
    """The failing check a unit should fix first: the most severe, then the one failing on the
    most hosts, then the lowest check id. `failures` as `_failure` makes them; a check in error
    did not fail (it could not run: the report says so apart) and is left out.

    Returns {check_id, severity, title_fa, title_en, fix, fix_fa, fix_command, hosts: sorted host
    names}, or None when no check failed. fix_command runs the check's playbook on those hosts of
    `inventory` with the unit's `vault_ids` (fix_command()); it is None when the fix is a person's
    task (fix, fix_fa in words)."""
    hosts: dict[str, set[str]] = {}
    for failure in failures:
        if failure["outcome"] == "fail":
            hosts.setdefault(failure["check_id"], set()).add(failure["host"])
    if not hosts:
        return None
    about = {failure["check_id"]: failure for failure in failures}  # severity, titles, fix: the check's
    check_id = min(hosts, key=lambda check: (SEVERITIES.index(about[check]["severity"]), -len(hosts[check]), check))
    meta = about[check_id]
    names = sorted(hosts[check_id])
    return {"check_id": check_id, "severity": meta["severity"], "title_fa": meta["title_fa"],
            "title_en": meta["title_en"], "fix": meta["fix"], "fix_fa": meta.get("fix_fa", ""),
            "fix_command": fix_command(meta["fix"], inventory, ",".join(names), vault_ids),
            "hosts": names}


def benchmark_scores(results: list[dict], checks: dict[str, dict]) -> dict[str, dict]:
    """How the hosts stand against each benchmark the checks map to (CIS Debian 12, dev-sec).

    A control is `met` when every evaluated result of every check mapped to it passed, `not_met`
    when any failed, errored or was unreachable, `not_applicable` when none could be evaluated
    (a container, a host kind it does not concern). Score: 100 x met / (met + not met), None when
    nothing was evaluated. Returns {benchmark: {title, score, met, not_met, not_applicable:
    [control, ...]}} with each control list sorted by its number.
    """
    outcomes: dict[str, dict[str, set]] = {}
    for result in results:
        for control in checks[result["check_id"]].get("controls", ()):
            benchmark = control.split(" ", 1)[0]
            outcomes.setdefault(benchmark, {}).setdefault(control, set()).add(result["outcome"])
    scores = {}
    for benchmark, controls in sorted(outcomes.items()):
        met, not_met, not_applicable = [], [], []
        for control, seen in controls.items():
            if seen & set(PROBLEMS):
                not_met.append(control)
            elif "pass" in seen:
                met.append(control)
            else:
                not_applicable.append(control)
        evaluated = len(met) + len(not_met)
        scores[benchmark] = {
            "title": BENCHMARKS[benchmark],
            "score": round(100.0 * len(met) / evaluated, 1) if evaluated else None,
            "met": sorted(met, key=_control_order), "not_met": sorted(not_met, key=_control_order),
            "not_applicable": sorted(not_applicable, key=_control_order),
        }
    return scores


def _control_order(control: str) -> tuple:
    """'CIS 5.1.10' after 'CIS 5.1.9'; 'dev-sec os-10' after 'dev-sec os-9'."""
    name = control.split(" ", 1)[1]
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in name.replace("-", ".").split("."))


def _status(results: list[dict]) -> str:
    outcomes = {result["outcome"] for result in results}
    if "fail" in outcomes:
        return "non_compliant"
    if not results or outcomes & {"error", "unreachable"}:
        return "not_evaluated"
    return "compliant"


def exit_status(evaluation: dict) -> int:
    return {"compliant": EXIT_COMPLIANT, "non_compliant": EXIT_NON_COMPLIANT}.get(
        evaluation["status"], EXIT_NOT_EVALUATED)


def _scope(run: dict) -> str:
    return run.get("scope") or ("unit" if run.get("units") else "province")


def _moment(document: dict) -> datetime:
    return datetime.fromisoformat(document["run"]["started"])


def latest_in_history(history_dir: Path, unit_id: str | None = None, keyword: str | None = None) -> dict | None:
    """The newest run in `history_dir` of its kind: a province evaluation (unit_id None) or a
    check of `unit_id`, limited by the same `-k` expression (None: the whole suite)."""
    runs = sorted(history_dir.glob("evaluation-*.json"), reverse=True) if history_dir.is_dir() else []
    for path in runs:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            run = document["run"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if run.get("keyword") != keyword:
            continue
        if unit_id is None and _scope(run) == "province":
            return document
        if unit_id is not None and _scope(run) == "unit" and unit_id in run.get("units", ()):
            return document
    return None


def score_history(history_dir: Path, unit_ids: list[str] | tuple[str, ...] = (), keyword: str | None = None,
                  limit: int = TREND_RUNS - 1) -> list[dict]:
    """The scores of the last `limit` runs a trend shows before this one, oldest first (see the
    module's docstring): for a province evaluation (no unit_ids) the province evaluations; for a
    unit check the unit's own checks and the province evaluations. Runs limited by another `-k`
    expression are left out; a document that cannot be read is skipped.

    Each: {started, started_jalali, scope ("province" or "unit"), score (the province's; None in
    a unit check's trend), units: {unit_id: score or None}} (in a unit check only `unit_ids`)."""
    folders = [history_dir, *(unit_history(history_dir, unit_id) for unit_id in unit_ids)]
    paths = sorted((path for folder in folders if folder.is_dir() for path in folder.glob("evaluation-*.json")),
                   key=lambda path: path.name, reverse=True)
    points: list[dict] = []
    for path in paths:
        if len(points) >= limit:
            break
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            run, units = document["run"], document["units"]
            scope = _scope(run)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if run.get("keyword") != keyword:
            continue
        if unit_ids:
            if scope == "unit" and not set(unit_ids) & set(run.get("units", ())):
                continue
            scores = {unit_id: charted_score(units.get(unit_id)) for unit_id in unit_ids}
        elif scope == "province":
            scores = {unit_id: charted_score(unit) for unit_id, unit in units.items()}
        else:
            continue
        points.append({"started": run.get("started"), "started_jalali": run.get("started_jalali"), "scope": scope,
                       "score": None if unit_ids else _province_score(document), "units": scores})
    return sorted(points, key=lambda point: str(point["started"]))


def charted_score(scored: dict | None) -> float | None:
    """The score a chart shows for a unit's (or the province's) entry: None when nothing could be
    evaluated (its hosts unreachable count as not passed, so its score is 0, but a chart says
    "not evaluated" rather than draw a 0)."""
    if not scored or scored.get("evaluated") == "none":
        return None
    return scored.get("score")


def _province_score(document: dict) -> float | None:
    """A province evaluation's own score for the chart; worked out from its results when an
    older toolkit wrote it."""
    if "score" in document:
        return charted_score(document)
    try:
        return unit_score(document["results"], document["checks"])
    except (KeyError, TypeError):
        return None


def unit_history(history_dir: Path, unit_id: str) -> Path:
    """Where one unit's own checks are kept, inside the province's history folder."""
    return history_dir / "units" / unit_id


def previous_for(history_dir: Path, unit_ids: list[str] | tuple[str, ...] = (),
                 keyword: str | None = None) -> dict | None:
    """What a run compares with (see the module's docstring): for a province evaluation (no
    unit_ids) the latest province evaluation; for a unit check, per unit, the newer of the unit's
    own latest check and the latest province evaluation that scored it. The answer has the shape
    of an evaluation document ({run, units}); each unit entry carries the run that measured it
    as `measured`."""
    province = latest_in_history(history_dir, keyword=keyword)
    if not unit_ids:
        return province
    units, runs = {}, []
    for unit_id in unit_ids:
        candidates = [document for document in (province, latest_in_history(unit_history(history_dir, unit_id),
                                                                             unit_id, keyword))
                      if document and (document.get("units", {}).get(unit_id) or {}).get("score") is not None]
        if candidates:
            newest = max(candidates, key=_moment)
            units[unit_id] = dict(newest["units"][unit_id], measured=newest["run"])
            runs.append(newest)
    if not runs:
        return None
    return {"schema": SCHEMA, "run": max(runs, key=_moment)["run"], "units": units}


def write_outputs(evaluation: dict, out_dir: Path, history_dir: Path) -> dict[str, Path]:
    """The three reports into `out_dir`, and the JSON into the history: a province evaluation
    into `history_dir` itself, a unit check into `unit_history(history_dir, unit)` of its unit."""
    out_dir.mkdir(parents=True, exist_ok=True)
    units = evaluation["run"]["units"]
    kept_in = [unit_history(history_dir, unit_id) for unit_id in units] if units else [history_dir]
    for folder in kept_in:
        folder.mkdir(parents=True, exist_ok=True)
    document = json.dumps(evaluation, ensure_ascii=False, indent=2) + "\n"
    written = {
        "json": out_dir / "evaluation.json",
        "junit": out_dir / "evaluation.junit.xml",
        "html": out_dir / "evaluation.html",
    }
    # Each written whole or not at all: the latest report may be published while the next is written.
    write_atomic(written["json"], document.encode())
    write_atomic(written["junit"], junit_xml(evaluation))
    write_atomic(written["html"], render_html(evaluation).encode())
    stamp = evaluation["run"]["started"].replace(":", "").replace("-", "")
    for folder in kept_in:
        write_atomic(folder / f"evaluation-{stamp}.json", document.encode())
    return written


def junit_xml(evaluation: dict) -> bytes:
    """One test suite per unit, one test case per check and host; in collect mode a unit not
    reported has one test case, "not reported", in error."""
    suites = ElementTree.Element("testsuites", name="unitctl evaluation")
    checks = evaluation["checks"]
    for unit_id, unit in evaluation["units"].items():
        mine = [r for r in evaluation["results"] if r["unit_id"] == unit_id]
        delivery = unit.get("collected")
        silent = not_reported(unit)
        fix_commands = {(failure["check_id"], failure["host"]): failure["fix_command"] for failure in unit["failures"]}
        suite = ElementTree.SubElement(suites, "testsuite", name=unit_id, tests=str(len(mine) + silent),
                                       failures=str(unit["counts"]["fail"]),
                                       errors=str(unit["counts"]["error"] + unit["counts"]["unreachable"] + silent),
                                       skipped=str(unit["counts"]["skipped"] + unit["counts"]["not_applicable"]))
        if silent:
            case = ElementTree.SubElement(suite, "testcase", classname=unit_id, name="not reported", time="0")
            ElementTree.SubElement(case, "error", message="not_reported").text = (
                f"not reported: its newest results were checked {delivery['age_hours']} hours before this evaluation "
                f"({delivery['finished']})" if delivery["finished"] else "not reported: no results have arrived")
        for result in mine:
            meta = checks[result["check_id"]]
            case = ElementTree.SubElement(suite, "testcase", classname=f"{unit_id}.{result['host']}",
                                          name=f"{result['check_id']} {meta['title_en']}",
                                          time=str(result["seconds"]))
            if result["outcome"] == "fail":
                fix = fix_commands.get((result["check_id"], result["host"])) or meta["fix"]
                ElementTree.SubElement(case, "failure", message=fix).text = result["evidence"]
            elif result["outcome"] in ("error", "unreachable"):
                ElementTree.SubElement(case, "error", message=result["outcome"]).text = result["evidence"]
            elif result["outcome"] in ("skipped", "not_applicable"):
                ElementTree.SubElement(case, "skipped", message=result["outcome"])
    return ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True)


def _percent_fa(score: float) -> str:
    return fa_number(score) + "٪"


def _percent_en(score: float) -> str:
    return en_number(score) + "%"


NOT_EVALUATED = ("ارزیابی نشد", "not evaluated")
NOT_REPORTED = ("گزارش نداده", "not reported")
PROVINCE_ROW = ("کل استان", "province")
SCORE_TICKS = (0, 25, 50, 75, 100)
TREND_TICKS = (0, 50, 100)


def report_charts(evaluation: dict) -> dict[str, Any]:
    """The report's charts, laid out (unitctl.report.charts) from an evaluation document:
    `scores` (a bar per unit, the province's first in a province evaluation; a unit not
    evaluated shown as such, an incomplete one hatched), `severities` (each unit's failures
    by severity, one column per severity on one scale) and `trend` (a panel per unit, the
    province's first, over the last TREND_RUNS runs; `trend_runs` how many there are)."""
    province_scope = not evaluation["run"].get("units")
    points = [*evaluation.get("history", [])[-(TREND_RUNS - 1):], {
        "started": evaluation["run"]["started"], "started_jalali": evaluation["run"]["started_jalali"],
        "score": charted_score(evaluation) if province_scope else None,
        "units": {unit_id: charted_score(unit) for unit_id, unit in evaluation["units"].items()}}]
    return {"scores": _score_chart(evaluation, province_scope), "severities": _severity_chart(evaluation["units"]),
            "trend": _trend_panels(evaluation["units"], points, province_scope), "trend_runs": len(points)}


def missing_label(scored: dict) -> tuple[str, str]:
    """What a chart writes in place of a unit's bars: not reported (collect mode), else not evaluated."""
    return NOT_REPORTED if not_reported(scored) else NOT_EVALUATED


def _score_chart(evaluation: dict, province_scope: bool) -> charts.BarChart:
    """A bar per unit (the province's first in a province evaluation), hatched when incomplete."""
    entries = ([("province", PROVINCE_ROW, evaluation, True)] if province_scope else []) + [
        (unit_id, (unit["name_fa"] or unit_id, unit_id), unit, False) for unit_id, unit in evaluation["units"].items()]
    rows = []
    for key, names, scored, strong in entries:
        score = charted_score(scored)
        style = "score" if scored.get("evaluated", "complete") == "complete" else "score-partial"
        bars = None if score is None else (charts.Bar(score, _percent_fa(score), _percent_en(score), style),)
        rows.append(charts.BarRow(key, *names, bars, *missing_label(scored), strong=strong))
    return charts.bar_chart(rows, [charts.Column("score")], 100.0, _ticks(SCORE_TICKS), "امتیاز (٪)", "Score (%)")


def _severity_chart(units: dict[str, dict]) -> charts.BarChart:
    """Each unit's failures (check x host) by severity, a column per severity on one scale."""
    most = max([count for unit in units.values() for count in unit["failures_by_severity"].values()] + [0])
    maximum = charts.nice_maximum(most)
    columns = [charts.Column(severity, SEVERITY_FA[severity], severity) for severity in SEVERITIES]
    rows = []
    for unit_id, unit in units.items():
        counts = unit["failures_by_severity"]
        bars = None if unit.get("evaluated") == "none" else tuple(
            charts.Bar(counts[severity], fa_number(counts[severity]), en_number(counts[severity]), f"sev-{severity}")
            for severity in SEVERITIES)
        rows.append(charts.BarRow(unit_id, unit["name_fa"] or unit_id, unit_id, bars, *missing_label(unit)))
    return charts.bar_chart(rows, columns, maximum, _ticks((0, int(maximum))), "شمار موارد نامنطبق (بررسی × میزبان)",
                            "Failures (checks x hosts)")


def _trend_panels(units: dict[str, dict], points: list[dict], province_scope: bool) -> list[charts.TrendPanel]:
    """A panel per unit over `points` (score_history's, this run last), the province's first and
    drawn beside each unit's in a province evaluation."""
    runs = [charts.Run(fa_digits(str(point["started_jalali"] or "")[:10]), str(point["started"] or "")[:10])
            for point in points]
    province = tuple(point.get("score") for point in points) if province_scope else None
    series = [_series("province", *PROVINCE_ROW, province, None)] if province_scope else []
    for unit_id, unit in units.items():
        series.append(_series(unit_id, unit["name_fa"] or unit_id, unit_id,
                              tuple(point["units"].get(unit_id) for point in points), province))
    return charts.trend_panels(series, runs, _ticks(TREND_TICKS),
                               "تنها یک ارزیابی؛ هنوز روندی نیست", "one evaluation only: no trend yet")


def _ticks(values: tuple[int, ...]) -> list[tuple[float, str, str]]:
    return [(value, fa_number(value), en_number(value)) for value in values]


def _series(key: str, name_fa: str, name_en: str, scores: tuple, reference: tuple | None) -> charts.Series:
    now = scores[-1]
    if now is None:
        return charts.Series(key, name_fa, name_en, scores, NOT_EVALUATED[0], "now: " + NOT_EVALUATED[1],
                             reference, now_lang="fa")
    return charts.Series(key, name_fa, name_en, scores, _percent_fa(now), "now " + _percent_en(now), reference)


def render_html(evaluation: dict) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR / "report"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    environment.filters["fa_digits"] = fa_digits
    environment.filters["fa_number"] = fa_number
    environment.filters["en_number"] = en_number
    environment.globals.update(severity_fa=SEVERITY_FA, outcome_fa=OUTCOME_FA, emergency_power=EMERGENCY_POWER,
                               ups_words=ups_words, coverage_labels=COVERAGE, room_climate=room_climate,
                               collected_states=COLLECTED_STATE, refusal_fa=REFUSAL_FA, not_reported=not_reported)
    return environment.get_template("evaluation.html.j2").render(e=evaluation, charts=report_charts(evaluation))


_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def fa_digits(value: Any) -> str:
    """Persian digits for the Persian column of the report (dates, times: separators as they are)."""
    return str(value).translate(_PERSIAN_DIGITS)


def en_number(value: Any, signed: bool = False) -> str:
    """A count or score as the English column writes it: Latin digits, one decimal for scores."""
    if isinstance(value, float):
        return f"{value:+.1f}" if signed else f"{value:.1f}"
    return f"{value:+d}" if signed else str(value)


def fa_number(value: Any, signed: bool = False) -> str:
    """A count or score as Persian writes it: Persian digits, the Persian decimal separator
    (U+066B), a minus sign (U+2212) for negatives. The template isolates it (<bdi dir="ltr">)
    so that the sign stays before the digits in the right-to-left page."""
    text = en_number(value, signed)
    return text.replace(".", "\u066b").replace("-", "\u2212").translate(_PERSIAN_DIGITS)


def ups_words(status: Any) -> list[tuple[str, str, str]]:
    """NUT's ups.status ("OB DISCHRG") as (word, Persian, English) per word; an unknown word keeps
    itself as its label."""
    return [(word, *UPS_STATUS.get(word, (word, word))) for word in str(status or "").split()]


# What PWR-007 records of the server room (rooms.yml key, Persian and English name, unit).
CLIMATE = (("room_temperature_c", "temperature_c", "دمای اتاق", "room temperature", "°C"),
           ("room_humidity_pct", "humidity_pct", "رطوبت نسبی اتاق", "relative humidity", "%"))
CLIMATE_VERDICT = {"within": ("در حد مجاز", "within limits"), "above": ("بالاتر از حد مجاز", "above the limit"),
                   "below": ("پایین‌تر از حد مجاز", "below the limit"), "no_limit": ("بی حد تعیین‌شده", "no limit set")}


def room_climate(power: dict, room: dict) -> list[dict]:
    """The server room's measured climate for the report (clause 2), from one host's facts (PWR-007:
    room_temperature_c, room_humidity_pct) and rooms.yml's limits for the room.

    Returns one dict per quantity measured: name_fa, name_en, value (number), unit ("°C", "%"),
    limits ({"min", "max"} or None) and verdict ("within", "above", "below", "no_limit") with its
    Persian and English words (verdict_fa, verdict_en); empty when nothing was measured."""
    rows = []
    for fact, limit_key, name_fa, name_en, unit in CLIMATE:
        if not isinstance(power.get(fact), (int, float)):
            continue
        value, limits = power[fact], room.get(limit_key)
        if not limits:
            verdict = "no_limit"
        else:
            verdict = "above" if value > limits["max"] else "below" if value < limits["min"] else "within"
        rows.append({"name_fa": name_fa, "name_en": name_en, "value": value, "unit": unit, "limits": limits,
                     "verdict": verdict, "verdict_fa": CLIMATE_VERDICT[verdict][0],
                     "verdict_en": CLIMATE_VERDICT[verdict][1]})
    return rows

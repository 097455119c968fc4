"""The provincial evaluation (clause 4 of the circular): results of the compliance suite turned
into a scored, bilingual report for the ICT council, with history for the trend.

Inputs: the JSON the compliance suite writes (schema unitctl-compliance/1) and the province.
Outputs, in one folder: evaluation.json (schema unitctl-evaluation/1, documented in
templates/report/SCHEMA.md), evaluation.junit.xml and evaluation.html; a copy of the JSON goes
into the history folder, so the next evaluation shows the trend.
"""

from __future__ import annotations

import getpass
import json
import os
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

from unitctl.compliance import BENCHMARKS, SEVERITIES
from unitctl.inventory.load import Province
from unitctl.paths import PROJECT_ROOT, TEMPLATES_DIR

SCHEMA = "unitctl-evaluation/1"
# A unit's score weighs each evaluated check by its severity (published in the report).
SEVERITY_WEIGHTS = {"critical": 10, "high": 5, "medium": 2, "low": 1}
EVALUATED = ("pass", "fail", "error", "unreachable")
PROBLEMS = ("fail", "error", "unreachable")

# Exit statuses of `unitctl check` and `unitctl evaluate`.
EXIT_COMPLIANT = 0
EXIT_NON_COMPLIANT = 1  # at least one check failed
EXIT_NOT_EVALUATED = 2  # nothing failed, but some host or check could not be evaluated

TEHRAN = ZoneInfo("Asia/Tehran")


@dataclass
class RunInfo:
    started: datetime
    finished: datetime
    user: str
    sudo_user: str | None
    toolkit_commit: str
    inventory: str
    units: list[str]

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


def build_evaluation(compliance: dict, province: Province, run: RunInfo,
                     previous: dict | None = None, facts: dict | None = None) -> dict[str, Any]:
    """Everything the report shows, as one JSON document."""
    checks = compliance["checks"]
    results = compliance["results"]
    units = {}
    for unit in province.units:
        if run.units and unit.id not in run.units:
            continue
        mine = [result for result in results if result["unit_id"] == unit.id]
        counts = Counter(result["outcome"] for result in mine)
        failures = [_failure(result, checks) for result in mine if result["outcome"] in ("fail", "error")]
        score = unit_score(mine, checks)
        before = ((previous or {}).get("units", {}).get(unit.id) or {}).get("score")
        units[unit.id] = {
            "name_fa": unit.info.get("name_fa"),
            "name_en": unit.info.get("name_en"),
            "kind": unit.info.get("kind"),
            "score": score,
            "previous_score": before,
            "trend": None if score is None or before is None else round(score - before, 1),
            "counts": {outcome: counts[outcome] for outcome in
                       ("pass", "fail", "error", "unreachable", "skipped", "not_applicable")},
            "failures_by_severity": {severity: sum(1 for f in failures if f["severity"] == severity)
                                     for severity in SEVERITIES},
            "failures": sorted(failures, key=lambda f: (SEVERITIES.index(f["severity"]), f["check_id"], f["host"])),
            "unreachable_hosts": sorted({r["host"] for r in mine if r["outcome"] == "unreachable"}),
            "rooms": unit.rooms,
            "power": (facts or {}).get(unit.id, {}),
            "benchmarks": benchmark_scores(mine, checks),
        }
    return {
        "schema": SCHEMA,
        "run": run.as_dict(),
        "scoring": {"weights": SEVERITY_WEIGHTS, "severities": list(SEVERITIES),
                    "formula": "100 × (weight of passed checks) / (weight of evaluated checks); "
                               "unreachable hosts count as not passed"},
        "previous_run": (previous or {}).get("run"),
        "units": units,
        "benchmarks": benchmark_scores([r for r in results if not run.units or r["unit_id"] in run.units], checks),
        "checks": checks,
        "results": results,
        "status": _status(results),
    }


def _failure(result: dict, checks: dict) -> dict:
    meta = checks[result["check_id"]]
    return {
        "check_id": result["check_id"], "host": result["host"], "outcome": result["outcome"],
        "severity": meta["severity"], "title_en": meta["title_en"], "title_fa": meta["title_fa"],
        "policy": meta["policy"], "fix": meta["fix"], "controls": list(meta.get("controls", ())),
        "evidence": result["evidence"].strip(),
    }


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


def latest_in_history(history_dir: Path) -> dict | None:
    runs = sorted(history_dir.glob("evaluation-*.json")) if history_dir.is_dir() else []
    return json.loads(runs[-1].read_text(encoding="utf-8")) if runs else None


def write_outputs(evaluation: dict, out_dir: Path, history_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    history_dir.mkdir(parents=True, exist_ok=True)
    document = json.dumps(evaluation, ensure_ascii=False, indent=2) + "\n"
    written = {
        "json": out_dir / "evaluation.json",
        "junit": out_dir / "evaluation.junit.xml",
        "html": out_dir / "evaluation.html",
    }
    written["json"].write_text(document, encoding="utf-8")
    written["junit"].write_bytes(junit_xml(evaluation))
    written["html"].write_text(render_html(evaluation), encoding="utf-8")
    stamp = evaluation["run"]["started"].replace(":", "").replace("-", "")
    (history_dir / f"evaluation-{stamp}.json").write_text(document, encoding="utf-8")
    return written


def junit_xml(evaluation: dict) -> bytes:
    """One test suite per unit, one test case per check and host."""
    suites = ElementTree.Element("testsuites", name="unitctl evaluation")
    checks = evaluation["checks"]
    for unit_id, unit in evaluation["units"].items():
        mine = [r for r in evaluation["results"] if r["unit_id"] == unit_id]
        suite = ElementTree.SubElement(suites, "testsuite", name=unit_id, tests=str(len(mine)),
                                       failures=str(unit["counts"]["fail"]),
                                       errors=str(unit["counts"]["error"] + unit["counts"]["unreachable"]),
                                       skipped=str(unit["counts"]["skipped"] + unit["counts"]["not_applicable"]))
        for result in mine:
            meta = checks[result["check_id"]]
            case = ElementTree.SubElement(suite, "testcase", classname=f"{unit_id}.{result['host']}",
                                          name=f"{result['check_id']} {meta['title_en']}",
                                          time=str(result["seconds"]))
            if result["outcome"] == "fail":
                ElementTree.SubElement(case, "failure", message=meta["fix"]).text = result["evidence"]
            elif result["outcome"] in ("error", "unreachable"):
                ElementTree.SubElement(case, "error", message=result["outcome"]).text = result["evidence"]
            elif result["outcome"] in ("skipped", "not_applicable"):
                ElementTree.SubElement(case, "skipped", message=result["outcome"])
    return ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True)


def render_html(evaluation: dict) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR / "report"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    environment.filters["fa_digits"] = fa_digits
    return environment.get_template("evaluation.html.j2").render(e=evaluation)


def fa_digits(value: Any) -> str:
    """Persian digits for the Persian column of the report."""
    return str(value).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))

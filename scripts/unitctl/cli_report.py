"""`unitctl report`: a unit-by-unit summary of a compliance run, for the technician's terminal."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

OUTCOMES = ("pass", "fail", "error", "unreachable", "skipped", "not_applicable")


def register(commands) -> None:
    parser = commands.add_parser("report", help="summarise a compliance results file (JSON)")
    parser.add_argument("results", type=Path, help="the JSON written by the compliance suite")
    parser.set_defaults(func=run)


def unit_score(counts: Counter) -> float | None:
    """Share of evaluated checks that passed; unreachable hosts count against the unit."""
    evaluated = counts["pass"] + counts["fail"] + counts["error"] + counts["unreachable"]
    return None if evaluated == 0 else 100.0 * counts["pass"] / evaluated


def run(args) -> int:
    document = json.loads(args.results.read_text(encoding="utf-8"))
    checks = document["checks"]
    by_unit: dict[str, Counter] = defaultdict(Counter)
    problems = []
    for result in document["results"]:
        by_unit[result["unit_id"]][result["outcome"]] += 1
        if result["outcome"] in ("fail", "error", "unreachable"):
            problems.append(result)

    print(f"{'unit':<20} " + " ".join(f"{outcome:>14}" for outcome in OUTCOMES) + f" {'score':>7}")
    for unit_id in sorted(by_unit):
        counts = by_unit[unit_id]
        score = unit_score(counts)
        shown = "n/a" if score is None else f"{score:.0f}%"
        print(f"{unit_id:<20} " + " ".join(f"{counts[outcome]:>14}" for outcome in OUTCOMES) + f" {shown:>7}")
    for result in problems:
        meta = checks.get(result["check_id"], {})
        print(f"\n[{meta.get('severity', '?')}] {result['check_id']} on {result['host']}: {result['outcome']}")
        print(f"  {meta.get('title_en', '')} / {meta.get('title_fa', '')}")
        print(f"  found: {result['evidence'].strip()[:400]}")
        print(f"  fix:   {meta.get('fix', '')}")
    if not document["results"]:
        print("no check ran")
        return 2
    return 1 if problems else 0

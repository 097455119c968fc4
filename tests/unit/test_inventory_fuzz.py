"""Mutated unit files never crash or hang the loader and validation.

A seeded generator (reproducible: the seed and the case number name each failure) damages the
fixture province's unit files the way editors and hands do: characters dropped, inserted or
swapped (YAML's special characters, tabs, Persian letters, control characters), lines repeated,
moved or cut, aliases and anchors added. Every case must end in a list of problems (or none),
never an exception; a case that runs past its bound (an alarm, generous for a busy machine: the
loader takes milliseconds) fails as a hang.
"""

from __future__ import annotations

import random
import signal

import pytest

from unitctl.inventory.validate import validate_province

from fixture_province import copy_fixture_province

SEED = 8476
CASES = 120
HANG_BOUND_S = 20
UNIT_FILES = ["units/court/hosts.yml", "units/court/staff.yml", "units/court/rooms.yml",
              "units/court/addressing.yml", "units/court/unit.yml"]
NOISE = list(":-[]{}&*!|>'\"#%@`,?\t\n ") + ["ي", "۱", "\u200f", "\x00", "\x1b", "&a", "*a", "<<: *a", "!!python/object"]


def mutate(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(("drop", "insert", "swap", "repeat", "move", "cut", "alias"))
        if not text:
            break
        if kind == "drop":
            at = rng.randrange(len(text))
            text = text[:at] + text[at + 1:]
        elif kind == "insert":
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(NOISE) + text[at:]
        elif kind == "swap" and len(text) > 2:
            at = rng.randrange(len(text) - 1)
            text = text[:at] + text[at + 1] + text[at] + text[at + 2:]
        else:
            lines = text.split("\n")
            at = rng.randrange(len(lines))
            if kind == "repeat":
                lines.insert(at, lines[at] * rng.randint(1, 3))
            elif kind == "move":
                lines.insert(rng.randrange(len(lines)), lines.pop(at))
            elif kind == "cut":
                lines = lines[:at]
            elif kind == "alias":
                lines.insert(at, rng.choice(["x: &a [*a]", "y: &b {k: *b}", "- &c [*c, *c]", "z: *nothing"]))
            text = "\n".join(lines)
    return text


def _hang(signum, frame):
    raise TimeoutError(f"validation ran past {HANG_BOUND_S} s")


@pytest.mark.parametrize("case", range(CASES))
def test_a_damaged_unit_file_is_reported_never_raised(tmp_path, case):
    rng = random.Random(SEED * 1000 + case)
    root = copy_fixture_province(tmp_path / "inventory")
    for relative in rng.sample(UNIT_FILES, rng.randint(1, 2)):
        path = root / relative
        path.write_text(mutate(path.read_text(encoding="utf-8"), rng), encoding="utf-8")
    previous = signal.signal(signal.SIGALRM, _hang)
    signal.alarm(HANG_BOUND_S)
    try:
        problems = validate_province(root, root / "units")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert all(problem.reason for problem in problems)

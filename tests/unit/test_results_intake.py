"""The centre's intake of a unit's results (roles/results_intake/files/unitctl-results-intake), run as
sshd runs it: a process with the unit as its argument, the client's command in SSH_ORIGINAL_COMMAND
and the file on standard input, into a drop folder of the test's own (UNITCTL_RESULTS_DROP_DIR)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from unitctl import unit_results

ROOT = Path(__file__).resolve().parents[2]
INTAKE = ROOT / "roles" / "results_intake" / "files" / "unitctl-results-intake"
SENDER = ROOT / "roles" / "results_sender" / "files" / "unitctl-send-results"
UNIT = "lab-court"
NAME = "20261128T120000Z.json"


def results_document(unit: str = UNIT, **changes) -> bytes:
    document = {"schema": unit_results.SCHEMA, "unit_id": unit, "host": f"{unit}-srv1",
                "started": "2026-11-28T12:00:00+00:00", "finished": "2026-11-28T12:03:10+00:00",
                "toolkit_commit": "f27268a1b2c3",
                "compliance": {"schema": unit_results.COMPLIANCE_SCHEMA, "checks": {}, "results": [], "facts": {}}}
    document.update(changes)
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


def script_constants(path: Path) -> dict[str, object]:
    """The module-level constants of a script, read by executing only its assignments (no main())."""
    source = path.read_text(encoding="utf-8")
    namespace: dict[str, object] = {"re": re}
    for line in source.splitlines():
        if re.match(r"^(SCHEMA|STAMP_NAME|MAX_FILE_BYTES) = ", line):
            exec(line, namespace)  # noqa: S102 - the toolkit's own file
    return namespace


@pytest.fixture
def drop(tmp_path):
    """A drop folder with the unit's folder, and a `logger` on PATH that records what it is given."""
    folder = tmp_path / "collected"
    (folder / UNIT).mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    logger = bin_dir / "logger"
    logger.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> {tmp_path / 'syslog'}\n")
    logger.chmod(0o755)
    return folder


def run_intake(drop: Path, command: str | None, data: bytes = b"", unit_args: list[str] | None = None):
    env = {"PATH": f"{drop.parent / 'bin'}:/usr/bin:/bin", "UNITCTL_RESULTS_DROP_DIR": str(drop)}
    if command is not None:
        env["SSH_ORIGINAL_COMMAND"] = command
    args = [UNIT] if unit_args is None else unit_args
    return subprocess.run([sys.executable, str(INTAKE), *args], input=data, capture_output=True, env=env,
                          timeout=60, check=False)


def listing(drop: Path) -> list[str]:
    return sorted(str(path.relative_to(drop)) for path in drop.rglob("*"))


def test_the_constants_are_unit_results_own():
    for script in (INTAKE, SENDER):
        constants = script_constants(script)
        assert constants["STAMP_NAME"].pattern == unit_results.STAMP_NAME.pattern, script.name
        assert constants["MAX_FILE_BYTES"] == unit_results.MAX_FILE_BYTES, script.name
    assert script_constants(INTAKE)["SCHEMA"] == unit_results.SCHEMA


def test_a_file_is_stored_whole_readable_by_the_group_and_logged(drop):
    data = results_document()
    done = run_intake(drop, f"put {NAME}", data)
    assert done.returncode == 0, done.stderr
    stored = drop / UNIT / NAME
    assert stored.read_bytes() == data
    assert stored.stat().st_mode & 0o777 == 0o640
    assert listing(drop) == [UNIT, f"{UNIT}/{NAME}"]  # no temporary file left
    assert done.stderr.decode().startswith("unitctl-results-intake: stored: ")
    assert (drop.parent / "syslog").read_text().startswith(f"-t unitctl-results-intake -- {UNIT}: stored: {NAME}")
    # What the centre's evaluation reads, it reads: the layout and the bytes are the unit's.
    assert unit_results.STAMP_NAME.match(stored.name)


def test_a_resend_of_the_same_bytes_is_success(drop):
    data = results_document()
    assert run_intake(drop, f"put {NAME}", data).returncode == 0
    again = run_intake(drop, f"put {NAME}", data)
    assert again.returncode == 0, again.stderr
    assert b"already stored" in again.stderr
    assert listing(drop) == [UNIT, f"{UNIT}/{NAME}"]


def test_other_bytes_under_a_stored_name_are_refused_and_the_stored_file_kept(drop):
    data = results_document()
    assert run_intake(drop, f"put {NAME}", data).returncode == 0
    other = run_intake(drop, f"put {NAME}", results_document(toolkit_commit="0000000"))
    assert other.returncode == 65, other.stderr
    assert b"never replaced" in other.stderr
    assert (drop / UNIT / NAME).read_bytes() == data
    assert listing(drop) == [UNIT, f"{UNIT}/{NAME}"]


@pytest.mark.parametrize("command", [
    "put ../x.json", "put x.json", "put .hidden.json", f"put {NAME} {NAME}", f"put  {NAME}", f"put {NAME}\n",
    f"put ../{NAME}", f"put {NAME[:-5]}.txt", "put", "", "sh", "id", f"get {NAME}", f"PUT {NAME}",
    f"put {NAME}; id", None,
], ids=repr)
def test_any_command_but_put_name_is_a_usage_refusal_writing_nothing(drop, command):
    done = run_intake(drop, command, results_document())
    assert done.returncode == 64, done.stderr
    assert done.stderr.decode().count("\n") == 1  # one line, why
    assert listing(drop) == [UNIT]


@pytest.mark.parametrize("unit_args", [[], ["Lab-Court"], ["../lab-court"], [UNIT, "extra"]], ids=repr)
def test_a_forced_command_without_one_unit_is_a_usage_refusal(drop, unit_args):
    done = run_intake(drop, f"put {NAME}", results_document(), unit_args)
    assert done.returncode == 64, done.stderr
    assert listing(drop) == [UNIT]


def test_a_file_larger_than_the_centre_reads_is_refused(drop):
    # A valid document padded past the limit: refused for its size alone, without being parsed.
    data = results_document()
    padded = data[:-2] + b" " * (unit_results.MAX_FILE_BYTES + 1 - len(data)) + data[-2:]
    assert len(padded) == unit_results.MAX_FILE_BYTES + 1
    done = run_intake(drop, f"put {NAME}", padded)
    assert done.returncode == 65, done.stderr
    assert b"larger than 16 MB" in done.stderr
    assert listing(drop) == [UNIT]


def test_a_file_of_exactly_the_limit_is_taken(drop):
    data = results_document()
    padded = data[:-2] + b" " * (unit_results.MAX_FILE_BYTES - len(data)) + data[-2:]
    assert len(padded) == unit_results.MAX_FILE_BYTES
    done = run_intake(drop, f"put {NAME}", padded)
    assert done.returncode == 0, done.stderr
    assert (drop / UNIT / NAME).stat().st_size == unit_results.MAX_FILE_BYTES


@pytest.mark.parametrize(("data", "why"), [
    (b"", b"not JSON"),
    (b"{\"schema\": ", b"not JSON"),
    (b"\xff\xfe{}", b"not JSON in UTF-8"),
    (results_document().replace(b"lab-court-srv1", b"lab-court-srv\xe9"), b"not JSON in UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, b"not JSON"),
    (b"[]", b"the schema is 'list'"),
    (results_document().replace(unit_results.SCHEMA.encode(), b"unitctl-unit-results/2"), b"the schema is"),
    (json.dumps(json.loads(results_document()) | {"schema": None}).encode(), b"the schema is"),
    (results_document("lab-prosecutor"), b"of 'lab-prosecutor'"),
    (json.dumps({k: v for k, v in json.loads(results_document()).items() if k != "unit_id"}).encode(), b"of 'None'"),
], ids=["empty", "cut", "utf16-bom", "latin1-byte", "nested", "array", "other-schema", "no-schema",
        "other-unit", "no-unit"])
def test_a_file_that_is_plainly_not_this_units_results_is_refused_writing_nothing(drop, data, why):
    done = run_intake(drop, f"put {NAME}", data)
    assert done.returncode == 65, done.stderr
    assert why in done.stderr
    assert listing(drop) == [UNIT]


def test_a_missing_unit_folder_cannot_be_created_into(drop):
    (drop / UNIT).rmdir()
    done = run_intake(drop, f"put {NAME}", results_document())
    assert done.returncode == 73, done.stderr
    assert listing(drop) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder all the same")
def test_a_folder_it_may_not_write_is_cannot_create_and_leaves_nothing(drop):
    (drop / UNIT).chmod(0o500)
    try:
        done = run_intake(drop, f"put {NAME}", results_document())
    finally:
        (drop / UNIT).chmod(0o700)
    assert done.returncode == 73, done.stderr
    assert listing(drop) == [UNIT]


def test_without_logger_the_intake_still_works(drop, tmp_path):
    (tmp_path / "bin" / "logger").unlink()
    env = {"PATH": str(tmp_path / "bin"), "UNITCTL_RESULTS_DROP_DIR": str(drop), "SSH_ORIGINAL_COMMAND": f"put {NAME}"}
    done = subprocess.run([sys.executable, str(INTAKE), UNIT], input=results_document(), capture_output=True,
                          env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert (drop / UNIT / NAME).exists()


@pytest.mark.parametrize("name", ["۲۰۲۶۱۱۲۸T۱۲۰۰۰۰Z.json", "٢٠٢٦١١٢٨T١٢٠٠٠٠Z.json", "20261128T120000Z.json\n"])
def test_a_name_with_digits_other_than_ascii_is_refused_here_and_at_the_evaluation(drop, tmp_path, name):
    """Persian or Arabic-Indic digits match Python's \\d: such a name was stored, and the evaluation
    then refused it on every run for good (it is never removed)."""
    done = run_intake(drop, f"put {name}", results_document())
    assert done.returncode == 64, done.stderr
    assert listing(drop) == [UNIT]
    assert not unit_results.STAMP_NAME.fullmatch(name)


def test_a_second_intake_of_the_same_unit_waits_for_the_next_sending(drop):
    """One unit's key cannot run intakes side by side (each may hold a file in memory): the second
    is told to come back (75), nothing stored; another unit is not held up."""
    import fcntl  # noqa: PLC0415

    held = os.open(drop / UNIT, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        busy = run_intake(drop, f"put {NAME}", results_document())
        (drop / "lab-prosecutor").mkdir()
        other = run_intake(drop, f"put {NAME}", results_document("lab-prosecutor"), unit_args=["lab-prosecutor"])
    finally:
        os.close(held)
    assert busy.returncode == 75 and b"another intake of this unit is running" in busy.stderr
    assert other.returncode == 0, other.stderr
    assert run_intake(drop, f"put {NAME}", results_document()).returncode == 0
    assert listing(drop) == ["lab-court", f"lab-court/{NAME}", "lab-prosecutor", f"lab-prosecutor/{NAME}"]

"""A unit server's sender (roles/results_sender/files/unitctl-send-results) to the centre's intake
(roles/results_intake/files/unitctl-results-intake), end to end: the sender runs as the timer runs
it, and `ssh` on its PATH is a small script that does what sshd does with the unit's forced command:
it runs the real intake, bound to the unit, with the client's command in SSH_ORIGINAL_COMMAND and
the file on standard input. Only the network is left out. A second `ssh` plays a centre that
cannot be reached (exit 255, as OpenSSH's client exits)."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from unitctl import unit_results

ROOT = Path(__file__).resolve().parents[2]
INTAKE = ROOT / "roles" / "results_intake" / "files" / "unitctl-results-intake"
SENDER = ROOT / "roles" / "results_sender" / "files" / "unitctl-send-results"
UNIT = "lab-court"
STAMPS = ["20261128T120000Z.json", "20261129T120000Z.json", "20261130T120000Z.json"]

# sshd with `command="unitctl-results-intake UNIT"`: the unit comes from the key (here, the fake's
# own setting), the client's words become SSH_ORIGINAL_COMMAND. Every call is recorded.
WORKING_SSH = """#!/bin/sh
printf '%s\\n' "$*" >> "{calls}"
for last; do :; done
SSH_ORIGINAL_COMMAND="$last" UNITCTL_RESULTS_DROP_DIR="{drop}" exec "{python}" "{intake}" "{unit}"
"""
DOWN_SSH = """#!/bin/sh
printf '%s\\n' "$*" >> "{calls}"
echo "ssh: connect to host {centre} port 22: No route to host" >&2
exit 255
"""


def document(unit: str = UNIT, stamp: str = STAMPS[0]) -> bytes:
    started = f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}+00:00"
    return (json.dumps({"schema": unit_results.SCHEMA, "unit_id": unit, "host": f"{unit}-srv1", "started": started,
                        "finished": started, "toolkit_commit": "abc123",
                        "compliance": {"schema": unit_results.COMPLIANCE_SCHEMA, "checks": {}, "results": []}},
                       indent=2) + "\n").encode()


class Setup:
    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.spool = tmp_path / "spool"
        self.folder = self.spool / UNIT
        self.folder.mkdir(parents=True, mode=0o700)
        self.drop = tmp_path / "collected"
        (self.drop / UNIT).mkdir(parents=True)
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.calls = tmp_path / "ssh-calls"
        self.config = tmp_path / "sender.conf"
        self.write_config()
        self.centre("up")

    def write_config(self, **changes) -> None:
        config = {"unit": UNIT, "centre": "192.0.2.10", "port": 2222, "account": f"results-{UNIT}",
                  "key": "/etc/unitctl/results/id_ed25519", "known_hosts": "/etc/unitctl/results/known_hosts",
                  "spool": str(self.spool), "keep_sent": 30} | changes
        self.config.write_text(json.dumps(config))

    def centre(self, state: str, unit: str = UNIT) -> None:
        """The centre answers ("up": the real intake, bound to UNIT) or cannot be reached ("down")."""
        text = (WORKING_SSH if state == "up" else DOWN_SSH).format(
            calls=self.calls, drop=self.drop, python=sys.executable, intake=INTAKE, unit=unit, centre="192.0.2.10")
        ssh = self.bin / "ssh"
        ssh.write_text(text)
        ssh.chmod(0o755)

    def spool_file(self, stamp: str, data: bytes | None = None) -> Path:
        path = self.folder / stamp
        path.write_bytes(document(stamp=stamp) if data is None else data)
        return path

    def run(self, *args: str) -> subprocess.CompletedProcess:
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "UNITCTL_SEND_RESULTS_CONFIG": str(self.config)}
        return subprocess.run([sys.executable, str(SENDER), *args], capture_output=True, text=True, env=env,
                              timeout=120, check=False)

    def names(self, sub: str = "") -> list[str]:
        folder = self.folder / sub if sub else self.folder
        return sorted(path.name for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []

    def stored(self) -> list[str]:
        return sorted(path.name for path in (self.drop / UNIT).iterdir())

    def sent_commands(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []


@pytest.fixture
def setup(tmp_path):
    return Setup(tmp_path)


def test_files_are_sent_in_time_order_and_moved_to_sent(setup):
    for stamp in reversed(STAMPS):
        setup.spool_file(stamp)
    done = setup.run()
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"sent {stamp}" for stamp in STAMPS]
    assert setup.names() == []
    assert setup.names("sent") == STAMPS
    assert setup.stored() == STAMPS
    for stamp in STAMPS:
        assert (setup.drop / UNIT / stamp).read_bytes() == (setup.folder / "sent" / stamp).read_bytes()
    # The centre's evaluation reads what arrived.
    assert [path.name for path in sorted((setup.drop / UNIT).iterdir())] == STAMPS
    calls = setup.sent_commands()
    assert [call.rsplit(" ", 2)[1:] for call in calls] == [["put", stamp] for stamp in STAMPS]
    expected = ("-i /etc/unitctl/results/id_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes "
                "-o UserKnownHostsFile=/etc/unitctl/results/known_hosts -o ConnectTimeout=10 -o ServerAliveInterval=10 "
                f"-o ServerAliveCountMax=3 -o LogLevel=ERROR -p 2222 results-{UNIT}@192.0.2.10 put {STAMPS[0]}")
    assert calls[0] == expected


def test_nothing_waiting_is_success(setup):
    done = setup.run()
    assert (done.returncode, done.stdout.strip()) == (0, "nothing to send")
    assert setup.sent_commands() == []


def test_sent_keeps_the_newest_files_only(setup):
    setup.write_config(keep_sent=2)
    (setup.folder / "sent").mkdir(mode=0o700)
    (setup.folder / "sent" / "20261101T000000Z.json").write_bytes(b"old")
    for stamp in STAMPS:
        setup.spool_file(stamp)
    done = setup.run()
    assert done.returncode == 0, done.stderr
    assert setup.names("sent") == STAMPS[1:]
    assert setup.stored() == STAMPS  # pruning is the unit's copy only


def test_pruning_removes_only_results_and_never_through_a_symbolic_link(setup, tmp_path):
    setup.write_config(keep_sent=1)
    (setup.folder / "sent").mkdir(mode=0o700)
    (setup.folder / "sent" / "notes.txt").write_text("a technician's")
    setup.spool_file(STAMPS[0])
    assert setup.run().returncode == 0
    assert setup.names("sent") == [STAMPS[0], "notes.txt"]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "20261101T000000Z.json").write_text("not the spool's")
    (setup.folder / "sent").rename(tmp_path / "old-sent")
    (setup.folder / "sent").symlink_to(elsewhere)
    setup.spool_file(STAMPS[1])
    done = setup.run()
    assert done.returncode == 75 and "could not be moved out of the spool" in done.stderr, done.stderr
    assert (elsewhere / "20261101T000000Z.json").exists() and sorted(p.name for p in elsewhere.iterdir()) == [
        "20261101T000000Z.json"]
    assert setup.names() == [STAMPS[1]]  # still waiting; the centre holds it already (sent again: "already stored")


def test_a_centre_that_cannot_be_reached_keeps_everything_for_the_next_run(setup):
    for stamp in STAMPS:
        setup.spool_file(stamp)
    setup.centre("down")
    down = setup.run()
    assert down.returncode == 75, down.stderr
    assert "No route to host" in down.stderr and "3 file(s) wait" in down.stderr
    assert setup.names() == STAMPS and setup.names("sent") == [] and setup.stored() == []
    assert len(setup.sent_commands()) == 1  # it stops at the first file
    setup.centre("up")
    up = setup.run()
    assert up.returncode == 0, up.stderr
    assert setup.names() == [] and setup.names("sent") == STAMPS and setup.stored() == STAMPS


def test_a_lost_answer_is_sent_again_and_taken_as_stored(setup):
    # The centre stored the file but the answer never came back: the file stayed in the spool.
    setup.spool_file(STAMPS[0])
    (setup.drop / UNIT / STAMPS[0]).write_bytes(document(stamp=STAMPS[0]))
    done = setup.run()
    assert done.returncode == 0, done.stderr
    assert setup.names("sent") == [STAMPS[0]] and setup.names() == []


def test_a_refused_file_is_kept_apart_and_the_rest_still_go(setup):
    setup.spool_file(STAMPS[0])
    setup.spool_file(STAMPS[1], document(unit="lab-prosecutor", stamp=STAMPS[1]))  # another unit's results
    setup.spool_file(STAMPS[2])
    done = setup.run()
    assert done.returncode == 65, done.stderr
    assert f"refused {STAMPS[1]}: unitctl-results-intake: refused: the results are of 'lab-prosecutor'" in done.stderr
    assert setup.names() == []
    assert setup.names("refused") == [STAMPS[1]]
    assert setup.names("sent") == [STAMPS[0], STAMPS[2]]
    assert setup.stored() == [STAMPS[0], STAMPS[2]]
    # The next run has nothing to send: a refused file is never sent again.
    again = setup.run()
    assert (again.returncode, again.stdout.strip()) == (0, "nothing to send")
    assert setup.names("refused") == [STAMPS[1]]


def test_a_file_the_centre_holds_other_bytes_for_is_refused_and_a_second_one_kept_beside(setup):
    (setup.drop / UNIT / STAMPS[0]).write_bytes(document(stamp=STAMPS[0]) + b" ")
    setup.spool_file(STAMPS[0])
    assert setup.run().returncode == 65
    setup.spool_file(STAMPS[0])
    assert setup.run().returncode == 65
    assert setup.names("refused") == [STAMPS[0], f"{STAMPS[0]}.1"]


def test_names_that_are_not_a_runs_are_refused_unsent_and_hidden_or_other_files_left_alone(setup):
    setup.spool_file(STAMPS[0])
    (setup.folder / ".20261128T130000Z.json.tmp").write_bytes(b"being written")
    (setup.folder / ".20261128T140000Z.json").write_bytes(b"hidden")
    (setup.folder / "notes.txt").write_bytes(b"a technician's")
    (setup.folder / "results.json").write_bytes(document())
    (setup.folder / "20261128T150000Z.json.1").write_bytes(document())
    done = setup.run()
    assert done.returncode == 65, done.stderr
    assert "refused results.json: its name is not a run's" in done.stderr
    assert setup.names("refused") == ["results.json"]
    assert setup.names("sent") == [STAMPS[0]]
    assert setup.names() == sorted([".20261128T130000Z.json.tmp", ".20261128T140000Z.json", "notes.txt",
                                    "20261128T150000Z.json.1"])
    assert [call.rsplit(" ", 1)[1] for call in setup.sent_commands()] == [STAMPS[0]]


def test_a_second_sender_waits_for_no_one_and_touches_nothing(setup):
    setup.spool_file(STAMPS[0])
    lock = os.open(setup.spool / ".send.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        busy = setup.run()
    finally:
        os.close(lock)
    assert busy.returncode == 0  # the running one sends what waits: not a failure
    assert "another sender is running" in busy.stdout
    assert setup.names() == [STAMPS[0]] and setup.sent_commands() == []
    assert setup.run().returncode == 0  # the lock is gone with its holder


def test_the_lock_is_held_while_a_sending_runs(setup):
    # An `ssh` that reports whether the sender's lock is free while it runs (it must not be).
    setup.spool_file(STAMPS[0])
    probe = setup.bin / "ssh"
    probe.write_text(f"""#!{sys.executable}
import fcntl, os, sys
descriptor = os.open({str(setup.spool / '.send.lock')!r}, os.O_RDWR)
try:
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    sys.exit(255)
except BlockingIOError:
    sys.stdin.buffer.read()
    sys.exit(0)
""")
    done = setup.run()
    assert done.returncode == 0, done.stderr


def test_help_and_arguments(setup):
    shown = setup.run("--help")
    assert shown.returncode == 0 and "Exit status" in shown.stdout and "sender.conf" in shown.stdout
    wrong = setup.run("--now")
    assert wrong.returncode == 64 and "usage:" in wrong.stderr


@pytest.mark.parametrize("config", ["", "[]", '{"unit": "lab-court"}', None], ids=["empty", "array", "partial", "missing"])
def test_a_configuration_that_cannot_be_read_is_named(setup, config):
    if config is None:
        setup.config.unlink()
    else:
        setup.config.write_text(config)
    done = setup.run()
    assert done.returncode == 78
    assert str(setup.config) in done.stderr


def test_the_timeout_stops_the_sending_and_keeps_the_file(setup):
    setup.write_config(timeout=1)
    setup.spool_file(STAMPS[0])
    hang = setup.bin / "ssh"
    hang.write_text("#!/bin/sh\nexec sleep 30\n")
    done = setup.run()
    assert done.returncode == 75
    assert "no answer within 1 seconds" in done.stderr
    assert setup.names() == [STAMPS[0]]

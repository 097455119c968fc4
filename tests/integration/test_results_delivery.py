"""A unit's compliance results reach the provincial centre, and none is lost while it cannot be
reached (issue 17, part 3's delivery; roles results_sender and results_intake on the converged lab).

The court's compliance suite runs with `unitctl check lab-court --spool` (from the controller, the
court's server named as the sender: the unit server does not run the suite itself yet), its results
are put in the court server's spool, and the court server's sender service delivers them:
- while the court server cannot reach the centre (its own outgoing SSH to the centre is rejected),
  the sender fails, every file stays in the spool and nothing arrives;
- once it can, the next sending delivers every file, byte for byte, in the unit's drop folder at the
  centre, and moves them to the spool's sent/;
- `unitctl evaluate --collect` over what arrived reports the court and marks the prosecutor's unit,
  which sent nothing, "not reported".
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from lab_helpers import MACHINES, ROOT, environment, hosts_of, sudo_on, unitctl

pytestmark = pytest.mark.lab
COURT = "lab-court"
COURT_SERVER = hosts_of("unit_server", COURT)[0]
CENTRE = hosts_of("centre_server")[0]
SPOOL = f"/var/spool/unitctl/results/{COURT}"
DROP = f"/var/lib/unitctl/collected/{COURT}"
SERVICE = "unitctl-send-results.service"
# The court server's own rule that stands for a centre it cannot reach: its SSH to the centre is
# rejected at once (a table of the test's own, removed after).
BLOCK_TABLE = "unitctl_test_centre_away"


def _spooled_files(tmp_path) -> dict[str, bytes]:
    """Two runs' results of the court as the unit's spool holds them: `unitctl check lab-court
    --spool` (the whole unit, its server named as the sender), and the same results as a run a
    minute later."""
    from unitctl import unit_results  # noqa: PLC0415

    spool = tmp_path / "spool"
    run = unitctl("check", COURT, "--spool", str(spool), "--sender", COURT_SERVER, "--output", str(tmp_path / "check"))
    assert run.returncode in (0, 1), run.stdout + run.stderr  # compliant or not, every host was checked
    [first] = (spool / COURT).iterdir()
    document = json.loads(first.read_text(encoding="utf-8"))
    checked = {result["host"] for result in document["compliance"]["results"]}
    assert set(hosts_of("unit_server", COURT) + hosts_of("cms_client", COURT)) <= checked, checked
    later = datetime.fromisoformat(document["started"]) + timedelta(minutes=1)
    second = unit_results.spool_results(spool, COURT, COURT_SERVER, later, later + timedelta(seconds=30),
                                        document["toolkit_commit"], document["compliance"])
    return {path.name: path.read_bytes() for path in (first, second)}


def _listing(machine: str, folder: str) -> list[str]:
    status, output = sudo_on(MACHINES[machine], f"ls -1 {folder} 2>/dev/null || true")
    assert status == 0, output
    return sorted(line for line in output.splitlines() if line.endswith(".json"))


def _send() -> tuple[int, str]:
    """One run of the sender service, as its timer starts it; its exit status and journal."""
    status, output = sudo_on(MACHINES[COURT_SERVER],
                             f"systemctl start {SERVICE}; code=$?; journalctl -u {SERVICE} -n 20 --no-pager -o cat; "
                             "exit $code", timeout=180)
    return status, output


def test_results_wait_while_the_centre_is_away_and_all_arrive_after(converged, tmp_path):
    files = _spooled_files(tmp_path)
    court = MACHINES[COURT_SERVER]
    centre_address = MACHINES[CENTRE].address
    try:
        for name, data in files.items():
            status, output = sudo_on(court, f"install -d -m 0700 {SPOOL} && cat > {SPOOL}/.{name}.part && "
                                            f"chmod 0640 {SPOOL}/.{name}.part && mv {SPOOL}/.{name}.part {SPOOL}/{name}",
                                     stdin=data)
            assert status == 0, output

        status, output = sudo_on(court, f"nft add table inet {BLOCK_TABLE} && "
                                        f"nft add chain inet {BLOCK_TABLE} output '{{ type filter hook output priority 0; }}' && "
                                        f"nft add rule inet {BLOCK_TABLE} output ip daddr {centre_address} tcp dport 22 reject with tcp reset")
        assert status == 0, output
        status, output = _send()
        assert status != 0, f"the sender succeeded with the centre away:\n{output}"
        assert "file(s) wait in" in output, f"the sender did not say that the results wait:\n{output}"
        assert _listing(COURT_SERVER, SPOOL) == sorted(files), f"the spool lost results:\n{output}"
        assert not set(files) & set(_listing(CENTRE, DROP)), "results arrived with the centre away"

        status, output = sudo_on(court, f"nft delete table inet {BLOCK_TABLE}")
        assert status == 0, output
        status, output = _send()
        assert status == 0, f"the sender failed with the centre back:\n{output}"
        assert all(f"sent {name}" in output for name in files), output
        assert _listing(COURT_SERVER, SPOOL) == [], "results are still waiting in the spool"
        assert set(files) <= set(_listing(COURT_SERVER, f"{SPOOL}/sent")), "the sent results were not kept in sent/"
        for name, data in files.items():
            status, stored = sudo_on(MACHINES[CENTRE], f"sha256sum < {DROP}/{name}")
            assert status == 0, stored
            assert stored.split()[0] == hashlib.sha256(data).hexdigest(), f"{name} arrived changed"

        # The centre's evaluation over what arrived (a copy of the centre's drop folder).
        collected = tmp_path / "collected" / COURT
        collected.mkdir(parents=True)
        for name in files:
            status, text = sudo_on(MACHINES[CENTRE], f"cat {DROP}/{name}")
            assert status == 0, text
            (collected / name).write_text(text + "\n", encoding="utf-8")
        report_folder = tmp_path / "report"
        run = subprocess.run([sys.executable, "-m", "unitctl", "evaluate", "--collect", "--collected",
                              str(tmp_path / "collected"), "--output", str(report_folder)],
                             cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=300)
        report = json.loads((report_folder / "evaluation.json").read_text(encoding="utf-8"))
        units = report["units"]
        assert units[COURT]["collected"]["state"] == "reported", run.stdout + run.stderr
        assert units[COURT]["collected"]["file"].endswith(max(files)), "not the newest results"
        assert units["lab-prosecutor"]["collected"]["state"] == "missing", run.stdout + run.stderr
        assert units["lab-prosecutor"]["evaluated"] == "none"
        assert run.returncode == 2, run.stdout + run.stderr  # some unit did not report
    finally:
        sudo_on(court, f"nft delete table inet {BLOCK_TABLE} 2>/dev/null; "
                       + "; ".join(f"rm -f {SPOOL}/{name} {SPOOL}/sent/{name}" for name in files))
        sudo_on(MACHINES[CENTRE], "; ".join(f"rm -f {DROP}/{name}" for name in files))

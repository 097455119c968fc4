"""File integrity (roles/file_integrity, playbooks/file_integrity.yml) on the converged lab.

On a unit server (its journal goes to the centre): a watched file changed and a program dropped
in /usr/local/sbin make the daily check (Debian's dailyaidecheck.service, the province's check)
fail naming both; its journal line arrives in the centre's collected journal; FIM-003 fails naming
them. Put back, a provisioning run alone refuses to clear it; acknowledged, it accepts what changed
and lists it; the next check is clean. A
package reinstalled (files rewritten, content as dpkg has it) is explained by dpkg, and the
baseline follows without an alarm.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from lab_helpers import MACHINES, compliance, hosts_of, playbook, sudo_on, wait_for

pytestmark = pytest.mark.lab
SERVER = hosts_of("unit_server", "lab-prosecutor")[0]
UNIT = "lab-prosecutor"
CENTRE = hosts_of("centre_server")[0]
STATE = "/var/lib/unitctl/file-integrity/last-check"
TAG = "unitctl-file-integrity"


def last_check() -> dict:
    status, output = sudo_on(MACHINES[SERVER], f"cat {STATE}")
    assert status == 0, output
    return json.loads(output)


def daily_check() -> tuple[int, dict]:
    """Start the daily check's own service, as its timer does, and read what it recorded."""
    status, output = sudo_on(MACHINES[SERVER], "systemctl start dailyaidecheck.service", timeout=300)
    return status, last_check()


def centre_lines(token: str) -> list[str]:
    status, output = sudo_on(MACHINES[CENTRE], f"journalctl -D /var/log/journal/remote -t {TAG} -o cat --no-pager -q "
                                               f"--since=-1h | grep -F -- {token}")
    return output.splitlines() if status == 0 else []


def accept_with_a_provisioning_run(*extra: str):
    run = playbook("playbooks/file_integrity.yml", "--limit", SERVER, *extra, timeout=600)
    assert run.result.returncode == 0, run.result.stdout[-3000:]
    return run


def test_a_change_fails_the_daily_check_reaches_the_centre_and_a_run_accepts_it(converged, tmp_path: Path):
    token = f"unitctl-fim-{uuid.uuid4().hex[:8]}"
    dropped = f"/usr/local/sbin/{token}"
    server = MACHINES[SERVER]
    status, output = sudo_on(server, f"printf '#!/bin/sh\\nexit 0\\n' > {dropped} && chmod 0755 {dropped} && "
                                     f"echo '# {token}' >> /etc/hosts")
    assert status == 0, output
    try:
        status, state = daily_check()
        assert status != 0, "the daily check's service succeeded although files changed"
        assert state["verdict"] == "changed" and state["by"] == "daily check", state
        found = {(entry["kind"], entry["path"]) for entry in state["entries"]}
        assert {("added", dropped), ("changed", "/etc/hosts")} <= found, found
        # the journal line, at the centre: host, verdict, what changed
        line = wait_for(lambda: centre_lines(token), 30, f"the check's line naming {token} at {CENTRE}")[0]
        assert line.startswith(f"file integrity of {SERVER}: changed (daily check;"), line
        assert "changed /etc/hosts" in line, line
        # the compliance check names them
        results = compliance(tmp_path / "fim.json", units=[UNIT], keyword="last_check_found")
        fim3 = next(r for r in results if r["check_id"] == "FIM-003" and r["host"] == SERVER)
        assert fim3["outcome"] == "fail" and dropped in fim3["evidence"] and "/etc/hosts" in fim3["evidence"], fim3
    finally:
        status, output = sudo_on(server, f"rm -f {dropped}; sed -i '/^# {token}$/d' /etc/hosts")
    assert status == 0, output
    # Put back (inode and times still differ): a provisioning run alone does not clear what the daily
    # check reported; the technician has looked, so the run acknowledges it, accepts it and lists it.
    status, output = sudo_on(server, "/usr/local/sbin/unitctl-file-integrity baseline")
    assert status == 3 and '"action": "unacknowledged"' in output and "/etc/hosts" in output, output
    assert last_check()["verdict"] == "changed", "a refused run must leave the daily check's record"
    run = accept_with_a_provisioning_run("-e", "file_integrity_acknowledge=true")
    assert run.recap[SERVER]["changed"] > 0, run.recap
    accepted = re.search(r"List what this run accepted into the baseline\] \*+\nok: \[" + re.escape(SERVER)
                         + r"\] => \{\n(.*?)\n\}", run.result.stdout, re.DOTALL)
    assert accepted and "/etc/hosts" in accepted.group(1), run.result.stdout[-3000:]
    status, state = daily_check()
    assert status == 0 and state["verdict"] == "clean", state


def test_a_package_update_is_explained_and_the_baseline_follows(converged):
    """`apt-get install --reinstall hostname` rewrites /usr/bin/hostname and its links (recorded by
    dpkg as /bin/..., merged /usr): dpkg explains them, the check says `updated`, not `changed`."""
    # From a baseline of the host as it is now (what earlier tests or roles changed is accepted first).
    status, output = sudo_on(MACHINES[SERVER], "/usr/local/sbin/unitctl-file-integrity baseline >/dev/null && "
                                               "apt-get install --reinstall -y -q -o DPkg::Lock::Timeout=120 hostname",
                             timeout=180)
    assert status == 0, output
    status, state = daily_check()
    assert status == 0, state
    assert state["verdict"] == "updated" and "hostname" in state["packages"], state
    assert ("changed", "/usr/bin/hostname") in {(entry["kind"], entry["path"]) for entry in state["entries"]}
    status, state = daily_check()
    assert status == 0 and state["verdict"] == "clean", state

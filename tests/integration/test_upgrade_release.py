"""A provisioned Debian 12 unit server upgraded in place to Debian 13 (playbooks/upgrade_release.yml).

The court's server, provisioned on bookworm, is upgraded as a technician would: its release set to
13 in (a copy of) the inventory, then the playbook limited to it. Afterwards it runs trixie, its
archive share holds the same files with the same owners, its backups at the centre are all still
there with one more taken just before the upgrade, its staff accounts are the same, /etc was kept
in /var/backups, and its compliance checks pass (the playbook's last step).

It installs a whole release through the lab mirror, so it runs only when asked (README, "Tests"):
`UNITLAB_UPGRADE=1 ./scripts/test.sh tests/integration/test_upgrade_release.py`. The lab is left
with the court's server on trixie: the session brings it down at the end, as usual.
"""

from __future__ import annotations

import json
import os

import pytest

from lab_helpers import (MACHINES, copy_lab_inventory, edit_unit_file, failed_tasks, hosts_of, playbook,
                         sudo_on)

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(os.environ.get("UNITLAB_UPGRADE") != "1",
                                 reason="installs a whole Debian release: UNITLAB_UPGRADE=1 runs it")]

SERVER = hosts_of("unit_server", "lab-court")[0]
UNIT = "lab-court"
RESTIC = "/usr/local/sbin/unitctl-restic"
UPGRADE_TIMEOUT_S = 3600


def ok(command: str) -> str:
    status, output = sudo_on(MACHINES[SERVER], command, timeout=300)
    assert status == 0, f"{command}: {output}"
    return output.strip()


def what_must_survive() -> dict:
    """What a technician must find again after the upgrade."""
    return {
        "archive": ok("cd /srv/archive && find . -xdev -type f -printf '%p %U %G %m %s\\n' | sort"),
        # snapshot id -> its day: the retention policy (forget --keep-daily after each backup) keeps
        # the newest snapshot of each day, so one taken earlier today gives way to the upgrade's.
        "snapshots": {snapshot["id"]: snapshot["time"][:10]
                      for snapshot in json.loads(ok(f"{RESTIC} snapshots --json --no-lock"))},
        "staff": ok("getent passwd | awk -F: '$3 >= 1000 && $3 < 60000 {print $1, $3, $6, $7}' | sort"),
    }


def _release_13(data: dict) -> None:
    for host in data["hosts"]:
        if host["name"] == SERVER:
            host["debian_release"] = 13


@pytest.fixture(scope="module")
def upgraded(converged, tmp_path_factory):
    assert ok(". /etc/os-release && echo $VERSION_ID") == "12", f"{SERVER} must start on Debian 12"
    ok("mkdir -p /srv/archive/b1 && echo 'before the upgrade' > /srv/archive/b1/upgrade-proof.txt")
    before = what_must_survive()
    source = copy_lab_inventory(tmp_path_factory.mktemp("upgrade"))
    edit_unit_file(source, UNIT, "hosts.yml", _release_13)
    run = playbook("playbooks/upgrade_release.yml", "--limit", SERVER, inventory=source, timeout=UPGRADE_TIMEOUT_S)
    return before, run, source


def test_the_playbook_upgrades_the_server_and_its_checks_pass(upgraded):
    _before, run, _source = upgraded
    output = run.result.stdout
    assert run.result.returncode == 0, failed_tasks(output) or output[-4000:]
    assert "Run the host's compliance checks" in output
    assert ok(". /etc/os-release && echo $VERSION_ID $VERSION_CODENAME") == "13 trixie"
    print(f"upgrade of {SERVER}: {run.seconds:.0f} s")


def test_nothing_was_lost(upgraded):
    before, _run, _source = upgraded
    after = what_must_survive()
    assert after["archive"] == before["archive"], "the archive share's files or owners changed"
    taken = set(after["snapshots"]) - set(before["snapshots"])
    assert taken, "no backup was taken before the upgrade"
    # The upgrade's backup holds what the share held just before (the file written then).
    assert any("/srv/archive/b1/upgrade-proof.txt" in ok(f"{RESTIC} ls --no-lock {snapshot} /srv/archive/b1")
               for snapshot in taken), "the backup taken before the upgrade lacks the share's newest file"
    days_taken = {after["snapshots"][snapshot] for snapshot in taken}
    lost = {snapshot: day for snapshot, day in before["snapshots"].items()
            if snapshot not in after["snapshots"] and day not in days_taken}
    assert not lost, f"snapshots lost (not replaced by a newer one of the same day): {lost}"
    assert after["staff"] == before["staff"]
    kept = ok(f"ls /var/backups/ | grep -c '^unitctl-upgrade-{SERVER}-debian12-to-13-'")
    assert kept == "2", "the copy of /etc and the package selections are not both in /var/backups"


def test_a_second_run_changes_nothing(upgraded):
    _before, _run, source = upgraded
    again = playbook("playbooks/upgrade_release.yml", "--limit", SERVER, inventory=source,
                     timeout=UPGRADE_TIMEOUT_S)
    assert again.result.returncode == 0, failed_tasks(again.result.stdout)
    assert again.recap[SERVER]["changed"] == 0, again.result.stdout[-4000:]

"""Security updates and accounting on the converged lab (roles security_updates, accounting).

A security update made pending (tzdata taken back to the main suite's version, whose -security
version is newer) is recorded by APT's own hook at the next `apt-get update`; backdated past the
province's limit it fails UPD-001 by name; the role upgrades it and names it (old -> new), and
UPD-001 passes again. (Check mode's "would upgrade" list is the same module's, before it acts:
tests/unit/test_security_updates.py, and the convergence test's check run on bare hosts.) Process accounting: the
lab's containers lack CAP_SYS_PACCT, so the kernel refuses acct() there: acct.service is skipped
by its condition (never failed) and ACCT-001 is not applicable.
"""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import pytest

from lab_helpers import MACHINES, compliance, hosts_of, not_failing_when_bare, playbook, sudo_on

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parents[2]
SERVER = hosts_of("unit_server", "lab-prosecutor")[0]
WORKSTATION = hosts_of("cms_client", "lab-prosecutor")[0]
# The pending-update test needs a package whose main-suite version is older than the one installed
# from the security suite: the court's Debian 12 server has one (tzdata); Debian 13's main suite
# was refreshed by a recent point release, so trixie had none such when this was written.
PENDING_UNIT = "lab-court"
PENDING_SERVER = hosts_of("unit_server", PENDING_UNIT)[0]
CHECK_PREFIXES = ("UPD-", "ACCT-")
PACKAGE = "tzdata"  # small, arch all, with a main-suite version older than its -security one
RECORD = "/var/lib/unitctl/security-updates/pending.json"
QUIET = "DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get -q -y -o Dpkg::Options::=--force-confold"


@pytest.mark.parametrize("target", [SERVER, WORKSTATION])
def test_checks_failed_on_the_bare_host(converged, target):
    # ACCT-* do not apply to a workstation; every other check must fail on a bare host.
    not_failing = not_failing_when_bare(converged, target, CHECK_PREFIXES)
    assert not not_failing, f"checks that did not fail on a bare host: {not_failing}"


def root(command: str, server: str = SERVER) -> str:
    status, output = sudo_on(MACHINES[server], command, timeout=300)
    assert status == 0, f"`{command}` failed ({status}): {output[-1500:]}"
    return output


def versions() -> tuple[str, str]:
    """(installed, the main suite's version) of PACKAGE on the pending-update server."""
    installed = root(f"dpkg-query -W -f '${{Version}}' {PACKAGE}", PENDING_SERVER).strip()
    main = [line.split("|")[1].strip() for line in root(f"apt-cache madison {PACKAGE}", PENDING_SERVER).splitlines()
            if "/debian " in line and "-security" not in line and "-updates" not in line]
    return installed, main[0]


def role_play(tmp_path) -> tuple[str, dict]:
    play = tmp_path / "security-updates.yml"
    play.write_text(json.dumps([{"name": "Security updates", "hosts": PENDING_SERVER, "gather_facts": False,
                                 "become": True, "roles": [{"role": "security_updates"}]}]))
    run = playbook(str(play))
    assert run.result.returncode == 0, run.result.stdout[-3000:]
    return run.result.stdout, run.recap[PENDING_SERVER]


def upd_001(tmp_path) -> dict:
    results = compliance(tmp_path / f"upd-{time.monotonic_ns()}.json", units=[PENDING_UNIT],
                         keyword="test_no_security_update_overdue")
    return next(r for r in results if r["host"] == PENDING_SERVER and r["check_id"] == "UPD-001")


def test_a_pending_security_update_is_named_then_upgraded(converged, tmp_path):
    newest, older = versions()
    assert older != newest, f"{PACKAGE}: no older version in the main suite to make an update pending"
    try:
        root(f"{QUIET} install --allow-downgrades {PACKAGE}={shlex.quote(older)}", PENDING_SERVER)
        # APT's Post-Invoke-Success hook records it at the next refresh of the lists...
        root("apt-get -q update", PENDING_SERVER)
        record = json.loads(root(f"cat {RECORD}", PENDING_SERVER))
        entry = record["packages"][f"{PACKAGE}:all"]
        assert entry["installed"] == older and entry["candidate"] == newest
        assert abs(entry["first_seen"] - record["updated"]) < 5
        # ... as first seen now: within the policy. Backdated eight days, it is overdue.
        root(f"python3 -c \"import json; p='{RECORD}'; r=json.load(open(p)); "
             f"r['packages']['{PACKAGE}:all']['first_seen'] -= 8 * 86400; json.dump(r, open(p, 'w'))\"", PENDING_SERVER)
        result = upd_001(tmp_path)
        assert result["outcome"] == "fail", result
        assert f"{PACKAGE} (all) {older} -> {newest}, pending since" in result["evidence"], result["evidence"]
        # The role upgrades it and says so; the check passes.
        stdout, recap = role_play(tmp_path)
        assert f"upgraded: {PACKAGE} {older} -> {newest}" in stdout, stdout[-2000:]
        assert recap["changed"] >= 1
        assert versions()[0] == newest
        assert upd_001(tmp_path)["outcome"] == "pass"
    finally:  # put back: the newest version, and a record that knows nothing old
        root(f"{QUIET} install {PACKAGE} && python3 /usr/local/lib/unitctl/security_upgrade.py --record {RECORD}",
             PENDING_SERVER)


def test_process_accounting_is_skipped_not_failed_where_the_kernel_refuses_it(converged):
    # acct() from inside the container (a service of its own systemd, its capability bounding set).
    probe = ("systemd-run --quiet --wait --pipe --collect python3 -c \"import ctypes, os; "
             "libc = ctypes.CDLL(None, use_errno=True); r = libc.acct(b'/var/log/account/pacct'); "
             "print(r, os.strerror(ctypes.get_errno())); r == 0 and libc.acct(None)\"")
    refused = root(probe).strip()
    state = root("systemctl show acct.service -p ActiveState -p ConditionResult -p UnitFileState; "
                 "systemctl --failed --no-legend --plain")
    if refused.startswith("0 "):
        pytest.skip("this lab grants CAP_SYS_PACCT: ACCT-001 proves accounting itself")
    assert refused == "-1 Operation not permitted", refused
    assert "ConditionResult=no" in state and "ActiveState=inactive" in state and "UnitFileState=enabled" in state, state
    assert "acct" not in state.split("UnitFileState=enabled", 1)[1], f"acct.service failed: {state}"


def test_a_package_removed_by_hand_is_installed_again_though_the_run_skips_installed_ones(converged, tmp_path):
    """A run reads the installed packages once (playbooks/connect.yml) and each role skips its `apt`
    step when all it names is there. The list is read afresh every run, never from Ansible's fact
    cache: sysstat removed by hand is installed again by the next run, which the run after skips."""
    play = tmp_path / "accounting.yml"
    play.write_text(json.dumps([
        {"import_playbook": str(ROOT / "playbooks" / "connect.yml")},
        {"name": "Accounting", "hosts": SERVER, "gather_facts": False, "become": True, "roles": [{"role": "accounting"}]},
    ]))
    install = "accounting : Install acct and sysstat"

    def install_outcome(output: str) -> str:
        """The first line after the install task's banner: "changed: [host]", "skipping: [host]"..."""
        return output.split(f"TASK [{install}]")[1].split("\n", 1)[1].split("TASK [")[0].strip()

    root(f"{QUIET} remove sysstat")
    assert "ii  sysstat" not in root("dpkg -l sysstat || true")
    again = playbook(str(play), "--limit", SERVER)
    assert again.result.returncode == 0, again.result.stdout[-3000:]
    assert f"TASK [{install}]" in again.result.stdout
    assert install_outcome(again.result.stdout).startswith("changed:"), again.result.stdout[-3000:]
    assert "ii  sysstat" in root("dpkg -l sysstat")
    quiet = playbook(str(play), "--limit", SERVER)
    assert quiet.result.returncode == 0 and quiet.recap[SERVER]["changed"] == 0, quiet.result.stdout[-3000:]
    assert install_outcome(quiet.result.stdout).startswith("skipping:"), quiet.result.stdout[-3000:]

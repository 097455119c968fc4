"""Staff access and the audit trail on the lab, by real SSH (playbooks/staff.yml, roles/staff_accounts,
the unitctl_audit callback).

The committed roster holds public keys only. The test copies the lab inventory into a temporary
folder, makes a key pair for each person there (the private keys never leave the temporary folder),
adds two test people to the court (one who will leave, one who will move to the prosecutor's
office) and runs the playbook with `-i` on that copy; the committed inventory is never edited.
On the converged lab province, with the copy's roster: converge; a second run changes nothing;
--check --diff is clean; logins as the matrix
says (court staff in at the court, refused at the prosecutor's; a CMS operator without sudo);
then the roster changes (a departure, a move): the checks ACC-003/ACC-004 fail before the run and
pass after it; the departed person is refused everywhere, their home archived; the mover works at
the new unit only; the run's audit record is found at the centre's collector; a wrong role input
stops the role at its start. At the end the hosts are put back to the committed roster.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import paramiko
import pytest
import yaml


pytestmark = pytest.mark.lab

from lab_helpers import MACHINES, address, assert_clean, copy_lab_inventory, environment, hosts_of, ssh_client  # noqa: E402
from lab_helpers import as_root as lab_as_root  # noqa: E402
from lab_helpers import playbook as lab_playbook  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
STAFF_PLAYBOOK = str(ROOT / "playbooks" / "staff.yml")
HOSTS = {name: address(name) for name in ("court-srv", "pros-srv", "court-ws1")}
CENTRE = address(hosts_of("centre_server")[0])
LIMIT = ",".join(HOSTS)
LEAVER, MOVER = "t.leaver", "t.mover"
AUDIT_LINE = re.compile(r"audit record (?P<path>\S+\.json); sent to (?P<to>\S+)")


@pytest.fixture(scope="module")
def lab(converged):
    """The lab province converged once with the committed rosters (conftest's `converged`)."""


def playbook(inventory: Path | None, *args: str, playbooks=(STAFF_PLAYBOOK,)) -> tuple[subprocess.CompletedProcess, dict]:
    """lab_helpers.playbook, as this file's tests read it: the process and its recap."""
    run = lab_playbook(*playbooks, *args, inventory=inventory, timeout=1200)
    return run.result, run.recap


def connect(address: str, user: str, key: Path) -> paramiko.SSHClient:
    return ssh_client(address, user=user, key=key)


def login(address: str, user: str, key: Path, command: str = "id -un") -> tuple[int, str] | None:
    """Log in as a staff member with their key and run a command; None when the login is refused."""
    try:
        client = connect(address, user, key)
    except paramiko.AuthenticationException:
        return None
    try:
        _, stdout, stderr = client.exec_command(command, timeout=30)
        output = stdout.read().decode() + stderr.read().decode()
        return stdout.channel.recv_exit_status(), output.strip()
    finally:
        client.close()


def as_root(address: str, command: str) -> tuple[int, str]:
    """A command as root on a lab host (lab_helpers.as_root: sudo when provisioned, root when bare)."""
    machine = next(machine for machine in MACHINES.values() if machine.address == address)
    return lab_as_root(machine, command, timeout=60)


def keypair(folder: Path, user: str) -> tuple[Path, str]:
    key = folder / user
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{user}@test", "-f", str(key)],
                       check=True, capture_output=True)
    return key, Path(f"{key}.pub").read_text().strip()


class Province:
    """A copy of the lab inventory in a temporary folder, whose rosters the test edits."""

    def __init__(self, folder: Path):
        self.root = folder / "inventory"
        self.keys = folder / "keys"
        self.keys.mkdir(parents=True)
        self.source = copy_lab_inventory(folder)
        self.key: dict[str, Path] = {}

    def staff_file(self, unit: str) -> Path:
        return self.root / "lab" / "units" / unit / "staff.yml"

    def roster(self, unit: str) -> list[dict]:
        return yaml.safe_load(self.staff_file(unit).read_text(encoding="utf-8"))["staff"]

    def write(self, unit: str, roster: list[dict]) -> None:
        for person in roster:
            self.key[person["username"]], person["ssh_key"] = keypair(self.keys, person["username"])
        self.staff_file(unit).write_text(yaml.safe_dump({"staff": roster}, allow_unicode=True, sort_keys=False),
                                         encoding="utf-8")


def extra_person(username: str, role: str) -> dict:
    return {"username": username, "name_fa": "آزمون", "name_en": f"Test {role}", "role": role, "area": "tests",
            "ssh_key": "TODO", "appointment": {"number": "T/1", "date": "1400/01/01", "issued_by": "unit_head"}}


@pytest.fixture(scope="module")
def province(lab, tmp_path_factory):
    copy = Province(tmp_path_factory.mktemp("access"))
    copy.write("lab-court", copy.roster("lab-court") + [extra_person(LEAVER, "sysadmin"),
                                                        extra_person(MOVER, "network_technician")])
    copy.write("lab-prosecutor", copy.roster("lab-prosecutor"))
    yield copy
    # Back to the committed roster (the test people stay locked, as departed staff do).
    playbook(None, "--limit", LIMIT)


def compliance(province: Province, units: list[str], names: str, tmp_path: Path) -> list[dict]:
    output = tmp_path / f"compliance-{time.monotonic_ns()}.json"
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "compliance" / "test_access.py"),
            "--inventory", str(province.source), "--compliance-json", str(output), "-k", names]
    for unit in units:
        args += ["--unit", unit]
    subprocess.run(args, cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=600)
    return [r for r in json.loads(output.read_text())["results"] if r["host"] in HOSTS]


def converge(province: Province) -> subprocess.CompletedProcess:
    result, recap = playbook(province.source, "--limit", LIMIT)
    assert_clean(result, recap, HOSTS, changed_zero=False)
    return result


def other_runs() -> list[str]:
    """ansible-playbook runs of other lab users that may touch our hosts (servers.yml, for one, runs this
    role with the committed roster and puts the test's people back)."""
    table = subprocess.run(["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True).stdout.splitlines()
    rows = [line.split(None, 2) for line in table if len(line.split(None, 2)) == 3]
    parents = {pid: ppid for pid, ppid, _ in rows}
    mine = str(os.getpid())

    def ours(pid: str) -> bool:
        while pid in parents and pid not in ("0", "1"):
            if pid == mine:
                return True
            pid = parents[pid]
        return False

    watched = [*HOSTS, "unit_lab", "unit_servers", "cms_clients", "linux_hosts"]
    return [args for pid, _, args in rows if "ansible-playbook" in args and "python" in args and not ours(pid)
            and (("--limit" not in args and " -l " not in args) or any(name in args for name in watched))]


def settled(province: Province, look, attempts: int = 3) -> None:
    """Wait until no other run touches our hosts, converge, and look at once; the lab is shared, so a
    look spoiled by another user's run in between is tried again (the reasons are all reported)."""
    failures = []
    for _ in range(attempts):
        deadline = time.monotonic() + 900
        while other_runs() and time.monotonic() < deadline:
            time.sleep(10)
        converge(province)
        try:
            look()
            return
        except AssertionError as error:
            failures.append(str(error)[:3000])
    pytest.fail(f"failed {attempts} times:\n" + "\n---\n".join(failures))


def test_converge_then_idempotent_and_check_clean(province):
    """--check --diff runs clean before anything is made (fresh hosts when this file runs first), then:
    converge, a second run changes nothing, --check --diff is clean."""
    assert_clean(*playbook(province.source, "--limit", LIMIT, "--check", "--diff"), HOSTS, changed_zero=False)

    def look():
        assert_clean(*playbook(province.source, "--limit", LIMIT), HOSTS, changed_zero=True)
        assert_clean(*playbook(province.source, "--limit", LIMIT, "--check", "--diff"), HOSTS, changed_zero=True)

    settled(province, look)


def test_court_staff_log_in_at_the_court_only(province):
    def look():
        key = province.key["m.karimi"]
        assert login(HOSTS["court-srv"], "m.karimi", key) == (0, "m.karimi")
        assert (login(HOSTS["court-srv"], "m.karimi", key, "sudo -n true && echo root-ok") or (1, ""))[1].endswith("root-ok")
        assert login(HOSTS["pros-srv"], "m.karimi", key) is None, "a court supervisor logged in at the prosecutor's"
        assert login(HOSTS["pros-srv"], "r.hosseini", province.key["r.hosseini"]) == (0, "r.hosseini")
        assert login(HOSTS["court-srv"], "r.hosseini", province.key["r.hosseini"]) is None
        for person in (LEAVER, MOVER):  # so that their refusal later means something
            assert login(HOSTS["court-srv"], person, province.key[person]) == (0, person)

    settled(province, look)


def test_cms_operator_has_no_sudo(province):
    """z.ahmadi (CMS operator) logs in at a workstation's console, not over SSH (the workstations admit
    only technicians): sudo is tried as z.ahmadi through su, by an SSH session of the automation account."""
    def look():
        key = province.key["z.ahmadi"]
        status, output = as_root(HOSTS["court-ws1"], "su -s /bin/sh z.ahmadi -c 'id -un; sudo -n true; echo rc=$?'")
        assert output.splitlines()[0] == "z.ahmadi" and "rc=1" in output.splitlines(), output
        assert "not allowed to run sudo" in as_root(HOSTS["court-ws1"], "sudo -l -U z.ahmadi")[1]
        assert "z.ahmadi" not in as_root(HOSTS["court-ws1"], "cat /etc/sudoers.d/unitctl-staff")[1]
        assert login(HOSTS["court-srv"], "z.ahmadi", key) is None, "a CMS operator has a shell on the unit server"
        status, output = login(HOSTS["court-srv"], "m.karimi", province.key["m.karimi"], "sudo -n -l -U z.ahmadi") or (1, "")
        assert "not allowed to run sudo" in output, output

    settled(province, look)


def test_departure_and_move(province, tmp_path):
    court = [p for p in province.roster("lab-court") if p["username"] not in (LEAVER, MOVER)]
    mover = next(p for p in province.roster("lab-court") if p["username"] == MOVER)
    settled(province, lambda: None)  # the test's first roster in place
    # The leaver is still logged in when they depart: that session must end with the departure.
    session = connect(HOSTS["court-srv"], LEAVER, province.key[LEAVER])
    channel = session.get_transport().open_session()
    channel.exec_command("sleep 3600")
    province.write("lab-court", court)
    province.write("lab-prosecutor", province.roster("lab-prosecutor") + [mover])
    # Before the run the checks see the open accounts and fail...
    names = "test_no_account_of_another_unit or test_departed_staff_locked"
    before = compliance(province, ["lab-court"], names, tmp_path)
    assert {r["outcome"] for r in before if r["host"] == "court-srv"} == {"fail"}, before

    def look():
        # ...the departed member is refused everywhere, their home archived and kept...
        for host_address in HOSTS.values():
            assert login(host_address, LEAVER, province.key[LEAVER]) is None, f"{LEAVER} still logs in at {host_address}"
        assert channel.exit_status_ready() or not session.get_transport().is_active(), \
            f"the session {LEAVER} opened before departing is still open"
        status, archives = as_root(HOSTS["court-srv"], f"ls /var/backups/departed-staff/ | grep '^{LEAVER}-'; "
                                                       f"test -d /home/{LEAVER} && echo home-kept")
        assert status == 0 and re.search(rf"^{re.escape(LEAVER)}-\d{{8}}-\d{{6}}\.tar\.gz$", archives, re.M), archives
        assert "home-kept" in archives
        status, listing = as_root(HOSTS["court-srv"], f"tar -tzf $(ls -1 /var/backups/departed-staff/{LEAVER}-*.tar.gz"
                                                      " | tail -1) | head -5")
        assert f"{LEAVER}/" in listing, listing
        # ...the mover works at the new unit and not at the old one...
        assert login(HOSTS["pros-srv"], MOVER, province.key[MOVER]) == (0, MOVER)
        assert login(HOSTS["court-srv"], MOVER, province.key[MOVER]) is None
        # ...and every access check passes on these hosts.
        after = compliance(province, ["lab-court", "lab-prosecutor"], "test_access", tmp_path)
        failed = [r for r in after if r["outcome"] != "pass"]
        assert after and not failed, failed
        # A second run does not archive the home again.
        listing = as_root(HOSTS["court-srv"], "ls /var/backups/departed-staff/")[1]
        converge(province)
        assert as_root(HOSTS["court-srv"], "ls /var/backups/departed-staff/")[1] == listing

    try:
        settled(province, look)
    finally:
        session.close()


def test_audit_record_reaches_the_centre(province):
    # The centre's log collector runs since the province converged (playbooks/servers.yml).
    result = converge(province)
    match = AUDIT_LINE.search(result.stdout)
    assert match and match["to"] == f"{CENTRE}:514", result.stdout[-2000:]
    record = json.loads((ROOT / match["path"]).read_text())
    assert record["playbooks"] == ["playbooks/staff.yml"] and set(record["hosts"]) == set(HOSTS)
    assert record["units"] == ["lab-court", "lab-prosecutor"] and record["check_mode"] is False
    assert record["started"]["jalali"] and record["toolkit"]["commit"]
    for _ in range(10):
        status, found = as_root(CENTRE, f"grep -rh 'unitctl-audit: .*{record['run_id']}' /var/log/units/ || true")
        if found:
            break
        time.sleep(1)
    assert found, f"record {record['run_id']} not found at the centre"
    received = json.loads(found.splitlines()[0].split("unitctl-audit: ", 1)[1])
    assert received["hosts"]["court-srv"] == record["hosts"]["court-srv"]
    assert received["user"] == record["user"]


def test_wrong_input_stops_the_role_at_its_start(province):
    result, recap = playbook(province.source, "--limit", "court-srv", "-e",
                             json.dumps({"staff_accounts_host_type": "printer"}))
    assert result.returncode != 0
    assert "staff_accounts_host_type" in result.stdout and "printer" in result.stdout
    assert recap["court-srv"]["changed"] == 0

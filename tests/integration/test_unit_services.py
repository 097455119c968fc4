"""The unit's own services on a lab unit server, for real (playbooks/servers.yml, centre.yml).

In order: the DNS/ARC/BAK/PWR checks fail on a fresh unit server (pros-srv, while nobody has
provisioned it); court-srv and centre-srv converge; a second run changes nothing; `--check --diff`
is clean; the checks pass; then end to end:
- a CMS workstation (court-ws1) resolves unit names through court-srv, and a centre name that
  court-srv forwards to the province resolver (centre-srv);
- a file put on the archive share by an authorised user is read back byte for byte by another,
  and an authenticated user outside the archive groups is refused;
- a backup run makes a new snapshot in the centre's repository, and a restore gives
  byte-identical files;
- the dummy UPS switched to on-battery, then low-battery, is seen by upsmon (the NOTIFYCMD log)
  and triggers the shutdown policy (the lab's marker file, nothing powered off); then back to OL;
- a role input of the wrong type, or a missing one, stops the role at its start, nothing changed.

Set UNITLAB_ASSUME_UP=1 to use a lab that is already up.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import paramiko
import pytest

from unitctl import labsecrets, labservices

pytestmark = pytest.mark.lab

from lab_helpers import assert_clean, environment, recap_of, unitctl  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "compliance"))
from unit_facts import dns_query_command  # noqa: E402

PLAYBOOKS = [str(ROOT / "playbooks" / "servers.yml"), str(ROOT / "playbooks" / "centre.yml")]
LIMIT = "court-srv,centre-srv"
SERVER, CENTRE, WORKSTATION, FRESH = "10.213.20.10", "10.213.10.10", "10.213.21.11", "10.213.30.10"
AUTOMATION_USER = "unitctl"
MY_CHECKS = "test_dns_dhcp.py or test_archive.py or test_backup.py or test_power.py"
PREFIXES = ("DNS-", "ARC-", "BAK-", "PWR-")
FIGURES: dict[str, float] = {}


@pytest.fixture(scope="module")
def lab(request):
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    if os.environ.get("UNITLAB_ASSUME_UP") != "1":
        request.getfixturevalue("lab_up")
    labservices.ensure_services_vault()  # the lab's Samba, backup and UPS secrets (vault file)
    yield
    print("\nunit services figures:", json.dumps({k: round(v, 1) for k, v in FIGURES.items()}))


def playbook(*args: str, playbooks=PLAYBOOKS, timeout: float = 900):
    started = time.monotonic()
    result = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), *playbooks, *args],
                            cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=timeout)
    recap = recap_of(result.stdout)
    return result, recap, time.monotonic() - started


def connect(address: str, user: str) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.load_host_keys(str(labsecrets.known_hosts_path()))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(address, username=user, key_filename=str(labsecrets.lab_key_path()), timeout=10,
                   allow_agent=False, look_for_keys=False)
    return client


def login_works(address: str, user: str) -> bool:
    try:
        connect(address, user).close()
        return True
    except (paramiko.SSHException, OSError):
        return False


def run(address: str, command: str, user: str = AUTOMATION_USER, timeout: float = 120,
        stdin: bytes | None = None) -> tuple[int, str]:
    """A command as root on a lab host: through the automation account's sudo, or as root."""
    client = connect(address, user)
    try:
        wrapped = command if user == "root" else "sudo -n /bin/sh -c " + shlex.quote(command)
        channel_in, stdout, stderr = client.exec_command(wrapped, timeout=timeout)
        if stdin is not None:
            channel_in.write(stdin)
            channel_in.channel.shutdown_write()
        output = stdout.read().decode(errors="replace") + stderr.read().decode(errors="replace")
        return stdout.channel.recv_exit_status(), output.strip()
    finally:
        client.close()


def ok(address: str, command: str, **kwargs) -> str:
    status, output = run(address, command, **kwargs)
    assert status == 0, f"{command!r} on {address} failed ({status}): {output[-2000:]}"
    return output


def workstation(command: str, **kwargs) -> tuple[int, str]:
    """On court-ws1: as root while it is fresh, through the automation account once provisioned."""
    user = "root" if login_works(WORKSTATION, "root") else AUTOMATION_USER
    return run(WORKSTATION, command, user=user, **kwargs)


def compliance(tmp_path: Path, unit: str, user: str) -> list[dict]:
    output = tmp_path / f"compliance-{unit}-{user}.json"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "compliance"),
                    "--ssh-user", user, "--compliance-json", str(output), "-k", MY_CHECKS, "--unit", unit,
                    "--unit", "lab-centre"],
                   cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=600)
    return [r for r in json.loads(output.read_text())["results"] if r["check_id"].startswith(PREFIXES)]


def wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"not seen within {seconds:.0f} s: {what}")


# --- fresh host ----------------------------------------------------------------------------------

def test_checks_fail_on_a_fresh_unit_server(lab, tmp_path):
    if not (login_works(FRESH, "root") and not login_works(FRESH, AUTOMATION_USER)):
        pytest.skip("pros-srv was already provisioned in this lab")
    results = [r for r in compliance(tmp_path, "lab-prosecutor", "root") if r["host"] == "pros-srv"]
    outcomes: dict[str, set] = {}
    for result in results:
        if result["outcome"] == "not_applicable":
            continue
        outcomes.setdefault(result["check_id"], set()).add(result["outcome"])
    assert outcomes, "no check ran on pros-srv"
    not_failing = {check: states for check, states in outcomes.items() if "fail" not in states}
    evidence = {r["check_id"]: r["evidence"][-300:] for r in results if r["check_id"] in not_failing}
    assert not not_failing, f"checks that did not fail on a fresh unit server: {not_failing}\n{evidence}"


# --- converge, idempotence, check mode -----------------------------------------------------------

def test_converge_with_unitctl_provision(lab):
    """The technician's command: it prints the plain ansible-playbook command, then runs it."""
    started = time.monotonic()
    result = unitctl("provision", "lab-court", "lab-centre", "--playbook", "playbooks/servers.yml",
                     "--playbook", "playbooks/centre.yml")
    FIGURES["converge_s"] = time.monotonic() - started
    assert result.stdout.startswith("running: ansible-playbook -i inventory/lab.unitctl.yml playbooks/servers.yml "
                                    "playbooks/centre.yml --limit unit_lab_court:unit_lab_centre\n"), result.stdout[:500]
    recap = recap_of(result.stdout)
    assert_clean(result, recap, LIMIT, changed_zero=False)


def test_second_run_changes_nothing(lab):
    result, recap, seconds = playbook("--limit", LIMIT)
    FIGURES["rerun_s"] = seconds
    assert_clean(result, recap, LIMIT, changed_zero=True)


def test_check_mode_is_clean_on_provisioned_hosts(lab):
    result, recap, seconds = playbook("--limit", LIMIT, "--check", "--diff")
    FIGURES["check_diff_s"] = seconds
    assert_clean(result, recap, LIMIT, changed_zero=True)


def test_checks_pass_on_provisioned_hosts(lab, tmp_path):
    results = [r for r in compliance(tmp_path, "lab-court", AUTOMATION_USER) if r["host"] in ("court-srv", "centre-srv")]
    assert results, "no check ran"
    # This file provisions the court's server only: the centre rightly reports that the
    # prosecutor's office has no backup key yet (BAK-006), and nothing else may fail.
    missing_unit = [r for r in results if r["check_id"] == "BAK-006" and r["host"] == "centre-srv"
                    and r["outcome"] == "fail" and "lab-prosecutor" in r["evidence"]
                    and "lab-court" not in r["evidence"]]
    bad = [f"{r['check_id']}@{r['host']}: {r['outcome']} {r['evidence'][:300]}" for r in results
           if r["outcome"] not in ("pass", "not_applicable") and r not in missing_unit]
    assert not bad, "\n".join(bad)
    ran = {r["check_id"] for r in results if r["outcome"] == "pass"}
    for prefix in PREFIXES:
        assert any(check.startswith(prefix) for check in ran), f"no {prefix} check passed"


# --- end to end ----------------------------------------------------------------------------------

def test_workstation_resolves_names_through_the_unit_server(lab):
    for name, address in (("court-srv.court.lab.internal", SERVER), ("court-ws2.court.lab.internal", "10.213.21.12"),
                          ("centre-srv.centre.lab.internal", CENTRE)):  # the last one forwarded to the centre
        status, output = workstation(dns_query_command(SERVER, name, "A"))
        assert status == 0 and output.split() == [address], f"{name} via {SERVER}: {output!r} ({status})"
    status, _ = workstation(dns_query_command(SERVER, "nosuchhost.court.lab.internal", "A"))
    assert status == 3, "an unknown name in the unit's zone must get an error answer, not a guess"


def _smb(user: str, password: str, commands: str) -> tuple[int, str]:
    auth = f"/root/.smb-{uuid.uuid4().hex[:8]}"
    script = (f"umask 077; printf 'username = %s\\npassword = %s\\n' {shlex.quote(user)} {shlex.quote(password)} > {auth}; "
              f"smbclient //{SERVER}/archive -A {auth} -m SMB3 -c {shlex.quote(commands)}; rc=$?; rm -f {auth}; exit $rc")
    return workstation(script)


def _smbclient_on_the_workstation() -> None:
    status, output = workstation("command -v smbclient || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
                                 "--no-install-recommends smbclient >/tmp/apt-smbclient.log 2>&1; }", timeout=600)
    assert status == 0, output


def test_archive_share_for_authorised_users_only(lab):
    _smbclient_on_the_workstation()
    passwords = labservices.load_secrets()["vault_archive_share_passwords"]
    name = f"scan-{uuid.uuid4().hex[:8]}.pdf"
    workstation(f"head -c 200000 /dev/urandom > /tmp/{name}")
    _, local_sum = workstation(f"sha256sum /tmp/{name}")
    # z.ahmadi (CMS operator: writes) files the scan; m.karimi (supervisor) reads it back.
    status, output = _smb("z.ahmadi", passwords["z.ahmadi"], f"cd b1; put /tmp/{name} {name}")
    assert status == 0, f"an authorised writer could not put a file: {output}"
    status, output = _smb("m.karimi", passwords["m.karimi"], f"cd b1; get {name} /tmp/back-{name}")
    assert status == 0, f"an authorised user could not read it back: {output}"
    _, back_sum = workstation(f"sha256sum /tmp/back-{name}")
    assert back_sum.split()[0] == local_sum.split()[0], "the file read back differs"
    # A wrong password, and a real account outside the archive groups, are refused.
    status, output = _smb("z.ahmadi", "not-the-password", "ls")
    assert status != 0 and "NT_STATUS_LOGON_FAILURE" in output, output
    visitor, visitor_password = f"visitor{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    ok(SERVER, f"useradd --no-create-home {visitor}")
    try:
        ok(SERVER, f"smbpasswd -s -a {visitor}", stdin=f"{visitor_password}\n{visitor_password}\n".encode())
        status, output = _smb(visitor, visitor_password, f"cd b1; get {name} /tmp/stolen-{name}")
        assert status != 0 and "NT_STATUS_ACCESS_DENIED" in output, f"an unauthorised user got in: {output}"
        assert workstation(f"test -e /tmp/stolen-{name}")[0] != 0
    finally:
        run(SERVER, f"smbpasswd -x {visitor}; userdel {visitor}")
    # The file is on the server, in the branch folder, owned by its writer.
    assert ok(SERVER, f"stat -c '%U %G' /srv/archive/b1/{name}") == "z.ahmadi archive-writers"


def test_a_former_members_samba_account_is_disabled_and_kept(lab):
    """Someone with a Samba account whom the roster no longer puts in the archive (departed, moved,
    another role): the next run disables the account, keeps it, and their password opens nothing."""
    _smbclient_on_the_workstation()
    former, password = f"former{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    ok(SERVER, f"useradd --no-create-home {former}")
    try:
        ok(SERVER, f"smbpasswd -s -a {former}", stdin=f"{password}\n{password}\n".encode())
        result, recap, _ = playbook("--limit", "court-srv")
        assert_clean(result, recap, "court-srv", changed_zero=False)
        flags = ok(SERVER, f"pdbedit --list --smbpasswd-style | grep '^{former}:' | cut -d: -f5")
        assert "D" in flags, f"{former}'s Samba account is not disabled: {flags}"
        status, output = _smb(former, password, "ls")
        assert status != 0 and ("NT_STATUS_ACCOUNT_DISABLED" in output or "NT_STATUS_LOGON_FAILURE" in output), output
    finally:
        run(SERVER, f"smbpasswd -x {former}; userdel {former}")


def test_backup_snapshot_at_centre_and_identical_restore(lab):
    marker = f"/srv/archive/b2/backup-proof-{uuid.uuid4().hex[:8]}.bin"
    ok(SERVER, f"head -c 300000 /dev/urandom > {marker} && chgrp archive-writers {marker}")
    before = json.loads(ok(SERVER, "/usr/local/sbin/unitctl-restic snapshots --json --no-lock"))
    started = time.monotonic()
    ok(SERVER, "systemctl start unitctl-backup.service", timeout=300)
    FIGURES["backup_run_s"] = time.monotonic() - started
    after = json.loads(ok(SERVER, "/usr/local/sbin/unitctl-restic snapshots --json --no-lock"))
    new = [s for s in after if s["id"] not in {b["id"] for b in before}]
    assert len(new) == 1, f"one new snapshot expected, got {len(new)}"
    assert set(new[0]["paths"]) == {"/srv/archive", "/etc"}, new[0]["paths"]
    # The snapshot is stored at the centre, in the unit's repository.
    stored = ok(CENTRE, "ls /srv/backup/lab-court/restic/snapshots")
    assert new[0]["id"] in stored.split(), "the snapshot is not in the centre's repository"
    target = f"/tmp/restore-{uuid.uuid4().hex[:8]}"
    try:
        ok(SERVER, f"/usr/local/sbin/unitctl-restic restore {new[0]['id']} --target {target} "
                   f"--include {marker} --include /etc/dnsmasq.conf --include /etc/samba/smb.conf", timeout=300)
        for path in (marker, "/etc/dnsmasq.conf", "/etc/samba/smb.conf"):
            original, restored = ok(SERVER, f"sha256sum {path} {target}{path}").splitlines()
            assert original.split()[0] == restored.split()[0], f"{path} restored differently"
    finally:
        run(SERVER, f"rm -rf {target}")
    # The retention policy ran after the backup (the journal of the run shows it).
    journal = ok(SERVER, "journalctl -u unitctl-backup.service -n 200 --no-pager -o cat")
    assert "snapshots" in journal and ("keep" in journal or "remove" in journal), journal[-1500:]


def test_ups_on_battery_then_low_battery_triggers_the_policy(lab):
    events, marker, status_file = "/var/log/nut-events.log", "/var/lib/unitctl/power/shutdown-requested", "/etc/nut/dummy.dev"
    ok(SERVER, f"rm -f {marker}")
    start_line = int(ok(SERVER, f"wc -l < {events}"))

    def new_events() -> str:
        return ok(SERVER, f"tail -n +{start_line + 1} {events}")

    original = ok(SERVER, f"cat {status_file}")
    try:
        ok(SERVER, f"sed -i 's/^ups.status:.*/ups.status: OB/' {status_file}")
        wait_for(lambda: "ONBATT" in new_events(), 60, "upsmon logging ONBATT")
        assert ok(SERVER, "upsc ups@localhost ups.status 2>/dev/null").startswith("OB")
        assert ok(SERVER, f"test -e {marker} && echo yes || echo no") == "no", "on battery alone must not shut down"
        started = time.monotonic()
        ok(SERVER, f"sed -i 's/^ups.status:.*/ups.status: OB LB/' {status_file}")
        wait_for(lambda: "LOWBATT" in new_events(), 60, "upsmon logging LOWBATT")
        wait_for(lambda: ok(SERVER, f"test -e {marker} && echo yes || echo no") == "yes", 60,
                 "the shutdown policy's marker file")
        FIGURES["low_battery_to_policy_s"] = time.monotonic() - started
        assert "SHUTDOWN policy triggered" in new_events()
        assert login_works(SERVER, AUTOMATION_USER), "the server must still be up (the lab powers nothing off)"
    finally:
        # Back on mains: the status file as it was, the policy's flags cleared, NUT restarted in
        # order (upsd keeps the FSD flag the policy set until it restarts after the driver).
        ok(SERVER, f"printf '%s\\n' {shlex.quote(original)} > {status_file}; rm -f /etc/killpower {marker}; "
                   "systemctl restart nut-driver@ups && systemctl restart nut-server && systemctl restart nut-monitor")
    wait_for(lambda: ok(SERVER, "upsc ups@localhost ups.status 2>/dev/null || true") == "OL", 60, "the UPS back to OL")
    assert ok(SERVER, "systemctl is-active nut-monitor") == "active"


# --- bad input -----------------------------------------------------------------------------------

BAD_INPUTS = [
    ("power", {"power_ups_driver": "dummy-ups", "power_monitor_password": "x", "power_poll_seconds": "often"},
     "power_poll_seconds"),
    ("dns_dhcp", {"dns_dhcp_listen_address": SERVER, "dns_dhcp_hosts": []}, "dns_dhcp_domain"),
    ("archive_share", {"archive_share_branches": "b1", "archive_share_staff": []}, "archive_share_branches"),
]


@pytest.mark.parametrize(("role", "inputs", "named"), BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_stops_the_role_at_its_start(lab, tmp_path, role, inputs, named):
    watched = "/etc/nut/upsmon.conf /etc/dnsmasq.conf /etc/samba/smb.conf"
    before = ok(SERVER, f"sha256sum {watched}")
    play = tmp_path / f"bad-{role}.yml"
    play.write_text(json.dumps([{"name": f"Bad input to {role}", "hosts": "court-srv", "gather_facts": False,
                                 "become": True, "roles": [{"role": role, "vars": inputs}]}]))
    result, recap, _ = playbook(playbooks=[str(play)])
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "Validating arguments against arg spec" in output and named in output, output[-3000:]
    assert recap["court-srv"]["changed"] == 0 and recap["court-srv"]["failed"] == 1, recap
    assert ok(SERVER, f"sha256sum {watched}") == before, "a refused run changed files"

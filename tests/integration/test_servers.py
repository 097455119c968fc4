"""The servers' baseline (playbooks/server_base.yml, which servers.yml imports) on the converged lab.

The proofs of convergence (check mode, idempotence, checks passing) are the whole province's, in
test_converge.py. Here: the baseline's checks failed on the bare unit servers; root may not log
in and the automation account may; end to end, a log line written on a unit server reaches the
centre's collector, and none is lost while the collector is away or the sender restarts; a CMS
workstation gets time from its unit server; a role input of the
wrong type (or missing) stops the role at its start, changing nothing; a package whose maintainer
script asks on the terminal cannot hold a run (roles/base: apt runs dpkg without a terminal).
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest

from lab_helpers import (AUTOMATION_USER, MACHINES, as_user, holds_when_bare, hosts_of, login_works, not_failing_when_bare, playbook,
                         sudo_on, wait_for)

pytestmark = pytest.mark.lab
# The hardening areas with lab tests of their own assert this there (AUD, ARC, KRN, UPD, ACCT).
CHECK_PREFIXES = ("BASE-", "AUTO-", "SSH-00", "FW-", "TIME-", "LOG-", "NODE-", "BANNER-", "LOGIN-", "FIM-")
# What already holds on a bare Debian server: sshd runs (SSH-001), or the lab could not reach it.
HOLDS_WHEN_BARE = {"SSH-001"}
SERVERS = hosts_of("unit_server") + hosts_of("centre_server")
COURT_SERVER = hosts_of("unit_server", "lab-court")[0]
CENTRE = hosts_of("centre_server")[0]
COURT_WORKSTATION = hosts_of("cms_client", "lab-court")[0]


@pytest.mark.parametrize("server", hosts_of("unit_server"))
def test_checks_failed_on_the_bare_server(converged, server):
    # Centre-only checks are "not applicable" on a unit server; every other check must fail there.
    not_failing = not_failing_when_bare(converged, server, CHECK_PREFIXES, HOLDS_WHEN_BARE | holds_when_bare(server))
    assert not not_failing, f"checks that did not fail on a bare server: {not_failing}"


@pytest.mark.parametrize("server", SERVERS)
def test_root_cannot_log_in_and_automation_can(converged, server):
    assert not login_works(server, "root"), f"root may still log in on {server}"
    assert login_works(server, AUTOMATION_USER)


def centre_journal_lines(tag: str) -> list[str]:
    """The messages with this syslog tag in the unit servers' journals held at the centre."""
    status, output = sudo_on(MACHINES[CENTRE], f"journalctl -D /var/log/journal/remote -t {tag} -o cat --no-pager -q")
    return output.splitlines() if status == 0 else []


def test_log_line_reaches_the_centre_collector(converged):
    token = f"unitctl-e2e-{uuid.uuid4().hex[:12]}"
    status, output = as_user(MACHINES[COURT_SERVER], f"logger -t unitctl-test {token}")
    assert status == 0, output
    wait_for(lambda: token in centre_journal_lines("unitctl-test"), 30,
             f"the line {token} in {COURT_SERVER}'s journal at {CENTRE}")


def test_nothing_is_lost_while_the_collector_is_away_or_the_sender_restarts(converged):
    """The collector silently unreachable (its firewall drops the upload port, no reset), lines
    written meanwhile, the uploader restarted meanwhile (killed: it is stuck on the silent peer):
    once the collector is back, every line arrives. rsyslog's plain TCP forwarding lost both kinds
    (and RELP loses the lines in flight when rsyslog restarts: rsyslog issues 2610 and 3820)."""
    run_id = uuid.uuid4().hex[:8]
    tag = f"unitctl-outage-{run_id}"
    drop = f"unitctl-test-drop-{run_id}"
    centre, server = MACHINES[CENTRE], MACHINES[COURT_SERVER]
    port = 19532
    status, output = sudo_on(centre, f"nft insert rule inet unitctl_filter input tcp dport {port} drop comment {drop}")
    assert status == 0, output
    try:
        script = (f"logger -t {tag} line-1; logger -t {tag} line-2; sleep 2; "
                  f"systemctl restart systemd-journal-upload && logger -t {tag} line-3; "
                  f"logger -t {tag} line-4")
        status, output = sudo_on(server, script, timeout=120)
        assert status == 0, output
        time.sleep(3)
        assert centre_journal_lines(tag) == [], "the collector was meant to be away"
    finally:
        sudo_on(centre, f"nft -a list chain inet unitctl_filter input | sed -n 's/.*comment \"{drop}\".* handle //p' "
                        "| xargs -r -n1 nft delete rule inet unitctl_filter input handle")
    wait_for(lambda: len(set(centre_journal_lines(tag))) == 4, 90, f"the four lines of {tag} at the centre")
    assert sorted(set(centre_journal_lines(tag))) == [f"line-{n}" for n in range(1, 5)]


def test_workstation_gets_time_from_the_unit_server(converged):
    query = ("python3 -c \"import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(3); "
             "s.sendto(b'\\x23'+bytes(47),(sys.argv[1],123)); d=s.recv(48); print(d[0]>>6, d[1])\" "
             + MACHINES[COURT_SERVER].address)
    status, output = as_user(MACHINES[COURT_WORKSTATION], query)
    assert status == 0, output
    leap, stratum = (int(value) for value in output.split())
    assert leap != 3, f"{COURT_SERVER} answers unsynchronised (stratum {stratum})"
    assert 2 <= stratum <= 15, f"stratum {stratum}"


@pytest.mark.parametrize(("role", "role_vars", "message"), [
    ("ssh_server", {"ssh_server_port": "twenty-two", "ssh_server_allow_groups": ["unitctl"]},
     "ssh_server_port"),
    ("log_forwarding", {"log_forwarding_port": 514}, "missing required arguments: log_forwarding_target"),
])
def test_bad_role_input_stops_at_the_start(converged, tmp_path, role, role_vars, message):
    play = tmp_path / "bad-input.yml"
    play.write_text(json.dumps([{
        "name": "Bad input", "hosts": COURT_SERVER, "gather_facts": False, "become": True,
        "roles": [{"role": role, "vars": role_vars}],
    }]))
    fingerprint = "sha256sum /etc/ssh/sshd_config /etc/systemd/system/systemd-journal-upload.service.d/unitctl.conf"
    before = sudo_on(MACHINES[COURT_SERVER], fingerprint)
    run = playbook(str(play))
    output = run.result.stdout + run.result.stderr
    assert run.result.returncode != 0, output
    assert "Validating arguments against arg spec" in output, output
    assert message in output, output
    assert run.recap[COURT_SERVER]["changed"] == 0 and run.recap[COURT_SERVER]["failed"] == 1, output
    assert sudo_on(MACHINES[COURT_SERVER], fingerprint) == before, "the host changed"


# A maintainer script that asks on /dev/tty, as printer-driver-cups-pdf's postinst does through
# lpadmin's password prompt (cups 2.4.2-3+deb12u10 refuses root's `lpadmin -h localhost`).
ASKING_POSTINST = """#!/bin/sh
if answer=$(head -c1 < /dev/tty 2>/dev/null); then echo "asked on the terminal"; else echo "no terminal to ask on"; fi
exit 0
"""


def test_a_maintainer_script_asking_on_the_terminal_does_not_hold_a_run(converged, tmp_path):
    """The run's own path: apt-get under the run's privilege escalation, which (through Mitogen)
    holds a controlling terminal, and apt's own terminal for dpkg. Without roles/base's
    dpkg-without-terminal the postinst waits for an answer for good (seen: the task's timeout)."""
    package = "unitctl-test-asks-on-tty"
    source = tmp_path / "package"
    (source / "DEBIAN").mkdir(parents=True)
    (source / "DEBIAN" / "control").write_text(
        f"Package: {package}\nVersion: 1.0\nArchitecture: all\nMaintainer: unitctl lab <lab@example.invalid>\n"
        "Description: lab test package whose postinst asks on the terminal\n")
    (source / "DEBIAN" / "postinst").write_text(ASKING_POSTINST)
    (source / "DEBIAN" / "postinst").chmod(0o755)
    deb = tmp_path / f"{package}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(source), str(deb)], check=True, capture_output=True)
    play = tmp_path / "asks.yml"
    play.write_text(json.dumps([{
        "name": "Install a package whose postinst asks on the terminal", "hosts": COURT_WORKSTATION,
        "gather_facts": False, "become": True,
        "tasks": [
            {"ansible.builtin.copy": {"src": str(deb), "dest": f"/tmp/{package}.deb", "mode": "0644"}},
            {"ansible.builtin.command": {"argv": ["apt-get", "install", "--yes", f"/tmp/{package}.deb"]},
             "timeout": 120, "register": "installed"},
            {"ansible.builtin.debug": {"msg": "{{ installed.stdout }}"}},
        ],
    }]))
    try:
        run = playbook(str(play))
        output = run.result.stdout + run.result.stderr
        assert run.result.returncode == 0, output
        assert "no terminal to ask on" in output, output
    finally:
        sudo_on(MACHINES[COURT_WORKSTATION], f"apt-get purge --yes {package} >/dev/null 2>&1; rm -f /tmp/{package}.deb")

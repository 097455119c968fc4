"""Audit (issue 13) on the converged lab: the audit daemon (roles/audit), the archive share's own
record of who opened or changed a case file (Samba's full_audit), and SMB signing and encryption
(roles/archive_share).

- the AUD and ARC checks failed on a bare unit server and pass on the converged ones (AUD-002 and
  AUD-003 are "not applicable in a container": the kernel's audit subsystem is not namespaced);
- the rules auditd would load are merged on the server by Debian's augenrules, and every syscall
  they name is one the audit tools know, on each arch they are written for (ausyscall): what the
  kernel would refuse is caught without a kernel to load them into;
- a staff member opens and changes a case file over SMB from a workstation; the records naming the
  person, the operation and the file reach the centre's collector within seconds;
- an anonymous and a guest session are refused; a client that speaks only SMB 2 (no encryption)
  is refused; a normal client, and one that asks for no signing or encryption at all, get an
  encrypted and signed session (smbstatus on the server).
"""

from __future__ import annotations

import re
import shlex
import time
import uuid

import pytest

from lab_helpers import MACHINES, address, hosts_of, not_failing_when_bare, not_passing, sudo_on, wait_for
from unitctl.lab import services as labservices

pytestmark = pytest.mark.lab

COURT_SERVER = hosts_of("unit_server", "lab-court")[0]
BARE_SERVER = hosts_of("unit_server", "lab-prosecutor")[0]
CENTRE = hosts_of("centre_server")[0]
WORKSTATION = hosts_of("cms_client", "lab-court")[0]
SERVER = address(COURT_SERVER)
PREFIXES = ("AUD-", "ARC-007", "ARC-008")
# Seconds a full_audit record may take from the unit server to the centre's collector.
ARRIVAL_S = 30


def on(name: str, command: str, **kwargs) -> tuple[int, str]:
    return sudo_on(MACHINES[name], command, **kwargs)


def ok(name: str, command: str, **kwargs) -> str:
    status, output = on(name, command, **kwargs)
    assert status == 0, f"{command!r} on {name} failed ({status}): {output[-2000:]}"
    return output


@pytest.fixture(scope="module")
def smb(converged):
    """Runs smbclient on the court's workstation as a staff member (their vault password in a
    root-only file for the run); installs smbclient there as test_unit_services does."""
    status, output = on(WORKSTATION, "command -v smbclient || { apt-get update -q && DEBIAN_FRONTEND=noninteractive "
                                     "apt-get install -y -q --no-install-recommends smbclient >/tmp/apt-smbclient.log 2>&1; }",
                        timeout=600)
    assert status == 0, output
    passwords = labservices.load_secrets()["vault_archive_share_passwords"]

    def run(user: str | None, commands: str, options: str = "") -> tuple[int, str]:
        if user is None:
            return on(WORKSTATION, f"smbclient //{SERVER}/archive {options} -c {shlex.quote(commands)} 2>&1")
        auth = f"/root/.smb-{uuid.uuid4().hex[:8]}"
        script = (f"umask 077; printf 'username = %s\\npassword = %s\\n' {shlex.quote(user)} {shlex.quote(passwords[user])} > {auth}; "
                  f"smbclient //{SERVER}/archive -A {auth} {options} -c {shlex.quote(commands)} 2>&1; rc=$?; rm -f {auth}; exit $rc")
        return on(WORKSTATION, script)
    return run


def test_audit_checks_failed_on_a_bare_server_and_pass_on_the_converged(converged):
    if converged.bare_results is not None:
        not_failing = not_failing_when_bare(converged, BARE_SERVER, PREFIXES)
        assert not not_failing, f"checks that did not fail on a bare unit server: {not_failing}"
    if not converged.results:
        pytest.skip("the session did not converge the lab (UNITLAB_ASSUME_CONVERGED)")
    results = [r for r in converged.results if r["check_id"].startswith(PREFIXES)]
    bad = not_passing(results)
    assert not bad, "\n".join(bad)
    container = [r for r in results if r["check_id"] in ("AUD-002", "AUD-003") and r["outcome"] == "not_applicable"]
    assert all("not applicable in a container" in r["evidence"] for r in container if r["host"] in hosts_of("unit_server"))


def test_the_merged_audit_rules_name_only_syscalls_the_kernel_knows(converged):
    """augenrules (Debian's) merged rules.d into audit.rules; every -S name of a b64 rule is in the
    x86_64 table and of a b32 rule in the i386 table (ausyscall): auditctl would load them all."""
    merged = ok(COURT_SERVER, "augenrules --check 2>&1; cat /etc/audit/audit.rules")
    assert "No change" in merged, merged[:500]
    assert merged.rstrip().endswith("-e 2"), "the lock (-e 2) is not the last rule"
    wanted = {"b64": set(), "b32": set()}
    for line in merged.splitlines():
        arch = re.search(r"-F arch=(b64|b32)", line)
        for names in re.findall(r"-S (\S+)", line):
            if arch:
                wanted[arch.group(1)].update(names.split(","))
    assert wanted["b64"] and wanted["b32"]
    table = {"b64": "x86_64", "b32": "i386"}
    script = "; ".join(f"ausyscall {table[arch]} {name} --exact >/dev/null || echo {arch}:{name}"
                       for arch, names in wanted.items() for name in sorted(names))
    unknown = ok(COURT_SERVER, script).split()
    assert not unknown, f"syscalls the audit tools do not know (auditctl would refuse the rule): {unknown}"
    # The archive rule watches the share's folder for reads too (who opened a case file), on both
    # arches, for anyone logged in (daemons such as the backup and smbd are left out).
    for arch in ("b64", "b32"):
        assert f"-a always,exit -F arch={arch} -F dir=/srv/archive -F perm=rwa -F auid!=unset -k archive" in merged


def test_who_opened_and_changed_a_case_file_reaches_the_centre(smb):
    name = f"case-{uuid.uuid4().hex[:8]}.pdf"
    on(WORKSTATION, f"head -c 20000 /dev/urandom > /tmp/{name}")
    started = time.monotonic()
    # z.ahmadi (a CMS operator) files a scan and changes it; m.karimi (supervisor) opens it.
    status, output = smb("z.ahmadi", f"cd b1; put /tmp/{name} {name}; put /tmp/{name} {name}")
    assert status == 0, output
    status, output = smb("m.karimi", f"cd b1; get {name} /tmp/read-{name}")
    assert status == 0, output

    def arrived():
        status, lines = on(CENTRE, f"journalctl -D /var/log/journal/remote _HOSTNAME={COURT_SERVER} -t smbd_audit "
                                   f"--since=-10min -o cat --no-pager -q | grep -F {shlex.quote(name)}")
        lines = lines.splitlines() if status == 0 else []
        wrote = [line for line in lines if line.startswith("z.ahmadi|") and "|openat|ok|w|" in line]
        read = [line for line in lines if line.startswith("m.karimi|") and "|openat|ok|r|" in line]
        return (wrote, read) if wrote and read else None

    wrote, read = wait_for(arrived, ARRIVAL_S, f"full_audit records of {name} at the centre's collector")
    seconds = time.monotonic() - started
    print(f"\nfull_audit records at the centre after {seconds:.1f} s:\n  {wrote[0]}\n  {read[0]}")
    # user|client address|share|operation|result|r or w|the file
    assert wrote[0].split("|")[1] == address(WORKSTATION) and wrote[0].endswith(f"/srv/archive/b1/{name}")
    ok(COURT_SERVER, f"rm -f /srv/archive/b1/{name}")
    on(WORKSTATION, f"rm -f /tmp/{name} /tmp/read-{name}")


def test_anonymous_guest_and_unencrypted_clients_are_refused_and_sessions_are_encrypted(smb):
    for how, options in (("anonymous", "-N"), ("guest", "-U guest%")):
        status, output = smb(None, "ls", options)
        assert status != 0 and "NT_STATUS_" in output and "blocks available" not in output, f"{how}: {output}"
    # SMB 2.1 cannot encrypt: a client limited to it is refused at negotiation.
    status, output = smb("z.ahmadi", "ls", "-m SMB2")
    assert status != 0 and "NT_STATUS_NOT_SUPPORTED" in output, output
    # A normal client and one asking for no protection at all (Samba's client gives in to the
    # server's demand: it cannot be made to refuse) both end up encrypted and signed.
    password = shlex.quote(labservices.load_secrets()["vault_archive_share_passwords"]["z.ahmadi"])
    for options in ("-m SMB3", "--client-protection=off"):
        holder = f"(sleep 5; echo exit) | smbclient //{SERVER}/archive -U z.ahmadi%{password} {options} >/dev/null 2>&1"
        on(WORKSTATION, f"({holder}) >/dev/null 2>&1 &")

    def sessions():
        _, table = on(COURT_SERVER, "smbstatus -b 2>/dev/null")
        return [line for line in table.splitlines() if re.match(r"^\d+\s+z\.ahmadi\s", line)]

    def both():
        found = sessions()
        return found if len(found) >= 2 else None

    lines = wait_for(both, 10, "z.ahmadi's two sessions")
    for line in lines:
        assert re.search(r"SMB3_\d+\s+AES-\d+-(GCM|CCM)\s+AES-\d+-\w+", line), f"not encrypted and signed: {line}"
    wait_for(lambda: not sessions(), 15, "the sessions to end")



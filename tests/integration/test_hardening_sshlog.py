"""Issue 13, SSH and logs in transit, on the converged lab (roles/ssh_server, roles/log_collector).

The collector's TLS front, asked with certificates of the lab's province CA made for the test: one
named as a unit server is accepted and its upload lands in that server's own journal at the
centre; one named as a workstation, and the CMS's, are refused (LOG-003 proves the refusals of no
certificate and of another CA's on every run of the suite). The SSH checks (SSH-002..009) and the
backup's (SFTP to the centre under the new sshd settings) pass on this helper's hosts.
"""

from __future__ import annotations

import shlex
import uuid

import pytest

from lab_helpers import MACHINES, compliance, hosts_of, not_passing, sudo_on, wait_for
from unitctl.inventory.derived import log_upload_clients
from unitctl.lab import ca as labca

pytestmark = pytest.mark.lab
CENTRE = hosts_of("centre_server")[0]
COURT_SERVER = hosts_of("unit_server", "lab-court")[0]
COURT_WORKSTATION = hosts_of("cms_client", "lab-court")[0]
UPLOAD_PORT = 19532
JOURNALS = "/var/log/journal/remote"
# The SSH checks, the backup's over SFTP to the centre (a snapshot read there, the accounts SFTP
# only), and the log transport's.
CHECKS = ("test_ssh or test_recent_snapshot_at_centre or test_backup_accounts_sftp_only "
          "or test_forwarding_to_collector or test_collector_listening")


def _upload(name: str, certificate: str, key: str, tag: str) -> str:
    """Upload one journal entry (MESSAGE=tag, written to the centre's own journal and exported from
    it: journal-remote ignores an entry without the journal's own fields) to the collector from the
    centre itself, showing this certificate; curl's HTTP status ("000": refused)."""
    script = (f"d=$(mktemp -d) && trap 'rm -rf \"$d\"' EXIT && umask 077 && "
              f"printf '%s' {shlex.quote(certificate)} > $d/c && printf '%s' {shlex.quote(key)} > $d/k && "
              f"{{ journalctl -t {tag} -q | grep -q . || {{ logger -t {tag} {tag}; sleep 1; }}; }} && "
              f"journalctl -t {tag} -n 1 -o export | curl -s -m 10 -k -o /dev/null "
              f"-w '%{{http_code}}' --cert $d/c --key $d/k -H 'Content-Type: application/vnd.fdo.journal' "
              f"--data-binary @- https://127.0.0.1:{UPLOAD_PORT}/upload")
    status, output = sudo_on(MACHINES[CENTRE], script, timeout=60)
    return output.strip()[-3:]


def _lines_in(journal_glob: str, tag: str) -> list[str]:
    status, output = sudo_on(MACHINES[CENTRE], f"journalctl --file '{JOURNALS}/{journal_glob}' -t {tag} -o cat -q")
    return output.splitlines() if status == 0 else []


def test_only_a_unit_servers_certificate_is_accepted_into_its_own_journal(converged):
    tag = f"unitctl-front-{uuid.uuid4().hex[:8]}"
    source = {c["name"]: c["source"] for c in log_upload_clients(
        [{"name": name, "address": MACHINES[name].address} for name in hosts_of("unit_server")])}[COURT_SERVER]
    refused = {
        "a workstation's name": labca.host_certificate(COURT_WORKSTATION, [COURT_WORKSTATION],
                                                       [MACHINES[COURT_WORKSTATION].address]),
        "the CMS's": {"certificate": labca.cms_cert_path().read_text(), "key": labca.cms_key_path().read_text()},
    }
    answers = {who: _upload(who, pem["certificate"], pem["key"], tag) for who, pem in refused.items()}
    assert all(code == "000" for code in answers.values()), f"the collector accepted (HTTP status): {answers}"
    unit_server = labca.host_certificate(COURT_SERVER, [COURT_SERVER], [MACHINES[COURT_SERVER].address])
    code = _upload(COURT_SERVER, unit_server["certificate"], unit_server["key"], tag)
    assert code.startswith("2"), f"the collector answered {code} to {COURT_SERVER}'s certificate"
    wait_for(lambda: _lines_in(f"remote-{source}*.journal", tag) == [tag], 20,
             f"the entry {tag} in {COURT_SERVER}'s journal remote-{source}.journal")
    # Only there: the refused callers wrote nothing anywhere.
    assert _lines_in("*.journal", tag) == [tag]


def test_ssh_and_backup_checks_pass_under_the_new_sshd_settings(converged, tmp_path):
    results = compliance(tmp_path / "sshlog.json", units=[MACHINES[CENTRE].unit_id, MACHINES[COURT_SERVER].unit_id],
                         keyword=CHECKS)
    hosts = {CENTRE, COURT_SERVER}
    assert {r["check_id"] for r in results if r["host"] in hosts} >= {f"SSH-00{n}" for n in range(2, 10)}
    assert not not_passing(results, hosts), "\n".join(not_passing(results, hosts))

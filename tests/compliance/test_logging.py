"""Logs (roles/log_forwarding, roles/log_collector): every unit server's logs reach the centre."""

from __future__ import annotations

import datetime as dt
import shlex

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from server_facts import CENTRE, UNIT_SERVERS, root_output, root_run
from unit_facts import province_of

from unitctl.compliance import check
from unitctl.inventory.derived import centre_host, log_upload_clients, province_vars

FIX = "playbooks/servers.yml"
POLICY = "inventory/group_vars/all/logging.yml"
UPLOAD_STATE = "/var/lib/systemd/journal-upload/state"  # the packaged unit's StateDirectory
UPLOAD_DROPIN = "/etc/systemd/system/systemd-journal-upload.service.d/unitctl.conf"
COLLECTOR_TLS_DIR = "/etc/unitctl/log-collector"  # roles/log_collector: ca.pem, host.crt, host.key
JOURNAL_DIR = "/var/log/journal/remote"
# An entry older than this and not yet acknowledged by the collector means the upload is stuck.
MAX_UPLOAD_LAG_S = 600


# Unit servers need no rsyslog: their journal is what goes to the centre. The centre's rsyslog takes
# the playbook runs' audit records.
@check(id="LOG-001", title_en="The collector's rsyslog (audit records) is running and enabled",
       title_fa="سرویس rsyslog گردآورنده (رکوردهای ممیزی) فعال و در حال اجراست",
       severity="high", applies_to=CENTRE, policy=POLICY, fix="playbooks/centre.yml")
def test_rsyslog_running(host):
    service = host.service("rsyslog")
    assert service.is_running, "rsyslog is not running"
    assert service.is_enabled, "rsyslog is not enabled at boot"


@check(id="LOG-002", title_en="The collector has acknowledged every log entry older than ten minutes (HTTPS, province CA)",
       title_fa="گردآورندهٔ استان دریافت همهٔ رویدادهای کهنه‌تر از ده دقیقه را تأیید کرده است (HTTPS، گواهی استان)",
       severity="high", applies_to=UNIT_SERVERS, policy=POLICY, fix=FIX,
       controls=("CIS 6.1.2.1.1", "CIS 6.1.2.1.2", "CIS 6.1.2.1.3"))
def test_forwarding_to_collector(host, policy):
    dropin = root_run(host, f"cat {UPLOAD_DROPIN}")
    assert dropin.rc == 0, "systemd-journal-upload is not set up: logs stay on the server"
    assert f"--url=https://{policy['province_syslog_collector']}:" in dropin.stdout, "logs go elsewhere than the collector, or not over HTTPS"
    assert host.service("systemd-journal-upload").is_enabled, "systemd-journal-upload is not enabled at boot"
    # Its place in the journal is saved only after the collector answered an upload (the file says
    # "do not parse", but its one LAST_CURSOR line is how the uploader itself resumes).
    state = root_run(host, f"sed -n 's/^LAST_CURSOR=//p' {UPLOAD_STATE}")
    assert state.rc == 0 and state.stdout.strip(), "the collector has never acknowledged an upload from this server"
    waiting = root_output(host, f"journalctl --after-cursor='{state.stdout.strip()}' --until=-{MAX_UPLOAD_LAG_S}s "
                                "-o short-iso --no-pager -q | head -3")
    assert not waiting.strip(), \
        f"entries older than {MAX_UPLOAD_LAG_S // 60} minutes wait for the collector's acknowledgement:\n{waiting}"


def other_ca_certificate(common_name: str) -> tuple[str, str]:
    """A throwaway self-signed certificate (its own CA, not the province's) and key, in PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


# curl's answer from the upload port for each kind of caller; 000: no HTTP answer (refused).
UPLOAD_TRIES = r"""
d=$(mktemp -d) && trap 'rm -rf "$d"' EXIT && umask 077
printf '%s' {cert} > "$d/other.crt" && printf '%s' {key} > "$d/other.key"
try() {{ name=$1; shift; printf '%s %s\n' "$name" "$(curl -s -m 5 -o /dev/null -w '%{{http_code}}' "$@")"; }}
try plain-http http://127.0.0.1:{port}/upload
try no-certificate -k https://127.0.0.1:{port}/upload
try another-ca -k --cert "$d/other.crt" --key "$d/other.key" https://127.0.0.1:{port}/upload
try not-a-unit-server -k --cert {tls}/host.crt --key {tls}/host.key https://127.0.0.1:{port}/upload
ls {journals}/ 2>/dev/null | sed 's/^/journal /'
"""


@check(id="LOG-003", title_en="The centre's collector takes uploads over TLS from the unit servers' certificates only "
                              "and keeps each unit server's journal",
       title_fa="گردآورندهٔ مرکز استان رویدادها را فقط با گواهی کارسازهای واحد روی TLS می‌گیرد و دفتر رویداد هر کارساز را جدا نگه می‌دارد",
       severity="high", applies_to=CENTRE, policy=POLICY, fix="playbooks/centre.yml", controls=("CIS 6.1.2.1.2",))
def test_collector_listening(host, inventory_host, policy, request):
    province = province_of(request.config)
    collector = centre_host(province)
    if collector and collector[1]["name"] != inventory_host.name:
        pytest.skip(f"not applicable: the units upload to {collector[1]['name']}, the province's collector")
    port = policy["province_log_upload_port"]
    assert root_output(host, f"ss -Hltn 'sport = :{port}'").strip(), f"nothing listens on TCP {port}"
    clients = log_upload_clients(province_vars(province)["province_unit_servers"])
    # Refused: plain HTTP, TLS without a certificate, a certificate of another CA (with a unit
    # server's name), and a province certificate that is not a unit server's (this host's own).
    cert, key = other_ca_certificate(clients[0]["name"] if clients else "unit-server")
    lines = root_output(host, UPLOAD_TRIES.format(cert=shlex.quote(cert), key=shlex.quote(key), port=port,
                                                  tls=COLLECTOR_TLS_DIR, journals=JOURNAL_DIR)).splitlines()
    answers = dict(line.split(" ", 1) for line in lines if not line.startswith("journal "))
    accepted = {caller: code for caller, code in answers.items() if code.strip() not in ("000", "")}
    assert not accepted, f"the upload port answered callers it must refuse (HTTP status by caller): {accepted}"
    # Accepted: each unit server's uploads arrive in its own journal, named by the loopback address
    # the TLS front gives it (remote-<source>.journal), so they came through the certificate check.
    journals = [line.split(" ", 1)[1] for line in lines if line.startswith("journal ")]
    missing = [f"{client['name']} (remote-{client['source']}.journal)" for client in clients
               if not any(name.startswith(f"remote-{client['source']}.") or name.startswith(f"remote-{client['source']}@")
                          for name in journals)]
    assert not missing, f"no journal has arrived through the certificate check from: {', '.join(missing)}"
    assert host.service("unitctl-journal-remote-vacuum.timer").is_running, \
        "the daily clean-up of the units' journals is not scheduled: the collector's disk fills up"

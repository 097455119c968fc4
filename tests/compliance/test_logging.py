"""Logs (roles/log_forwarding, roles/log_collector): every unit server's logs reach the centre."""

from __future__ import annotations

import pytest
from server_facts import CENTRE, UNIT_SERVERS, root_output, root_run
from unit_facts import province_of

from unitctl.compliance import check
from unitctl.inventory.derived import centre_host

FIX = "playbooks/servers.yml"
POLICY = "inventory/group_vars/all/logging.yml"
UPLOAD_STATE = "/var/lib/systemd/journal-upload/state"  # the packaged unit's StateDirectory
UPLOAD_DROPIN = "/etc/systemd/system/systemd-journal-upload.service.d/unitctl.conf"
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
       severity="high", applies_to=UNIT_SERVERS, policy=POLICY, fix=FIX)
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


@check(id="LOG-003", title_en="The centre's collector takes uploads over HTTPS and keeps each unit server's journal",
       title_fa="گردآورندهٔ مرکز استان رویدادها را روی HTTPS می‌گیرد و دفتر رویداد هر کارساز واحد را نگه می‌دارد",
       severity="high", applies_to=CENTRE, policy=POLICY, fix="playbooks/centre.yml")
def test_collector_listening(host, inventory_host, policy, request):
    collector = centre_host(province_of(request.config))
    if collector and collector[1]["name"] != inventory_host.name:
        pytest.skip(f"not applicable: the units upload to {collector[1]['name']}, the province's collector")
    port = policy["province_log_upload_port"]
    assert root_output(host, f"ss -Hltn 'sport = :{port}'").strip(), f"nothing listens on TCP {port}"
    # An upload over plain HTTP is refused: the collector speaks TLS only.
    plain = host.run(f"curl -s -m 10 -o /dev/null -w '%{{http_code}}' -X POST http://127.0.0.1:{port}/upload")
    assert plain.stdout.strip() in ("000", ""), f"the collector answered plain HTTP ({plain.stdout.strip()})"
    tls = host.run(f"curl -sk -m 10 -o /dev/null -w '%{{http_code}}' https://127.0.0.1:{port}/upload")
    assert tls.stdout.strip() not in ("000", ""), "the collector does not answer over HTTPS"
    assert host.service("unitctl-journal-remote-vacuum.timer").is_running, \
        "the daily clean-up of the units' journals is not scheduled: the collector's disk fills up"
    # One journal per sending address (remote-<address>.journal): entries have arrived.
    journals = root_output(host, "ls /var/log/journal/remote/ 2>/dev/null").split()
    assert journals, "the collector has received no journal from any unit server"

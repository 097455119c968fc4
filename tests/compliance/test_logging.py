"""Logs (roles/log_forwarding, roles/log_collector): every unit server's logs reach the centre."""

from __future__ import annotations

from server_facts import CENTRE, UNIT_SERVERS, root_output
from unitctl.compliance import check

FIX = "playbooks/servers.yml"
POLICY = "inventory/group_vars/all/logging.yml"
FORWARD = "/etc/rsyslog.d/60-unitctl-forward.conf"
COLLECTOR = "/etc/rsyslog.d/50-unitctl-collector.conf"


@check(id="LOG-001", title_en="rsyslog is running and enabled", title_fa="سرویس ثبت رویداد (rsyslog) فعال و در حال اجراست",
       severity="high", applies_to=UNIT_SERVERS + CENTRE, policy=POLICY, fix=FIX)
def test_rsyslog_running(host):
    service = host.service("rsyslog")
    assert service.is_running, "rsyslog is not running"
    assert service.is_enabled, "rsyslog is not enabled at boot"


@check(id="LOG-002", title_en="Logs are forwarded to the provincial collector over TCP with a disk queue",
       title_fa="رویدادها از راه TCP و با صف روی دیسک به گردآورندهٔ استان فرستاده می‌شوند", severity="high",
       applies_to=UNIT_SERVERS, policy=POLICY, fix=FIX)
def test_forwarding_to_collector(host, policy):
    assert host.file(FORWARD).exists, f"{FORWARD} is missing: logs stay on the server"
    text = host.file(FORWARD).content_string
    assert f'target="{policy["province_syslog_collector"]}"' in text, "logs go elsewhere than the collector"
    assert f'port="{policy["province_syslog_port"]}"' in text
    assert 'protocol="tcp"' in text, "not forwarded over TCP"
    assert "queue.filename=" in text and 'queue.saveOnShutdown="on"' in text, "no disk-assisted queue"


@check(id="LOG-003", title_en="The centre's collector receives on TCP and keeps one folder per host",
       title_fa="گردآورندهٔ رویداد مرکز استان روی TCP دریافت می‌کند و برای هر میزبان پوشهٔ جدا دارد",
       severity="high", applies_to=CENTRE, policy=POLICY, fix="playbooks/centre.yml")
def test_collector_listening(host, policy):
    port = policy["province_syslog_port"]
    listening = root_output(host, f"ss -Hltn 'sport = :{port}'")
    assert listening.strip(), f"nothing listens on TCP {port}"
    assert host.file(COLLECTOR).exists, f"{COLLECTOR} is missing"
    assert "/var/log/units/" in host.file(COLLECTOR).content_string

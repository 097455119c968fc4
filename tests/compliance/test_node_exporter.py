"""Metrics (roles/node_exporter): prometheus-node-exporter on every server."""

from __future__ import annotations

from server_facts import SERVERS
from unitctl.compliance import check

FIX = "playbooks/servers.yml"
POLICY = "roles/node_exporter/defaults/main.yml"


@check(id="NODE-001", title_en="node-exporter is running and enabled",
       title_fa="سرویس آمار پایش (node-exporter) فعال و در حال اجراست", severity="medium", applies_to=SERVERS,
       policy=POLICY, fix=FIX)
def test_node_exporter_running(host):
    service = host.service("prometheus-node-exporter")
    assert service.is_running, "prometheus-node-exporter is not running"
    assert service.is_enabled, "prometheus-node-exporter is not enabled at boot"


@check(id="NODE-002", title_en="node-exporter answers on port 9100", title_fa="آمار پایش روی درگاه ۹۱۰۰ پاسخ می‌دهد",
       severity="medium", applies_to=SERVERS, policy=POLICY, fix=FIX)
def test_node_exporter_answers(host, inventory_host):
    answer = host.run(
        "python3 -c \"import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())\" "
        f"http://{inventory_host.address}:9100/metrics"
    )
    assert answer.rc == 0, f"no answer on {inventory_host.address}:9100: {answer.stderr.strip()[-200:]}"
    assert "node_exporter_build_info" in answer.stdout

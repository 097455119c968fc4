"""Time service (roles/time): chrony tracks the centre and serves the unit."""

from __future__ import annotations

from server_facts import SERVERS, UNIT_SERVERS, root_output, subnets
from unit_facts import province_of, unit_of
from unitctl.compliance import check

FIX = "playbooks/servers.yml"
POLICY = "inventory/group_vars/all/time.yml"

# One NTP client query (mode 3) to SERVER; prints "<leap> <stratum>" of the answer.
NTP_QUERY = (
    "python3 -c \"import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(3); "
    "s.sendto(b'\\x23'+bytes(47),(sys.argv[1],123)); d=s.recv(48); print(d[0]>>6, d[1])\" "
)


@check(id="TIME-001", title_en="chrony is running and enabled", title_fa="سرویس زمان (chrony) فعال و در حال اجراست",
       severity="high", applies_to=SERVERS, policy=POLICY, fix=FIX, controls=("CIS 2.3.3.3",))
def test_chrony_running(host):
    service = host.service("chrony")
    assert service.is_running, "chrony is not running"
    assert service.is_enabled, "chrony is not enabled at boot"


@check(id="TIME-002", title_en="The unit server is synchronised to the provincial centre",
       title_fa="سرور واحد زمان خود را با مرکز استان هماهنگ می‌کند", severity="high", applies_to=UNIT_SERVERS,
       policy=POLICY, fix=FIX, controls=("CIS 2.3.3.1",))
def test_tracks_the_centre(host, policy):
    sources = root_output(host, "chronyc -n sources")
    for server in policy["province_ntp_servers"]:
        assert server in sources, f"chrony does not use {server}"
    tracking = root_output(host, "chronyc -n tracking")
    assert "Leap status     : Normal" in tracking, f"not synchronised:\n{tracking}"
    assert any(f"({server})" in tracking for server in policy["province_ntp_servers"]), \
        f"synchronised to something other than the centre:\n{tracking}"


@check(id="TIME-003", title_en="The unit server serves time to its unit's networks",
       title_fa="سرور واحد به شبکه‌های واحد زمان می‌دهد", severity="medium", applies_to=UNIT_SERVERS,
       policy=POLICY, fix=FIX)
def test_serves_the_unit(host, inventory_host, request):
    config = root_output(host, "cat /etc/chrony/chrony.conf")
    allowed = {line.split()[1] for line in config.splitlines() if line.startswith("allow ")}
    clients = subnets(unit_of(request.config, inventory_host.unit_id), "cms_clients")
    assert set(clients) <= allowed, f"the client networks {clients} may not query it (allow: {sorted(allowed)})"
    answer = host.run(NTP_QUERY + inventory_host.address)
    assert answer.rc == 0, f"no NTP answer on {inventory_host.address}: {answer.stderr.strip()}"
    leap, stratum = (int(value) for value in answer.stdout.split())
    assert leap != 3 and 1 <= stratum <= 15, f"it answers unsynchronised (leap {leap}, stratum {stratum})"


@check(id="TIME-004", title_en="The centre serves time to the unit servers",
       title_fa="مرکز استان به سرورهای واحدها زمان می‌دهد", severity="high", applies_to=("centre_server",),
       policy=POLICY, fix=FIX)
def test_centre_serves_units(host, request):
    config = root_output(host, "cat /etc/chrony/chrony.conf")
    allowed = {line.split()[1] for line in config.splitlines() if line.startswith("allow ")}
    servers = [h["address"] for _, h in province_of(request.config).all_hosts() if h["function"] == "unit_server"]
    missing = [address for address in servers if address not in allowed and f"{address}/32" not in allowed]
    assert not missing, f"unit servers that may not query the centre: {missing}"
    tracking = root_output(host, "chronyc -n tracking")
    assert "Leap status     : Normal" in tracking, f"the centre has no time to serve:\n{tracking}"

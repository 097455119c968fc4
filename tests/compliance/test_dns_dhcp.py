"""The unit server answers its unit's names, forwards the rest to the province, and runs DHCP."""

from __future__ import annotations

import ipaddress

import pytest
from unit_facts import dns_query_command, reverse_name, unit_of

from unitctl.compliance import check

FIX = "playbooks/servers.yml"
SERVERS = ("unit_server",)
POLICY_ZONE = "inventory/<unit>/hosts.yml, unit.yml (domain)"


def _config(host):
    conf = host.file("/etc/dnsmasq.conf")
    assert conf.exists, "/etc/dnsmasq.conf does not exist: dnsmasq was never configured"
    return [line.strip() for line in conf.content_string.splitlines() if line.strip() and not line.startswith("#")]


@check(id="DNS-001", title_en="Name service (dnsmasq) is running and enabled",
       title_fa="سرویس نام (dnsmasq) فعال و در حال اجراست", severity="high",
       applies_to=("unit_server", "centre_server"), policy="inventory/group_vars/all/dns.yml", fix=FIX)
def test_dnsmasq_running(host):
    service = host.service("dnsmasq")
    assert service.is_running, "dnsmasq is not running"
    assert service.is_enabled, "dnsmasq is not enabled at boot"


@check(id="DNS-002", title_en="DNS listens only on the server's own address",
       title_fa="سرویس نام فقط روی نشانی خود سرور گوش می‌دهد", severity="medium",
       applies_to=("unit_server", "centre_server"), policy="roles/dns_dhcp (bind-interfaces)", fix=FIX)
def test_dns_listens_only_on_server_address(host, inventory_host):
    sockets = host.check_output("ss -Hlnu 'sport = :53' | awk '{print $4}'").split()
    assert sockets, "nothing listens on UDP port 53"
    addresses = {socket.rsplit(":", 1)[0].strip("[]").split("%")[0] for socket in sockets}
    assert inventory_host.address in addresses, f"port 53 is not served on {inventory_host.address}: {sockets}"
    wildcard = addresses & {"0.0.0.0", "*", "::"}
    assert not wildcard, f"DNS listens on every address: {sockets}"


@check(id="DNS-003", title_en="Every host of the unit resolves to its inventory address",
       title_fa="نام همهٔ میزبان‌های واحد به نشانی ثبت‌شده در سیاهه ترجمه می‌شود", severity="high",
       applies_to=SERVERS, policy=POLICY_ZONE, fix=FIX)
def test_unit_names_resolve(host, inventory_host, request):
    unit = unit_of(request.config, inventory_host.unit_id)
    wrong = []
    for entry in unit.hosts:
        fqdn = f"{entry['name']}.{unit.info['domain']}"
        answer = host.run(dns_query_command(inventory_host.address, fqdn, "A"))
        assert answer.rc != 4, f"{inventory_host.address} does not answer DNS queries (asked for {fqdn})"
        if answer.rc != 0 or answer.stdout.split() != [entry["address"]]:
            wrong.append(f"{fqdn}: {answer.stdout.split() or 'no answer'} (rc {answer.rc})")
    assert not wrong, "names that do not resolve as the inventory says: " + "; ".join(wrong)


@check(id="DNS-004", title_en="Reverse lookups (PTR) give each unit host's name",
       title_fa="جست‌وجوی معکوس (PTR) نام هر میزبان واحد را برمی‌گرداند", severity="low",
       applies_to=SERVERS, policy=POLICY_ZONE, fix=FIX)
def test_unit_reverse_names(host, inventory_host, request):
    unit = unit_of(request.config, inventory_host.unit_id)
    wrong = []
    for entry in unit.hosts:
        fqdn = f"{entry['name']}.{unit.info['domain']}"
        answer = host.run(dns_query_command(inventory_host.address, reverse_name(entry["address"]), "PTR"))
        assert answer.rc != 4, f"{inventory_host.address} does not answer DNS queries (asked for {entry['address']})"
        if answer.rc != 0 or fqdn not in answer.stdout.split():
            wrong.append(f"{entry['address']}: {answer.stdout.split() or 'no answer'}")
    assert not wrong, "addresses without the right PTR name: " + "; ".join(wrong)


@check(id="DNS-005", title_en="Other names are forwarded only to the province resolvers",
       title_fa="نام‌های دیگر فقط به سرورهای نام استان ارجاع می‌شوند", severity="medium",
       applies_to=SERVERS, policy="inventory/group_vars/all/dns.yml", fix=FIX)
def test_forwarding_to_province_resolvers(host, policy):
    lines = _config(host)
    assert "no-resolv" in lines, "dnsmasq also reads /etc/resolv.conf (no-resolv is missing)"
    forwarders = sorted(line.split("=", 1)[1] for line in lines if line.startswith("server=") and "/" not in line)
    assert forwarders == sorted(policy["province_dns_resolvers"]), (
        f"forwarders {forwarders} are not the province resolvers {policy['province_dns_resolvers']}")


@check(id="DNS-006", title_en="DHCP serves each client VLAN's range and the inventory's reservations",
       title_fa="DHCP بازهٔ هر VLAN کاربران و رزروهای سیاهه را ارائه می‌دهد", severity="medium",
       applies_to=SERVERS, policy="inventory/<unit>/addressing.yml (dhcp), hosts.yml (mac)", fix=FIX)
def test_dhcp_ranges_and_reservations(host, inventory_host, request, policy):
    if not policy.get("province_unit_dhcp", True):
        pytest.skip("not applicable: unit servers serve no DHCP here (province_unit_dhcp is false)")
    unit = unit_of(request.config, inventory_host.unit_id)
    lines = _config(host)
    ranges = [line for line in lines if line.startswith("dhcp-range=")]
    missing = []
    for vlan in unit.vlans:
        if vlan.get("dhcp"):
            netmask = str(ipaddress.ip_network(vlan["subnet"]).netmask)
            wanted = f"dhcp-range=set:vlan{vlan['id']},{vlan['dhcp']['start']},{vlan['dhcp']['end']},{netmask},"
            if not any(line.startswith(wanted) for line in ranges):
                missing.append(f"range of VLAN {vlan['id']}")
    for entry in unit.hosts:
        if entry.get("mac") and f"dhcp-host={entry['mac'].lower()},{entry['name']},{entry['address']}" not in lines:
            missing.append(f"reservation of {entry['name']}")
    if not any(vlan.get("dhcp") for vlan in unit.vlans) and not missing:
        pytest.skip("not applicable: the unit runs no DHCP")
    assert not missing, "missing from the DHCP configuration: " + ", ".join(missing)

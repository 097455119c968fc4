"""The host firewall (roles/firewall): inbound default deny, services only from their networks."""

from __future__ import annotations

import ipaddress
import re

from server_facts import SERVERS, UNIT_SERVERS, root_run, subnets
from unit_facts import unit_of
from unitctl.compliance import check

FIX = "playbooks/servers.yml"
POLICY = "playbooks/servers.yml (each service role opens its port, from addressing.yml)"
# Where each service role's rules are kept (roles/firewall, firewall_fragments_dir).
FRAGMENTS = "/etc/nftables.d/unitctl"


def rulesets(host) -> list[list[str]]:
    """The input chain as written (/etc/nftables.conf and the services' fragments it includes)
    and as loaded: both must be the province's."""
    saved = root_run(host, "cat /etc/nftables.conf")
    assert saved.rc == 0, "/etc/nftables.conf is missing"
    assert "table inet unitctl_filter" in saved.stdout, "/etc/nftables.conf is not the province ruleset"
    written = saved.stdout.split("chain input", 1)[1].split("chain forward", 1)[0].splitlines()
    fragments = root_run(host, f"cat {FRAGMENTS}/*.nft")
    assert f'include "{FRAGMENTS}/*.nft"' in saved.stdout or fragments.rc != 0, \
        f"/etc/nftables.conf does not include the services' rules in {FRAGMENTS}"
    written += fragments.stdout.splitlines() if fragments.rc == 0 else []
    found = [[line.strip() for line in written]]
    live = root_run(host, "nft list chain inet unitctl_filter input")
    assert live.rc == 0, f"the province ruleset (table inet unitctl_filter) is not loaded: {live.stderr.strip()}"
    found.append([line.strip() for line in live.stdout.splitlines()])
    return found


def source_ranges(line: str) -> list[tuple[int, int]]:
    """The `ip saddr` of a rule as address ranges: loaded rulesets show merged prefixes as ranges."""
    match = re.search(r"ip saddr (\{[^}]*\}|\S+)", line)
    ranges = []
    for token in (match.group(1).strip("{} ").split(",") if match else []):
        token = token.strip()
        if "-" in token:
            first, last = token.split("-")
            ranges.append((int(ipaddress.ip_address(first)), int(ipaddress.ip_address(last))))
        elif token:
            network = ipaddress.ip_network(token, strict=False)
            ranges.append((int(network.network_address), int(network.broadcast_address)))
    return ranges


def covered(subnet: str, line: str) -> bool:
    network = ipaddress.ip_network(subnet)
    return any(first <= int(network.network_address) and int(network.broadcast_address) <= last
               for first, last in source_ranges(line))


def rule(rules: list[str], name: str) -> str:
    found = [line for line in rules if line.endswith(f'comment "{name}"')]
    assert found, f"no '{name}' rule"
    return found[0]


@check(id="FW-001", title_en="Firewall is on at boot and drops inbound traffic by default",
       title_fa="دیوارهٔ آتش در راه‌اندازی فعال است و ورودی‌ها را به‌طور پیش‌فرض رد می‌کند", severity="critical",
       applies_to=SERVERS, policy=POLICY, fix=FIX, controls=("CIS 4.3.1", "CIS 4.3.8", "CIS 4.3.9", "CIS 4.3.10"))
def test_firewall_default_deny(host):
    found = rulesets(host)
    for rules in found:
        assert any("policy drop" in line for line in rules), "the input policy is not drop"
    assert host.service("nftables").is_enabled, "nftables is not enabled at boot"


@check(id="FW-002", title_en="SSH is open only to the management networks",
       title_fa="SSH فقط از شبکه‌های مدیریت در دسترس است", severity="critical", applies_to=SERVERS,
       policy=POLICY, fix=FIX, controls=("CIS 2.1.22",))
def test_firewall_ssh_from_management(host, inventory_host, request):
    found = rulesets(host)
    for rules in found:
        ssh = rule(rules, "ssh")
        assert "ip saddr" in ssh, f"SSH is open to everyone: {ssh}"
        for net in subnets(unit_of(request.config, inventory_host.unit_id), "management"):
            assert covered(net, ssh), f"the unit's management network {net} cannot reach SSH"
        open_ssh = [line for line in rules if re.search(r"\btcp dport 22\b", line) and "saddr" not in line]
        assert not open_ssh, f"SSH opened to everyone: {open_ssh}"


@check(id="FW-003", title_en="Unit services are open to the unit's client networks only",
       title_fa="سرویس‌های واحد (DNS، DHCP، NTP، SMB) فقط برای شبکه‌های کاربران واحد باز است", severity="high",
       applies_to=UNIT_SERVERS, policy=POLICY, fix=FIX, controls=("CIS 2.1.22",))
def test_firewall_unit_services(host, inventory_host, request):
    found = rulesets(host)
    clients = subnets(unit_of(request.config, inventory_host.unit_id), "cms_clients")
    for rules in found:
        for name in ("dns", "dhcp", "ntp", "smb"):
            line = rule(rules, name)
            assert "ip saddr" in line, f"{name} is open to everyone"
            assert all(covered(net, line) for net in clients), f"{name} is not open to the client networks {clients}"


@check(id="FW-004", title_en="Metrics are open to the provincial centre only",
       title_fa="آمار پایش (node-exporter) فقط برای مرکز استان باز است", severity="medium", applies_to=SERVERS,
       policy=POLICY, fix=FIX, controls=("CIS 2.1.22",))
def test_firewall_metrics_from_centre(host, policy):
    found = rulesets(host)
    for rules in found:
        metrics = rule(rules, "node-exporter")
        assert "ip saddr" in metrics, "metrics are open to everyone"
        assert covered(policy["province_centre"]["address"] + "/32", metrics), "the centre cannot scrape the metrics"


# Accept rules of the province input chain that carry no service name.
UNNAMED_ACCEPTS = ('iif "lo" accept', "ct state established,related accept")


@check(id="FW-005", title_en="The loaded firewall accepts nothing beyond the province ruleset",
       title_fa="دیوارهٔ آتش بارگذاری‌شده چیزی بیش از قواعد استان را نمی‌پذیرد", severity="critical",
       applies_to=SERVERS, policy=POLICY, fix=FIX, controls=("CIS 4.3.4", "CIS 4.3.5", "CIS 4.3.8"))
def test_firewall_accepts_only_province_rules(host):
    saved, live = rulesets(host)
    named = {match.group(1) for line in saved for match in [re.search(r'comment "([^"]+)"$', line)] if match}
    stray = []
    for line in live:
        if not re.search(r"\baccept\b", line) or line in UNNAMED_ACCEPTS:
            continue
        match = re.search(r'comment "([^"]+)"$', line)
        if not match or match.group(1) not in named:
            stray.append(line)
    assert not stray, f"accepted by hand, not by the province ruleset: {stray}"

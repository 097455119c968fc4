"""Every managed host is the machine the inventory says it is, fed only by the province mirror."""

from __future__ import annotations

from unitctl.compliance import check

MANAGED = ("unit_server", "centre_server", "cms_client")


@check(id="HOST-001", title_en="Hostname matches the inventory", title_fa="نام میزبان با سیاهه یکسان است",
       severity="medium", applies_to=MANAGED, policy="inventory/README.md (hosts.yml)",
       fix="playbooks/site.yml")
def test_hostname_matches_inventory(host, inventory_host):
    assert host.check_output("hostname") == inventory_host.name


@check(id="HOST-002", title_en="Address matches the inventory", title_fa="نشانی IP با سیاهه یکسان است",
       severity="high", applies_to=MANAGED, policy="inventory/README.md (hosts.yml)",
       fix="playbooks/site.yml")
def test_address_matches_inventory(host, inventory_host):
    addresses = host.check_output("ip -o -4 addr show scope global | awk '{print $4}'").split()
    assert inventory_host.address in [address.split("/")[0] for address in addresses]


@check(id="PKG-001", title_en="Packages come only from the province mirror",
       title_fa="بسته‌ها فقط از مخزن استان دریافت می‌شوند", severity="high", applies_to=MANAGED,
       policy="inventory/group_vars/all/mirrors.yml", fix="playbooks/site.yml", controls=("CIS 1.2.1.2",))
def test_apt_sources_use_only_the_province_mirror(host, policy):
    mirrors = (policy["province_apt_mirror"], policy["province_apt_security_mirror"])
    listed = host.check_output(
        "grep -rhsE '^(deb|URIs:)' /etc/apt/sources.list /etc/apt/sources.list.d/ || true"
    ).splitlines()
    uris = [word for line in listed for word in line.split() if "://" in word]
    assert uris, "no apt source is configured"
    foreign = [uri for uri in uris if not uri.rstrip("/").startswith(tuple(m.rstrip("/") for m in mirrors))]
    assert not foreign, f"sources outside the province mirror: {foreign}"


@check(id="SSH-001", title_en="SSH service is running and enabled", title_fa="سرویس SSH فعال و در حال اجراست",
       severity="critical", applies_to=MANAGED, policy="inventory/group_vars/all/ssh.yml",
       fix="playbooks/site.yml")
def test_ssh_service_running(host):
    service = host.service("ssh")
    assert service.is_running, "sshd is not running"
    assert service.is_enabled, "sshd is not enabled at boot"

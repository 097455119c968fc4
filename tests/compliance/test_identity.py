"""Every managed host is the machine the inventory says it is, fed only by the province mirror."""

from __future__ import annotations

import datetime

from unitctl.compliance import check
from unitctl.releases import DEBIAN_RELEASES, allowed_releases, expected_release, phase_out_of

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


@check(id="HOST-003", title_en="Runs the Debian release the inventory names",
       title_fa="نسخهٔ دبیان میزبان همان است که در سیاهه آمده", severity="high", applies_to=MANAGED,
       policy="inventory/group_vars/all/releases.yml", fix="playbooks/upgrade_release.yml")
def test_debian_release_matches_inventory(host, inventory_host, policy, debian_release, record_fact):
    """The roles apply what differs between releases from the release the host runs; the inventory
    must say the same, or a unit's plan (which hosts to upgrade, which are past phase-out) is wrong."""
    record_fact("debian_release", debian_release)
    expected = expected_release({"debian_release": inventory_host.debian_release}, policy)
    assert debian_release == expected, (
        f"the host runs Debian {debian_release} ({DEBIAN_RELEASES.get(debian_release, 'unknown')}), but the "
        f"inventory says Debian {expected}: correct debian_release in hosts.yml, or upgrade the host")


@check(id="HOST-004", title_en="Runs a Debian release the province supports and has not phased out",
       title_fa="نسخهٔ دبیان میزبان پشتیبانی می‌شود و مهلت کنار گذاشتنش نگذشته", severity="high",
       applies_to=MANAGED, policy="inventory/group_vars/all/releases.yml", fix="playbooks/upgrade_release.yml")
def test_debian_release_is_supported(host, policy, debian_release):
    allowed = allowed_releases(policy)
    assert debian_release in allowed, (
        f"Debian {debian_release} is not a release the province supports ({', '.join(map(str, allowed))})")
    phase_out = phase_out_of(debian_release, policy)
    today = datetime.date.today()
    assert phase_out is None or today <= phase_out, (
        f"Debian {debian_release} ({DEBIAN_RELEASES[debian_release]}) was phased out on {phase_out.isoformat()} "
        f"({(today - phase_out).days} days ago): upgrade the host (playbooks/upgrade_release.yml)")


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


@check(id="PKG-002", title_en="Package scripts run without a terminal that could hold an install",
       title_fa="اسکریپت‌های نصب بسته بدون پایانه اجرا می‌شوند و نصب را معطل نمی‌کنند", severity="medium",
       applies_to=MANAGED, policy="roles/base/README.md", fix="playbooks/site.yml")
def test_apt_runs_dpkg_without_a_terminal(host):
    # apt's merged settings name the script (Dir::Bin::dpkg), which is root's, and dpkg still runs
    # through it. The lab test test_servers.py installs a package whose postinst asks on the terminal.
    wrapper = "/usr/local/lib/unitctl/dpkg-without-terminal"
    configured = host.run("apt-config shell DPKG Dir::Bin::dpkg/f").stdout.strip()
    assert configured == f"DPKG='{wrapper}'", f"apt runs dpkg as {configured or 'dpkg (default)'}, not through {wrapper}"
    script = host.file(wrapper)
    assert script.exists and script.user == "root" and script.mode & 0o022 == 0 and script.mode & 0o100, \
        f"{wrapper} is missing, not root's, writable by others or not executable"
    assert "setsid" in script.content_string, f"{wrapper} does not start dpkg in a session of its own"
    folder = host.file("/usr/local/lib/unitctl")
    assert folder.user == "root" and folder.mode & 0o022 == 0, "/usr/local/lib/unitctl is writable by others than root"
    version = host.run(f"{wrapper} --version")
    assert version.rc == 0 and "dpkg" in version.stdout.lower(), f"dpkg does not run through {wrapper}: {version.stderr}"


@check(id="SSH-001", title_en="SSH service is running and enabled", title_fa="سرویس SSH فعال و در حال اجراست",
       severity="critical", applies_to=MANAGED, policy="inventory/group_vars/all/ssh.yml",
       fix="playbooks/site.yml")
def test_ssh_service_running(host):
    service = host.service("ssh")
    assert service.is_running, "sshd is not running"
    assert service.is_enabled, "sshd is not enabled at boot"

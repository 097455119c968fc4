"""The server baseline (roles/base): identity, time zone, locales, packages, journal, sysctl."""

from __future__ import annotations

from server_facts import SERVERS, root_output
from unit_facts import unit_of
from unitctl.compliance import check
from unitctl.releases import DEBIAN_RELEASES

FIX = "playbooks/servers.yml"


@check(id="BASE-001", title_en="/etc/hosts names the host by its FQDN in the unit domain",
       title_fa="نام کامل میزبان در دامنهٔ واحد در /etc/hosts ثبت است", severity="medium",
       applies_to=SERVERS, policy="inventory/README.md (unit.yml domain, hosts.yml)", fix=FIX)
def test_hosts_file_has_fqdn(host, inventory_host, request):
    domain = unit_of(request.config, inventory_host.unit_id).info["domain"]
    fqdn = f"{inventory_host.name}.{domain}"
    entries = [line.split() for line in host.file("/etc/hosts").content_string.splitlines()
               if line.strip() and not line.lstrip().startswith("#")]
    assert [inventory_host.address, fqdn, inventory_host.name] in [entry[:3] for entry in entries], \
        f"/etc/hosts has no line '{inventory_host.address} {fqdn} {inventory_host.name}'"


@check(id="BASE-002", title_en="Time zone is the province's", title_fa="منطقهٔ زمانی مطابق سیاست استان است",
       severity="medium", applies_to=SERVERS, policy="inventory/group_vars/all/time.yml", fix=FIX)
def test_timezone(host, policy):
    zone = policy["province_timezone"]
    localtime = host.file("/etc/localtime")
    assert localtime.is_symlink and localtime.linked_to.endswith("/zoneinfo/" + zone), \
        f"/etc/localtime is not a link to {zone}"
    assert host.file("/etc/timezone").content_string.strip() == zone


@check(id="BASE-003", title_en="Persian and English UTF-8 locales are available",
       title_fa="زبان‌های فارسی و انگلیسی با UTF-8 در دسترس است", severity="low", applies_to=SERVERS,
       policy="roles/base/defaults/main.yml", fix=FIX)
def test_locales(host):
    available = host.run("locale -a").stdout.lower().split()
    missing = [name for name in ("fa_ir.utf8", "en_us.utf8") if name not in available]
    assert not missing, f"locales not generated: {missing}"


@check(id="BASE-004", title_en="Debian and security sources are the province mirror (deb822)",
       title_fa="منابع دبیان و به‌روزرسانی امنیتی از مخزن استان تعریف شده‌اند", severity="high",
       applies_to=SERVERS, policy="inventory/group_vars/all/mirrors.yml", fix=FIX, controls=("CIS 1.2.1.1", "CIS 1.2.1.2"))
def test_apt_sources_deb822(host, policy, debian_release):
    sources = host.file("/etc/apt/sources.list.d/debian.sources")
    assert sources.exists, "/etc/apt/sources.list.d/debian.sources is missing"
    text = sources.content_string
    assert f"URIs: {policy['province_apt_mirror']}" in text
    assert f"URIs: {policy['province_apt_security_mirror']}" in text
    suite = DEBIAN_RELEASES.get(debian_release)  # the release the host runs
    assert suite, f"Debian {debian_release} is not a release the toolkit provisions ({sorted(DEBIAN_RELEASES)})"
    assert f"Suites: {suite} {suite}-updates" in text, f"the host runs {suite}, but its sources name another suite"
    assert f"Suites: {suite}-security" in text, f"the security suite ({suite}-security) is not configured"
    legacy = host.run("grep -sE '^[[:space:]]*deb' /etc/apt/sources.list").stdout.strip()
    assert not legacy, f"/etc/apt/sources.list still has entries: {legacy}"
    # CIS 1.2.1.1: each source trusts only Debian's archive key, not any key apt holds.
    stanzas = [stanza for stanza in text.split("\n\n") if "URIs:" in stanza]
    unsigned = [stanza.split("URIs:", 1)[1].split()[0] for stanza in stanzas
                if "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" not in stanza]
    assert not unsigned, f"sources not pinned to Debian's archive keyring (Signed-By): {unsigned}"


@check(id="BASE-005", title_en="Security updates install unattended", title_fa="به‌روزرسانی‌های امنیتی خودکار نصب می‌شوند",
       severity="high", applies_to=SERVERS, policy="roles/base/defaults/main.yml", fix=FIX, controls=("CIS 1.2.2.1",))
def test_unattended_security_upgrades(host, policy, debian_release):
    assert host.package("unattended-upgrades").is_installed, "unattended-upgrades is not installed"
    config = host.run("apt-config dump").stdout
    assert 'APT::Periodic::Unattended-Upgrade "1";' in config, "unattended upgrades are not enabled"
    origins = [line for line in config.splitlines() if line.startswith("Unattended-Upgrade::Origins-Pattern::")]
    assert origins, "no origin is allowed for unattended upgrades"
    assert all("-security" in line for line in origins), f"origins beyond the security suite: {origins}"
    suite = DEBIAN_RELEASES.get(debian_release)
    assert suite, f"Debian {debian_release} is not a release the toolkit provisions ({sorted(DEBIAN_RELEASES)})"
    assert any(f"codename={suite}-security" in line for line in origins), \
        f"no origin is the host's own security suite ({suite}-security): {origins}"


@check(id="BASE-006", title_en="The journal is kept on disk", title_fa="گزارش‌های سامانه (journal) روی دیسک نگه داشته می‌شوند",
       severity="medium", applies_to=SERVERS, policy="roles/base/defaults/main.yml", fix=FIX, controls=("CIS 6.1.1.1", "CIS 6.1.2.4"))
def test_persistent_journal(host):
    assert host.file("/var/log/journal").is_directory, "/var/log/journal does not exist"
    config = host.run("grep -hs '^Storage=' /etc/systemd/journald.conf /etc/systemd/journald.conf.d/*.conf").stdout
    assert config.strip().splitlines()[-1:] == ["Storage=persistent"], f"journald storage: {config.strip() or 'default'}"
    # The running journald writes there (not only to /run/log/journal, lost at each boot).
    files = root_output(host, "journalctl --header -q 2>/dev/null | sed -n 's/^File path: //p'").split()
    assert any(path.startswith("/var/log/journal/") and path.endswith("/system.journal") for path in files), \
        f"journald is not writing to /var/log/journal: {files}"


@check(id="BASE-007", title_en="Essential admin tools are installed", title_fa="ابزارهای پایهٔ مدیریت سامانه نصب شده‌اند",
       severity="low", applies_to=SERVERS, policy="roles/base/defaults/main.yml", fix=FIX)
def test_admin_tools(host):
    missing = [name for name in ("curl", "less", "lsof", "rsync", "tcpdump", "tmux", "bind9-dnsutils")
               if not host.package(name).is_installed]
    assert not missing, f"missing admin tools: {missing}"


@check(id="BASE-008", title_en="The sysctl baseline is in place and in force",
       title_fa="تنظیمات پایهٔ هسته (sysctl) اعمال شده است", severity="medium", applies_to=SERVERS,
       policy="roles/base/defaults/main.yml", fix=FIX)
def test_sysctl_baseline(host):
    path = "/etc/sysctl.d/60-unitctl-baseline.conf"
    assert host.file(path).exists, f"{path} is missing"
    wanted = dict(line.replace(" ", "").split("=", 1) for line in host.file(path).content_string.splitlines()
                  if "=" in line and not line.startswith("#"))
    for key in ("net.ipv4.ip_forward", "net.ipv4.conf.all.accept_redirects", "net.ipv4.tcp_syncookies"):
        assert key in wanted, f"{key} is not in the baseline"
    # A container may not set them: it needs a writable /proc/sys (the lab's is read-only), and
    # CAP_NET_ADMIN for net.*. Keys it cannot set are not held against it; if it can set none, skip.
    capabilities = int(root_output(host, "grep CapEff /proc/self/status").split()[1], 16)
    proc_sys_rw = "rw" in root_output(host, "findmnt -no OPTIONS /proc/sys || echo rw").split(",")[0]
    settable = [key for key in wanted
                if proc_sys_rw and (not key.startswith("net.") or capabilities & (1 << 12))]
    if not settable:
        import pytest  # noqa: PLC0415

        pytest.skip("the baseline file is in place; this host (a container) may set none of its keys")
    wrong = {key: wanted[key] for key in settable if root_output(host, f"sysctl -n {key}").strip() != wanted[key]}
    assert not wrong, f"not in force: {wrong}"

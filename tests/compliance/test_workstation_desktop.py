"""CMS workstations: the Persian desktop, time and names from the unit server
(roles desktop_locale, base, time, name_client; playbooks/workstations.yml)."""

from __future__ import annotations

from unitctl.compliance import check
from workstation_facts import FIX, POLICY, WORKSTATIONS, package_installed, root_output, unit_server_address


@check(id="WS-001", title_en="Persian and English locales are generated",
       title_fa="زبان‌های محلی فارسی و انگلیسی ساخته شده‌اند", severity="medium", applies_to=WORKSTATIONS,
       policy=POLICY, fix=FIX)
def test_locales(host):
    available = {line.lower().replace("utf8", "utf-8") for line in host.check_output("locale -a").split()}
    missing = [name for name in ("fa_IR.UTF-8", "en_US.UTF-8") if name.lower() not in available]
    assert not missing, f"locales not generated: {missing}"


@check(id="WS-002", title_en="Timezone is the province's (Asia/Tehran)", title_fa="منطقهٔ زمانی، منطقهٔ استان (تهران) است",
       severity="medium", applies_to=WORKSTATIONS, policy="inventory/group_vars/all/time.yml", fix=FIX)
def test_timezone(host, policy):
    link = host.file("/etc/localtime")
    assert link.is_symlink and link.linked_to.endswith("/" + policy["province_timezone"]), \
        f"/etc/localtime is not {policy['province_timezone']}"
    assert host.file("/etc/timezone").content_string.strip() == policy["province_timezone"]


@check(id="WS-003", title_en="Persian keyboard layout beside US", title_fa="چیدمان صفحه‌کلید فارسی در کنار انگلیسی",
       severity="medium", applies_to=WORKSTATIONS, policy=POLICY, fix=FIX)
def test_keyboard(host, policy):
    keyboard = host.file("/etc/default/keyboard")
    assert keyboard.exists, "/etc/default/keyboard is missing"
    values = dict(line.split("=", 1) for line in keyboard.content_string.splitlines() if "=" in line and not line.startswith("#"))
    layouts = values.get("XKBLAYOUT", "").strip('"').split(",")
    assert layouts == policy["province_keyboard_layouts"], f"XKBLAYOUT is {layouts}"
    assert policy["province_keyboard_toggle"] in values.get("XKBOPTIONS", ""), "no switch between layouts"


@check(id="WS-004", title_en="Persian fonts are installed and preferred", title_fa="قلم‌های فارسی نصب و ترجیح داده شده‌اند",
       severity="medium", applies_to=WORKSTATIONS, policy=POLICY, fix=FIX)
def test_persian_fonts(host, policy):
    missing = [name for name in policy["province_desktop_fonts"] if not package_installed(host, name)]
    assert not missing, f"font packages not installed: {missing}"
    persian = host.run("fc-list :lang=fa family")
    assert persian.rc == 0 and persian.stdout.strip(), "no font covers Persian (fc-list :lang=fa)"
    assert host.file("/etc/fonts/conf.d/60-unitctl-persian.conf").exists, "Persian font preference missing"


@check(id="WS-005", title_en="Time comes from the unit server", title_fa="زمان از سرور واحد گرفته می‌شود",
       severity="high", applies_to=WORKSTATIONS, policy="inventory/group_vars/all/time.yml", fix=FIX)
def test_time_from_unit_server(host, inventory_host, request):
    server = unit_server_address(request.config, inventory_host)
    service = host.service("chrony")
    assert service.is_running and service.is_enabled, "chrony is not running and enabled"
    config = root_output(host, "cat /etc/chrony/chrony.conf")
    sources = [line.split()[1] for line in config.splitlines() if line.startswith(("server ", "pool "))]
    assert sources == [server], f"chrony's sources are {sources}, not the unit server {server}"
    assert not any(line.startswith("allow") for line in config.splitlines()), "a workstation serves time"
    # The running chronyd uses it (a daemon not restarted after a change would still use the old).
    used = root_output(host, "chronyc -n sources")
    assert any(line[3:].split()[:1] == [server] for line in used.splitlines() if line[:1] == "^"), \
        f"the running chronyd does not use the unit server {server}:\n{used}"


@check(id="WS-006", title_en="Names are resolved by the unit server", title_fa="نام‌ها را سرور واحد پاسخ می‌دهد",
       severity="high", applies_to=WORKSTATIONS, policy="inventory/group_vars/all/dns.yml", fix=FIX)
def test_dns_from_unit_server(host, inventory_host, request):
    server = unit_server_address(request.config, inventory_host)
    resolv = host.file("/etc/resolv.conf")
    assert not resolv.is_symlink, "/etc/resolv.conf is a link (a local resolver daemon)"
    nameservers = [line.split()[1] for line in resolv.content_string.splitlines() if line.startswith("nameserver")]
    assert nameservers == [server], f"nameservers are {nameservers}, not the unit server {server}"

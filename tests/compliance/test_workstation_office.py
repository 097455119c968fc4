"""CMS workstations: office, printing and scanning by profile (roles office_printing, scanning)."""

from __future__ import annotations

from unit_facts import unit_of
from unitctl.compliance import check
from workstation_facts import FIX, POLICY, WORKSTATIONS, components, entry_of, package_installed, \
    require_component, root_output, unit_server_address


def branch_printers(config, inventory_host) -> list[str]:
    """The unit's printers on the workstation's branch, or those without a branch (as the playbook)."""
    unit = unit_of(config, inventory_host.unit_id)
    branch = entry_of(config, inventory_host).get("branch")
    printers = [h for h in unit.hosts if h["function"] == "printer"]
    mine = [h["name"] for h in printers if branch and h.get("branch") == branch]
    return sorted(mine or [h["name"] for h in printers if not h.get("branch")])


@check(id="WS-013", title_en="LibreOffice Writer is installed", title_fa="لیبره‌آفیس رایتر نصب است",
       severity="medium", applies_to=WORKSTATIONS, policy=POLICY, fix=FIX)
def test_writer(host, inventory_host, policy, request):
    require_component(request.config, inventory_host, policy, "office_printing")
    assert package_installed(host, "libreoffice-writer"), "libreoffice-writer is not installed"


@check(id="WS-014", title_en="The branch printer queue is ready (CUPS, local only)",
       title_fa="صف چاپگر شعبه آماده است (CUPS، فقط محلی)", severity="high", applies_to=WORKSTATIONS,
       policy=POLICY, fix=FIX)
def test_printer_queue(host, inventory_host, policy, request):
    require_component(request.config, inventory_host, policy, "office_printing")
    cups = host.service("cups")
    assert cups.is_running and cups.is_enabled, "CUPS is not running and enabled"
    config = root_output(host, "cat /etc/cups/cupsd.conf")
    listens = [line.split()[1] for line in config.splitlines() if line.startswith(("Listen ", "Port "))]
    assert all(item.startswith(("localhost:", "/")) for item in listens), f"cupsd listens beyond this host: {listens}"
    assert "Browsing No" in config and "DefaultShared No" in config, "CUPS shares or browses printers"
    wanted = branch_printers(request.config, inventory_host)
    assert wanted, "the unit has no printer for this workstation"
    queues = host.run("lpstat -v").stdout
    accepting = host.run("lpstat -a").stdout
    for name in wanted:
        assert f"device for {name}:" in queues, f"no queue for {name}"
        assert f"{name} accepting" in accepting, f"{name} does not accept jobs"
    assert host.run("lpstat -d").stdout.strip().endswith(f": {wanted[0]}"), f"{wanted[0]} is not the default queue"


@check(id="WS-015", title_en="Scans go onto the unit's archive share", title_fa="تصاویر پویش‌شده مستقیم روی پوشهٔ بایگانی واحد ذخیره می‌شوند",
       severity="high", applies_to=WORKSTATIONS, policy=POLICY, fix=FIX)
def test_scanning_to_archive(host, inventory_host, policy, request):
    require_component(request.config, inventory_host, policy, "scanning")
    for name in ("sane-utils", "cifs-utils"):
        assert package_installed(host, name), f"{name} is not installed"
    mount_point = policy["province_scanning_mount_point"]
    unit = mount_point.strip("/").replace("/", "-")
    share = f"//{unit_server_address(request.config, inventory_host)}/{policy['province_scanning_share_name']}"
    mount_unit = host.file(f"/etc/systemd/system/{unit}.mount")
    assert mount_unit.exists and f"What={share}" in mount_unit.content_string, f"{unit}.mount does not mount {share}"
    automount = host.service(f"{unit}.automount")
    assert automount.is_enabled, f"{unit}.automount is not enabled"
    if policy.get("province_scanning_start_automount", True):  # false only where autofs is missing (the lab)
        assert automount.is_running, f"{unit}.automount is not active"
    assert host.file("/usr/local/bin/scan-to-archive").is_executable, "the scan helper is missing"


@check(id="WS-016", title_en="The archive credentials are readable by root only",
       title_fa="گذرواژهٔ پوشهٔ بایگانی فقط برای root خواناست", severity="critical", applies_to=WORKSTATIONS,
       policy=POLICY, fix=FIX)
def test_archive_credentials_private(host, inventory_host, policy, request):
    require_component(request.config, inventory_host, policy, "scanning")
    stat = root_output(host, "stat -c '%U %G %a' /etc/unitctl/archive-share.credentials").split()
    assert stat == ["root", "root", "600"], f"credentials file is {stat}"
    assert root_output(host, "stat -c %a /etc/unitctl").strip() == "700", "/etc/unitctl is not root-only"


# What each component's role puts on a workstation and takes off again with `<role>_state: absent`
# (roles/*/tasks/absent.yml): its packages, the files it wrote, the units it ran. The first package
# marks the component as there.
COMPONENTS = {
    "cms_browser": {"packages": ["firefox-esr", "firefox-esr-l10n-fa"],
                    "files": ["/etc/firefox/policies/policies.json", "/usr/share/applications/unitctl-cms.desktop"],
                    "units": []},
    "office_printing": {"packages": ["libreoffice-writer", "libreoffice-l10n-fa", "cups", "cups-daemon", "cups-client",
                                     "cups-filters"],
                        "files": ["/var/lib/unitctl/office_printing", "/etc/cups/cupsd.conf"],
                        "units": ["cups.service", "cups.socket", "cups.path"]},
    "scanning": {"packages": ["sane-utils", "cifs-utils"],
                 "files": ["/etc/unitctl/archive-share.credentials", "/usr/local/bin/scan-to-archive"],
                 "units": []},
}


def leftovers(host, component: str, policy) -> list[str]:
    """What the component's role leaves behind on a workstation whose profile does not have it."""
    spec = COMPONENTS[component]
    packages = spec["packages"] + (policy.get("province_printing_packages") or [] if component == "office_printing" else [])
    units = list(spec["units"])
    files = list(spec["files"])
    if component == "scanning":
        unit = policy["province_scanning_mount_point"].strip("/").replace("/", "-")
        units += [f"{unit}.automount", f"{unit}.mount"]
        files += [f"/etc/systemd/system/{unit}.automount", f"/etc/systemd/system/{unit}.mount"]
    found = [f"package {name}" for name in packages if package_installed(host, name)]
    found += [f"file {path}" for path in files if root_output(host, f"test -e {path} && echo yes || true").strip()]
    for name in units:  # systemctl itself: testinfra's is_enabled raises on a unit that no longer exists
        active = host.run(f"systemctl is-active {name}").stdout.strip()
        enabled = host.run(f"systemctl is-enabled {name}").stdout.strip()
        if active == "active" or enabled.startswith("enabled"):
            found.append(f"unit {name} ({active}, {enabled})")
    return found


@check(id="WS-017", title_en="A workstation has what its profile needs and no more",
       title_fa="هر ایستگاه کاری فقط آنچه نمایهٔ کاری‌اش نیاز دارد را دارد", severity="low", applies_to=WORKSTATIONS,
       policy=POLICY, fix=FIX)
def test_profile_components_only(host, inventory_host, policy, request):
    parts = components(request.config, inventory_host, policy)
    missing = [part for part in parts if part in COMPONENTS
               and not package_installed(host, COMPONENTS[part]["packages"][0])]
    extra = {part: found for part in COMPONENTS if part not in parts and (found := leftovers(host, part, policy))}
    assert not missing and not extra, \
        f"the profile gives {sorted(parts)}; missing {missing}; left from components it does not give: {extra}"

"""CMS workstations: office, printing and scanning by profile (roles office_printing, scanning)."""

from __future__ import annotations

import re
import shlex

from unit_facts import unit_of
from unitctl.compliance import check
from workstation_facts import FIX, POLICY, WORKSTATIONS, components, entry_of, package_installed, \
    require_component, root_output, root_run, unit_server_address


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


def queue_drivers(host) -> dict[str, bool]:
    """Every queue CUPS has -> whether it has a driver. cupsd names the PPD it prints through as the
    queue's Interface; a queue without one ("Local Raw Printer", as CUPS 2.4 leaves an IPP
    Everywhere queue whose printer did not answer) has no Interface line."""
    drivers, name = {}, None
    for line in host.run("LC_ALL=C lpstat -l -p").stdout.splitlines():
        if line.startswith("printer "):
            name = line.split()[1]
            drivers[name] = False
        elif name and line.strip().startswith("Interface:"):
            drivers[name] = True
    return drivers


def page_through_driver(host, queue: str) -> str:
    """Converts a one-line page with the queue's own driver (CUPS' filters for its PPD, as a job to
    it would be) into what the printer is sent; "" when that works, else what went wrong. Nothing
    goes to the printer: a compliance run prints no paper."""
    script = (f"d=$(mktemp -d); printf 'unitctl WS-014\\n' | cupsfilter -i text/plain -m printer/foo -e "
              f"-p {shlex.quote(f'/etc/cups/ppd/{queue}.ppd')} > $d/out 2> $d/err; echo \"$? $(stat -c %s $d/out)\"; "
              f"tail -n 3 $d/err; rm -rf $d")
    lines = root_run(host, script).stdout.splitlines() or ["no answer"]
    status, size = (lines[0].split() + ["", ""])[:2]
    if status == "0" and size.isdigit() and int(size) > 0:
        return ""
    return f"{queue}: its driver made no page (cupsfilter exit status {status}, {size} bytes: {' '.join(lines[1:])})"


@check(id="WS-014", title_en="The branch printer queue is ready (CUPS, local only)",
       title_fa="صف چاپگر شعبه آماده است (CUPS، فقط محلی)", severity="high", applies_to=WORKSTATIONS,
       policy=POLICY, fix=FIX)
def test_printer_queue(host, inventory_host, policy, request):
    """CUPS runs local only; each of the workstation's branch printers has a queue that accepts
    jobs, the first is the default; every queue has a driver, and the driver turns a page
    into what the printer takes (cupsfilter, nothing printed)."""
    require_component(request.config, inventory_host, policy, "office_printing")
    cups = host.service("cups")
    assert cups.is_running and cups.is_enabled, "CUPS is not running and enabled"
    config = root_output(host, "cat /etc/cups/cupsd.conf")
    listens = [line.split()[1] for line in config.splitlines() if line.startswith(("Listen ", "Port "))]
    assert all(item.startswith(("localhost:", "/")) for item in listens), f"cupsd listens beyond this host: {listens}"
    assert "Browsing No" in config and "DefaultShared No" in config, "CUPS shares or browses printers"
    wanted = branch_printers(request.config, inventory_host)
    assert wanted, "the unit has no printer for this workstation"
    queues = host.run("LC_ALL=C lpstat -v").stdout
    accepting = host.run("LC_ALL=C lpstat -a").stdout
    for name in wanted:
        assert f"device for {name}:" in queues, f"no queue for {name}"
        assert f"{name} accepting" in accepting, f"{name} does not accept jobs"
    assert host.run("LC_ALL=C lpstat -d").stdout.strip().endswith(f": {wanted[0]}"), f"{wanted[0]} is not the default queue"
    drivers = queue_drivers(host)
    uris = dict(re.findall(r"^device for (\S+): (\S+)$", queues, re.MULTILINE))
    missing = [f"{name} ({uris.get(name, 'no device')})" for name, has in sorted(drivers.items()) if not has]
    assert not missing, ("queues without a driver, so a job to them goes out unconverted (CUPS could not reach "
                         "the printer when the queue was made; provisioning makes its queues again until they get "
                         f"one): {', '.join(missing)}")
    failures = [failure for name in sorted(drivers) if (failure := page_through_driver(host, name))]
    assert not failures, "; ".join(failures)


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
    options = next((line.split("=", 1)[1].split(",") for line in mount_unit.content_string.splitlines()
                    if line.startswith("Options=")), [])
    assert "seal" in options, f"{unit}.mount does not ask for SMB3 encryption (seal), which the share requires: {options}"
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

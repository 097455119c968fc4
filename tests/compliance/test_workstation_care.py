"""CMS workstations: security upgrades, antivirus, local administration only for technicians
(roles base, workstation_care)."""

from __future__ import annotations

from unit_facts import unit_of
from unitctl.compliance import check
from workstation_facts import FIX, POLICY, WORKSTATIONS, package_installed, root_output


@check(id="WS-018", title_en="Security upgrades install themselves from the province mirror",
       title_fa="به‌روزرسانی‌های امنیتی خودکار از مخزن استان نصب می‌شوند", severity="high", applies_to=WORKSTATIONS,
       policy="inventory/group_vars/all/mirrors.yml", fix=FIX)
def test_unattended_upgrades(host):
    assert package_installed(host, "unattended-upgrades"), "unattended-upgrades is not installed"
    periodic = host.file("/etc/apt/apt.conf.d/20auto-upgrades")
    assert periodic.exists and 'APT::Periodic::Unattended-Upgrade "1"' in periodic.content_string, \
        "periodic unattended upgrades are off"


@check(id="WS-019", title_en="ClamAV is installed, signatures only from the province mirror",
       title_fa="ضدویروس ClamAV نصب است و امضاها فقط از مخزن استان می‌آیند", severity="medium",
       applies_to=WORKSTATIONS, policy=POLICY, fix=FIX)
def test_clamav(host, policy):
    assert package_installed(host, "clamav"), "clamav is not installed"
    config = host.file("/etc/clamav/freshclam.conf").content_string
    mirrors = [line.split()[1] for line in config.splitlines() if line.startswith(("PrivateMirror", "DatabaseMirror"))]
    freshclam = host.service("clamav-freshclam")
    mirror = policy.get("province_clamav_mirror") or ""
    if mirror:
        assert mirrors == [mirror], f"freshclam mirrors are {mirrors}, not {mirror}"
        assert freshclam.is_running and freshclam.is_enabled, "freshclam is not running"
    else:
        assert not mirrors, f"freshclam fetches from {mirrors} though the province has no mirror"
        assert not freshclam.is_running and not freshclam.is_enabled, "freshclam runs without a province mirror"


@check(id="WS-020", title_en="Only the unit's technicians administer the workstation",
       title_fa="فقط کارشناسان فنی واحد مدیریت محلی ایستگاه کاری را دارند", severity="critical",
       applies_to=WORKSTATIONS, policy=POLICY, fix=FIX)
def test_local_admin_only_technicians(host, inventory_host, policy, request):
    group = policy["province_technicians_group"]
    drop_in = root_output(host, "cat /etc/sudoers.d/unit-technicians 2>/dev/null || true")
    assert f"%{group} ALL=(ALL:ALL) ALL" in drop_in, "the technicians' sudoers drop-in is missing"
    unit = unit_of(request.config, inventory_host.unit_id)
    technicians = {p["username"] for p in unit.staff if p["role"] in policy["province_technician_roles"]}
    automation = policy.get("province_automation_user", "unitctl")
    grants = root_output(host, "grep -rhvE '^[[:space:]]*(#|Defaults|@include|$)' /etc/sudoers /etc/sudoers.d/ || true")
    strangers = []
    for who in {line.split()[0] for line in grants.splitlines()}:
        if who in ("root", automation):
            continue
        if who.startswith("%"):  # a group: its members must all be technicians
            line = host.run(f"getent group {who[1:]}").stdout.strip()
            members = {m for m in (line.split(":")[3].split(",") if line else []) if m}
            strangers += [f"{member} (through {who})" for member in sorted(members - technicians)]
        elif who not in technicians:
            strangers.append(who)
    assert not strangers, f"sudo is granted beyond the unit's technicians: {strangers}"

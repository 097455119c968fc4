"""CMS workstations: security upgrades, antivirus, local administration only for technicians
(roles base, workstation_care)."""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime, timedelta

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


@check(id="WS-019", title_en="ClamAV detects with the province's signatures, kept fresh by its mirror",
       title_fa="ضدویروس ClamAV با امضاهای استان بدافزار را می‌یابد و امضاها از مخزن استان تازه می‌شوند",
       severity="medium", applies_to=WORKSTATIONS, policy=POLICY, fix=FIX)
def test_clamav(host, policy):
    assert package_installed(host, "clamav"), "clamav is not installed"
    mirror = policy.get("province_clamav_mirror") or ""
    # Configuration: freshclam follows the province mirror, or is off without one.
    config = host.file("/etc/clamav/freshclam.conf").content_string
    mirrors = [line.split()[1] for line in config.splitlines() if line.startswith(("PrivateMirror", "DatabaseMirror"))]
    freshclam = host.service("clamav-freshclam")
    if mirror:
        assert mirrors == [mirror], f"freshclam mirrors are {mirrors}, not {mirror}"
        assert freshclam.is_running and freshclam.is_enabled, "freshclam is not running"
    else:
        assert not mirrors, f"freshclam fetches from {mirrors} though the province has no mirror"
        assert not freshclam.is_running and not freshclam.is_enabled, "freshclam runs without a province mirror"
    # Behaviour: ClamAV finds the EICAR test file with the signatures the host has.
    scan = scan_eicar(host)
    output = f"{scan.stdout}\n{scan.stderr}".strip()
    if scan.rc == 2 and "No supported database files" in output:
        source = (f"freshclam has downloaded nothing from {mirror} (journalctl -u clamav-freshclam)" if mirror else
                  "set province_clamav_mirror or province_clamav_databases (inventory/group_vars/all/workstations.yml)")
        raise AssertionError(f"ClamAV has no signature database: {source}")
    assert scan.rc != 2, f"ClamAV could not scan: {last_lines(output)}"
    known = re.search(r"^Known viruses: (\d+)", scan.stdout, re.MULTILINE)
    assert scan.rc == 1 and " FOUND" in scan.stdout, (
        f"ClamAV did not detect the EICAR test file with the signatures it has ({known.group(1) if known else '?'} "
        "known): the province's databases lack its signature (the official daily has it)")
    # Freshness: the official daily signatures (from the mirror, or handed out) are recent enough.
    daily = host.run("ls -t /var/lib/clamav/daily.cld /var/lib/clamav/daily.cvd 2>/dev/null | head -n 1").stdout.strip()
    if mirror:
        assert daily, f"no daily signatures from {mirror}: freshclam has not updated (journalctl -u clamav-freshclam)"
    if daily:
        info = host.run(f"sigtool --info {daily}")
        built = build_time(info.stdout)
        assert built, f"`sigtool --info {daily}` shows no build time: {last_lines(info.stdout + info.stderr)}"
        allowed = timedelta(days=policy["province_clamav_max_signature_age_days"])
        age = datetime.now(UTC) - built
        assert age <= allowed, (f"{daily} was built {built.astimezone(UTC):%Y-%m-%d %H:%M} UTC, {age.days} days ago; "
                                f"the policy allows {allowed.days} (province_clamav_max_signature_age_days)")


# The EICAR anti-virus test file (eicar.org): harmless, and detected by every scanner that has its
# signature. Built at run time from pieces, so this file never holds it whole (a scanner would flag it).
EICAR = "".join(("X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-", "ANTIVIRUS-", "TEST-FILE!$H+H*"))


def scan_eicar(host):
    """clamscan on a temp file holding the EICAR test string (written with printf on the host)."""
    script = (f"f=$(mktemp) && printf '%s' {shlex.quote(EICAR)} > \"$f\" && clamscan \"$f\"; "
              "s=$?; rm -f \"$f\"; exit $s")
    return host.run(script)


def build_time(sigtool_info: str) -> datetime | None:
    """The build time `sigtool --info` shows for a CVD/CLD ("Build time: 30 Nov 2026 06:57 +0000")."""
    found = re.search(r"^Build time: (.+)$", sigtool_info, re.MULTILINE)
    try:
        return datetime.strptime(found.group(1).strip(), "%d %b %Y %H:%M %z") if found else None
    except ValueError:
        return None


def last_lines(text: str, count: int = 4) -> str:
    return " | ".join(text.strip().splitlines()[-count:])


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

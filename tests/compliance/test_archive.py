"""The electronic archive: a Samba share, one folder per branch, access by roster role only."""

from __future__ import annotations

import re

from server_facts import root_output, root_run
from smb_probe import negotiate_command, parse
from unit_facts import unit_of

from unitctl.compliance import check

FIX = "playbooks/servers.yml"
SERVERS = ("unit_server",)
SHARE = "archive"
ROOT = "/srv/archive"
# The province's mapping of roster roles to archive permissions (playbooks/servers.yml).
ADMIN_ROLES = {"supervisor"}
WRITE_ROLES = {"registry_clerk", "cms_operator"}


def _share_settings(host):
    dump = root_run(host, "testparm -s 2>/dev/null")
    assert dump.rc == 0, "testparm failed: Samba is not installed or smb.conf is broken"
    settings, section = {}, None
    for line in dump.stdout.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            settings[section] = {}
        elif section and "=" in line:
            key, value = line.split("=", 1)
            settings[section][key.strip()] = value.strip()
    return settings


@check(id="ARC-001", title_en="The archive share's Samba service is running and enabled",
       title_fa="سرویس Samba بایگانی الکترونیکی فعال و در حال اجراست", severity="high", applies_to=SERVERS,
       policy="CIRCULAR clause 3 (electronic archive)", fix=FIX)
def test_smbd_running(host):
    service = host.service("smbd")
    assert service.is_running, "smbd is not running"
    assert service.is_enabled, "smbd is not enabled at boot"


@check(id="ARC-002", title_en="The archive share admits only the archive groups, no guests",
       title_fa="پوشهٔ اشتراکی بایگانی فقط اعضای گروه‌های بایگانی را می‌پذیرد و مهمان ندارد", severity="critical",
       applies_to=SERVERS, policy="roles/archive_share (permissions from roster roles)", fix=FIX)
def test_share_admits_only_archive_groups(host):
    settings = _share_settings(host)
    assert SHARE in settings, f"there is no [{SHARE}] share"
    share, glob = settings[SHARE], settings.get("global", {})
    assert share.get("path") == ROOT, f"the share points at {share.get('path')}"
    assert share.get("guest ok", "No") == "No", "guests are allowed"
    assert glob.get("map to guest", "Never") == "Never", "failed logins are mapped to guest"
    valid = set(share.get("valid users", "").split())
    assert valid == {"@archive-admins", "@archive-writers", "@archive-readers"}, f"valid users: {valid or 'anyone'}"
    assert share.get("read only", "Yes") == "Yes", "the share is writable by every valid user"
    assert set(share.get("write list", "").split()) == {"@archive-admins", "@archive-writers"}, "write list"
    # And Samba itself says no: an anonymous session and the guest account, tried from the server.
    assert host.exists("smbclient"), "smbclient is not installed on the server (the role installs it): cannot try a session"
    for how, options in (("an anonymous session", "-N"), ("the guest account", "-U guest%")):
        tried = host.run(f"smbclient //127.0.0.1/{SHARE} {options} -c ls 2>&1")
        assert "NT_STATUS_" in tried.stdout and "blocks available" not in tried.stdout, \
            f"{how} was not refused: {tried.stdout.strip()[-300:]}"


@check(id="ARC-003", title_en="One private archive folder per branch",
       title_fa="برای هر شعبه یک پوشهٔ بایگانی جدا و غیرعمومی وجود دارد", severity="high", applies_to=SERVERS,
       policy="inventory/<unit>/unit.yml (branches)", fix=FIX)
def test_one_folder_per_branch(host, inventory_host, request):
    unit = unit_of(request.config, inventory_host.unit_id)
    problems = []
    for branch in unit.info.get("branches", []):
        found = root_run(host, f"stat -c '%F %G %a' {ROOT}/{branch['id']}")
        kind, group, mode = (found.stdout.rsplit(" ", 2) + ["", "", "0"])[:3] if found.rc == 0 else ("", "", "0")
        if found.rc != 0 or kind != "directory":
            problems.append(f"{branch['id']}: missing")
        elif group != "archive-writers" or int(mode, 8) & 0o007:
            problems.append(f"{branch['id']}: group {group}, mode {mode}")
    assert not problems, "branch folders: " + "; ".join(problems)


@check(id="ARC-004", title_en="Archive permissions follow the staff roster's roles",
       title_fa="دسترسی به بایگانی مطابق نقش کارکنان در فهرست کارکنان است", severity="high", applies_to=SERVERS,
       policy="inventory/<unit>/staff.yml (role)", fix=FIX)
def test_permissions_follow_roster(host, inventory_host, request):
    unit = unit_of(request.config, inventory_host.unit_id)
    wanted = {"archive-admins": set(), "archive-writers": set(), "archive-readers": set()}
    for person in unit.staff:
        if person["role"] in ADMIN_ROLES:
            wanted["archive-admins"].add(person["username"])
        elif person["role"] in WRITE_ROLES:
            wanted["archive-writers"].add(person["username"])
    for group, members in wanted.items():
        entry = host.run(f"getent group {group}")
        assert entry.rc == 0, f"group {group} does not exist"
        actual = {name for name in entry.stdout.strip().split(":")[3].split(",") if name}
        assert actual == members, f"{group} has {sorted(actual)}, the roster says {sorted(members)}"


@check(id="ARC-005", title_en="Every archive user has a Samba account",
       title_fa="هر کاربر بایگانی حساب Samba دارد", severity="medium", applies_to=SERVERS,
       policy="inventory/<unit>/staff.yml; vault (archive passwords)", fix=FIX)
def test_archive_users_have_samba_accounts(host, inventory_host, request):
    unit = unit_of(request.config, inventory_host.unit_id)
    listed = root_run(host, "pdbedit --list 2>/dev/null")
    accounts = {line.split(":")[0] for line in listed.stdout.splitlines()}
    users = {p["username"] for p in unit.staff if p["role"] in ADMIN_ROLES | WRITE_ROLES}
    assert users <= accounts, f"without a Samba account: {sorted(users - accounts)}"


@check(id="ARC-006", title_en="Samba accounts of people no longer in the archive are disabled",
       title_fa="حساب Samba کسانی که دیگر عضو بایگانی نیستند غیرفعال است", severity="high", applies_to=SERVERS,
       policy="inventory/<unit>/staff.yml (moves and departures)", fix=FIX)
def test_former_members_samba_accounts_disabled(host, inventory_host, request):
    unit = unit_of(request.config, inventory_host.unit_id)
    members = {p["username"] for p in unit.staff if p["role"] in ADMIN_ROLES | WRITE_ROLES}
    listed = root_run(host, "pdbedit --list --smbpasswd-style")
    assert listed.rc == 0, f"pdbedit cannot list the Samba accounts: {listed.stderr.strip()}"
    enabled = {fields[0] for fields in (line.split(":") for line in listed.stdout.splitlines())
               if len(fields) > 4 and "D" not in fields[4]}
    assert enabled <= members, f"still enabled, though not in the archive: {sorted(enabled - members)}"


@check(id="ARC-007", title_en="The archive share requires SMB3, signing and encryption: no case file crosses the network in clear",
       title_fa="پوشهٔ بایگانی SMB3، امضا و رمزنگاری را الزامی کرده است: هیچ پرونده‌ای بی‌رمز از شبکه نمی‌گذرد",
       severity="critical", applies_to=SERVERS, policy="roles/archive_share (signing and encryption)", fix=FIX)
def test_signing_and_encryption_required(host):
    # Before any login: the server's NEGOTIATE answer requires signing and offers encryption, and a
    # client that speaks only SMB 2.x (which cannot encrypt) is turned away.
    found = parse(root_output(host, negotiate_command("127.0.0.1")))
    smb3 = found.get("smb3")
    assert isinstance(smb3, dict), f"the share's server did not answer an SMB3 negotiation: {smb3}"
    assert smb3.get("signing_required") == "1", "the server does not require signing (server signing = mandatory)"
    assert smb3.get("encryption") == "1", "the server cannot encrypt (SMB3 encryption)"
    assert not isinstance(found.get("smb2"), dict), f"a client without encryption (SMB 2.x) is let in: {found.get('smb2')}"
    # Samba's reading of smb.conf: every session must encrypt (a login shows it; the lab test logs in).
    glob = _share_settings(host).get("global", {})
    assert glob.get("server smb encrypt", "default").lower() == "required", \
        f"encryption is not required (server smb encrypt = {glob.get('server smb encrypt', 'default')})"
    # And every session open now is encrypted and signed (smbstatus: one line per session).
    sessions = root_output(host, "smbstatus -b 2>/dev/null")
    plain = [line for line in sessions.splitlines() if re.match(r"^\d+\s", line)
             and not re.search(r"AES-\d+-(GCM|CCM)\s+(AES-\d+-\w+|partial)", line)]
    assert not plain, "open sessions without encryption or signing: " + "; ".join(" ".join(line.split()[:4]) for line in plain)


@check(id="ARC-008", title_en="Who opened, changed or removed which case file is recorded, and sent to the centre",
       title_fa="ثبت می‌شود چه کسی کدام پرونده را باز، تغییر یا حذف کرد و این رکورد به مرکز استان فرستاده می‌شود",
       severity="high", applies_to=SERVERS, policy="roles/archive_share (full_audit)", fix=FIX)
def test_case_file_access_recorded(host):
    share = _share_settings(host).get(SHARE, {})
    modules = share.get("vfs objects", "").split()
    assert modules[:1] == ["full_audit"], f"Samba's full_audit does not come first on the share (vfs objects: {modules})"
    success = set(share.get("full_audit:success", "").split())
    missing = {"connect", "openat", "renameat", "unlinkat"} - success
    assert not missing, f"full_audit does not record: {sorted(missing)}"
    assert share.get("full_audit:syslog", "Yes").lower() in ("yes", "true"), "full_audit does not write to syslog (the journal)"
    assert "%u" in share.get("full_audit:prefix", ""), "the records do not name the user"
    # Syslog is the journal, and the journal goes to the centre (roles/log_forwarding, LOG-002).
    assert host.service("systemd-journal-upload").is_enabled, "the journal is not uploaded to the centre"

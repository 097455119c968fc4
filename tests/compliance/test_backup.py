"""Unit servers back up the archive and their configuration to the provincial centre, daily."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from server_facts import root_run

from unitctl.compliance import check

FIX = "playbooks/servers.yml"
SERVERS = ("unit_server",)
POLICY = "roles/backup (playbooks/servers.yml: what, when, how long)"


@check(id="BAK-001", title_en="The daily backup timer is enabled and scheduled",
       title_fa="زمان‌بند پشتیبان‌گیری روزانه فعال و برنامه‌ریزی شده است", severity="critical", applies_to=SERVERS,
       policy=POLICY, fix=FIX)
def test_backup_timer(host):
    enabled = host.run("systemctl is-enabled unitctl-backup.timer").stdout.strip()
    assert enabled == "enabled", f"the backup timer is not enabled ({enabled or 'no such timer'})"
    active = host.run("systemctl is-active unitctl-backup.timer").stdout.strip()
    assert active == "active", f"the backup timer is not active ({active})"


@check(id="BAK-002", title_en="Backups cover the electronic archive and the server's configuration",
       title_fa="پشتیبان شامل بایگانی الکترونیکی و پیکربندی سرور است", severity="high", applies_to=SERVERS,
       policy=POLICY, fix=FIX)
def test_backup_covers_archive_and_etc(host):
    script = host.file("/usr/local/sbin/unitctl-backup")
    assert script.exists, "there is no backup script"
    backup_line = next((line for line in script.content_string.splitlines() if line.startswith('"$restic" backup ')), "")
    for path in ("/srv/archive", "/etc"):
        assert f" {path}" in backup_line, f"{path} is not backed up"


@check(id="BAK-003", title_en="A retention policy prunes old snapshots after each backup",
       title_fa="پس از هر پشتیبان‌گیری، سیاست نگهداری نسخه‌های قدیمی را حذف می‌کند", severity="medium",
       applies_to=SERVERS, policy=POLICY, fix=FIX)
def test_retention_policy(host):
    script = host.file("/usr/local/sbin/unitctl-backup")
    assert script.exists, "there is no backup script"
    forget = next((line for line in script.content_string.splitlines() if line.startswith('"$restic" forget ')), "")
    assert "--prune" in forget, "old snapshots are never pruned"
    for keep in ("--keep-daily", "--keep-weekly", "--keep-monthly"):
        assert keep in forget, f"no {keep} in the retention policy"


@check(id="BAK-004", title_en="The repository password and backup key are readable by root only",
       title_fa="گذرواژهٔ مخزن و کلید پشتیبان فقط برای root خواندنی است", severity="high", applies_to=SERVERS,
       policy="vault (backup passwords)", fix=FIX)
def test_backup_secrets_private(host):
    for path in ("/etc/restic/password", "/etc/restic/id_ed25519"):
        found = root_run(host, f"stat -c '%U %a' {path}")
        assert found.rc == 0, f"{path} is missing"
        user, mode = found.stdout.split()
        assert user == "root" and int(mode, 8) & 0o077 == 0, f"{path}: {user}, {mode}"


@check(id="BAK-005", title_en="A snapshot younger than two days is in the centre's repository",
       title_fa="نسخهٔ پشتیبانی جدیدتر از دو روز در مخزن مرکز استان هست", severity="critical",
       applies_to=SERVERS, policy=POLICY, fix=FIX)
def test_recent_snapshot_at_centre(host):
    wrapper = host.file("/usr/local/sbin/unitctl-restic")
    assert wrapper.exists, "restic is not set up"
    listed = root_run(host, "/usr/local/sbin/unitctl-restic snapshots --json --no-lock")
    assert listed.rc == 0, f"the repository at the centre does not answer: {listed.stderr.strip()[-300:]}"
    times = [datetime.fromisoformat(snapshot["time"]) for snapshot in json.loads(listed.stdout)]
    assert times, "the repository has no snapshot"
    newest = max(times)
    assert datetime.now(UTC) - newest < timedelta(days=2), f"the newest snapshot is from {newest.isoformat()}"


@check(id="BAK-006", title_en="Backup accounts at the centre can only use SFTP, each in its own folder",
       title_fa="حساب‌های پشتیبان در مرکز استان فقط SFTP دارند و هر کدام پوشهٔ جدا", severity="high",
       applies_to=("centre_server",), policy="roles/backup_target", fix="playbooks/centre.yml")
def test_backup_accounts_sftp_only(host):
    homes = host.run("ls -1 /srv/backup 2>/dev/null")
    assert homes.rc == 0 and homes.stdout.split(), "there is no backup account at the centre"
    for unit_id in homes.stdout.split():
        keys = host.file(f"/srv/backup/{unit_id}/.ssh/authorized_keys")
        assert keys.exists, f"{unit_id}: no authorised backup key"
        assert keys.user == "root", f"{unit_id}: the account could change its own keys"
        for line in keys.content_string.splitlines():
            if line and not line.startswith("#"):
                assert line.startswith('restrict,command="/usr/lib/openssh/sftp-server" '), f"{unit_id}: {line[:60]}"
        repository = host.file(f"/srv/backup/{unit_id}/restic")
        assert repository.is_directory and repository.mode & 0o077 == 0, f"{unit_id}: repository folder is open"

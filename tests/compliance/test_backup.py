"""Unit servers back up the archive and their configuration to the provincial centre, daily."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime, timedelta

from backup_facts import RESTIC, stale_locks, state_file
from server_facts import root_run

from unitctl.compliance import check

FIX = "playbooks/servers.yml"
SERVERS = ("unit_server",)
POLICY = "roles/backup (playbooks/servers.yml: what, when, how long)"
PRUNE_MAX_AGE_DAYS = 2  # province_backup_prune_max_age_days when the province sets none


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


@check(id="BAK-003", title_en="The repository holds no snapshot the retention policy would remove",
       title_fa="مخزن هیچ نسخه‌ای بیش از آنچه سیاست نگهداری اجازه می‌دهد ندارد", severity="medium",
       applies_to=SERVERS, policy="inventory/group_vars/all/backup.yml (province_backup_keep_*)", fix=FIX)
def test_retention_policy(host, inventory_host, policy):
    """The effect of the retention policy, asked of the repository: restic's own dry run of the
    province's policy (read only, no lock) finds nothing left to forget."""
    assert host.file(RESTIC).exists, "restic is not set up"
    keep = {period: int(policy[f"province_backup_keep_{period}"]) for period in ("daily", "weekly", "monthly")}
    options = " ".join(f"--keep-{period} {count}" for period, count in keep.items())
    dry_run = root_run(host, f"{RESTIC} forget --dry-run --no-lock --json --tag unitctl "
                             f"--host {shlex.quote(inventory_host.name)} {options}")
    assert dry_run.rc == 0, f"the repository at the centre does not answer: {dry_run.stderr.strip()[-300:]}"
    groups = json.loads(dry_run.stdout or "[]")
    kept = [snapshot for group in groups for snapshot in group.get("keep") or []]
    extra = sorted((snapshot for group in groups for snapshot in group.get("remove") or []), key=lambda s: s["time"])
    assert kept, "the repository has no snapshot of this server"
    assert not extra, (f"{len(extra)} snapshot(s) beyond the retention policy ({options}) still in the repository, "
                       f"the oldest from {extra[0]['time']}: no pruning has succeeded since")


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


@check(id="BAK-007", title_en="Old snapshots were pruned within the policy's period and no stale lock blocks pruning",
       title_fa="پاک‌سازی نسخه‌های قدیمی در مهلت سیاست انجام شده و هیچ قفل مانده‌ای جلوی آن را نگرفته است",
       severity="high", applies_to=SERVERS,
       policy="inventory/group_vars/all/backup.yml (province_backup_prune_max_age_days); roles/backup", fix=FIX)
def test_pruning_succeeded_recently(host, policy):
    """The last successful `forget --prune` (recorded by the backup run, only when restic succeeded)
    is younger than the policy's period, and the repository holds no lock that restic calls stale
    (one left by a run killed mid-way: it blocks every pruning until removed)."""
    assert host.file(RESTIC).exists, "restic is not set up"
    days = int(policy.get("province_backup_prune_max_age_days", PRUNE_MAX_AGE_DAYS))
    now, stale = stale_locks(host)
    succeeded, last = state_file(host, "prune-succeeded"), state_file(host, "prune-last")
    problems = [f"stale {lock}" for lock in stale]
    try:
        finished = datetime.fromisoformat(succeeded) if succeeded else None
    except ValueError:
        finished, succeeded = None, None
    if finished is None:
        problems.append(f"no successful pruning is recorded here (last attempt: {last or 'none recorded'})")
    elif now - finished > timedelta(days=days):
        problems.append(f"the last successful pruning finished {succeeded}, more than {days} days ago "
                        f"(last attempt: {last or 'none recorded'})")
    assert not problems, "; ".join(problems)

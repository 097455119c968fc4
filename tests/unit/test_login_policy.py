"""roles/login_policy and roles/login_banner, on their rendered files (the lab's containers cannot
hold a /tmp mount; the rest is also proved on the lab by test_hardening_login and the checks)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml

from unitctl.inventory.load import load_source
from unitctl.inventory.policy import load_policy
from unitctl.paths import LAB_INVENTORY, PROJECT_ROOT

ROLES = PROJECT_ROOT / "roles"
POLICY_DEFAULTS = yaml.safe_load((ROLES / "login_policy" / "defaults" / "main.yml").read_text(encoding="utf-8"))


def render(role: str, name: str, **variables) -> str:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(ROLES / role / "templates"),
                                     keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    environment.filters["to_json"] = lambda value, **kw: json.dumps(value, **kw)
    return environment.get_template(name).render(ansible_managed="test", **variables)


@pytest.fixture(scope="module")
def policy():
    source = load_source(str(LAB_INVENTORY))
    return load_policy(source.root, source.province, lab=source.lab)


def test_tmp_mount_unit_has_the_cis_options_and_systemd_accepts_it(tmp_path):
    unit = render("login_policy", "tmp.mount.j2", **POLICY_DEFAULTS)
    options = re.search(r"^Options=(.*)$", unit, re.M).group(1).split(",")
    assert {"nodev", "nosuid", "noexec", "mode=1777"} <= set(options)
    assert re.search(r"^Where=/tmp$", unit, re.M) and re.search(r"^WantedBy=local-fs.target$", unit, re.M)
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not on this machine")
    (tmp_path / "tmp.mount").write_text(unit, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / "tmp.mount")],
                            capture_output=True, text=True, timeout=60)
    problems = [line for line in result.stderr.splitlines() if "tmp.mount" in line]
    assert not problems, problems


def test_login_screen_banner_is_the_notice_as_a_gvariant_string(policy):
    notice = policy["province_legal_notice"]
    keyfile = render("login_banner", "dconf-banner.j2", login_banner_text=notice)
    value = re.search(r"^banner-message-text=(.*)$", keyfile, re.M).group(1)
    # A JSON string is a valid GVariant string literal (double quotes, \n and \" escapes, UTF-8 kept).
    assert json.loads(value) == notice.strip()
    assert "\n" not in value and "\u0647" in value  # one line; the Persian kept as it is


def test_the_province_notice_meets_the_roles_rules(policy):
    notice = policy["province_legal_notice"]
    assert re.search("[\u0600-\u06FF]", notice) and re.search("[A-Za-z]", notice)
    assert "\\" not in notice, "agetty would expand a backslash escape"
    assert not re.search(r"(?i)debian|gnu/linux|bookworm|ubuntu", notice)


def _profile(name: str) -> dict[str, str]:
    text = render("login_policy", f"pam-{name}.j2", **POLICY_DEFAULTS)
    fields, key = {}, None
    for line in text.splitlines():
        if line[:1] in ("\t", " ") and key:
            fields[key] += line.strip() + "\n"
        elif ":" in line:
            key, value = line.split(":", 1)
            fields[key] = value.strip() + ("\n" if not value.strip() else "")
    return fields


def test_pam_profiles_order_the_stack_as_cis_debian_12_does():
    profiles = {name: _profile(name) for name in POLICY_DEFAULTS["login_policy_pam_profiles"]}
    priority = {name: int(p["Priority"]) for name, p in profiles.items()}
    # pam-auth-update sorts by priority, highest first: preauth before pam_unix, authfail after,
    # pwhistory after pwquality (libpam-pwquality's profile: 1024) and before pam_unix.
    assert priority["unitctl-faillock-notify"] > priority["unitctl-unix"] > priority["unitctl-faillock"]
    assert 1024 > priority["unitctl-pwhistory"] > priority["unitctl-unix"]
    assert "preauth" in profiles["unitctl-faillock-notify"]["Auth"]
    assert "authfail" in profiles["unitctl-faillock"]["Auth"]
    assert "pam_faillock.so" in profiles["unitctl-faillock-notify"]["Account"]
    history = profiles["unitctl-pwhistory"]["Password"]
    assert "remember=24" in history and "enforce_for_root" in history and "use_authtok" in history
    assert all(p.get("Name") and p.get("Default") == "yes" for p in profiles.values())


def test_unitctl_unix_is_debians_unix_profile_without_nullok():
    ours = render("login_policy", "pam-unitctl-unix.j2", **POLICY_DEFAULTS)
    stack = ours.split("\n", 1)[1]  # below the Name line, which says what it leaves out
    assert "nullok" not in stack and "yescrypt" in stack
    debian = Path("/usr/share/pam-configs/unix")
    if not debian.exists():
        pytest.skip("Debian's unix profile is not on this machine")
    body = lambda text: [line.replace(" nullok", "") for line in text.splitlines() if not line.startswith("Name:")]  # noqa: E731
    assert [re.sub(r"\s+", " ", l) for l in body(ours)] == [re.sub(r"\s+", " ", l) for l in body(debian.read_text())]


def test_pwquality_and_faillock_settings_follow_the_policy(policy):
    variables = dict(POLICY_DEFAULTS, login_policy_password_quality=policy["province_password_quality"],
                     login_policy_lockout=policy["province_login_lockout"])
    quality = render("login_policy", "pwquality.conf.j2", **variables)
    for key, name in (("minlen", "min_length"), ("minclass", "min_classes"), ("difok", "difok")):
        assert f"{key} = {policy['province_password_quality'][name]}" in quality
    assert re.search(r"^enforce_for_root$", quality, re.M) and "dictcheck = 1" in quality
    faillock = render("login_policy", "faillock.conf.j2", **variables)
    assert f"deny = {policy['province_login_lockout']['deny']}" in faillock
    assert re.search(r"^even_deny_root$", faillock, re.M)
    assert f"root_unlock_time = {policy['province_login_lockout']['root_unlock_time']}" in faillock


def test_login_shell_file_sets_umask_and_a_readonly_timeout_and_survives_a_second_sourcing(tmp_path):
    script = tmp_path / "unitctl-login.sh"
    script.write_text(render("login_policy", "profile.sh.j2", **POLICY_DEFAULTS), encoding="utf-8")
    for shell in ("sh", "bash"):
        if not shutil.which(shell):
            continue
        result = subprocess.run([shell, "-c", f". {script}; . {script}; umask; echo $TMOUT"],
                                capture_output=True, text=True, timeout=10)
        assert result.returncode == 0 and not result.stderr, (shell, result.stderr)
        assert result.stdout.split() == ["0027", "900"], (shell, result.stdout)
        changed = subprocess.run([shell, "-c", f". {script}; TMOUT=0; echo changed"], capture_output=True, text=True, timeout=10)
        assert "changed" not in changed.stdout, f"{shell}: TMOUT could be changed"


def test_core_dump_limits_cover_root_too():
    limits = render("login_policy", "limits-coredump.conf.j2")
    entries = [line.split() for line in limits.splitlines() if line and not line.startswith("#")]
    assert ["*", "hard", "core", "0"] in entries and ["root", "hard", "core", "0"] in entries

"""The audit role's rules and auditd.conf (roles/audit), rendered offline and held against what the
CIS Debian Linux 12 Benchmark v1.1.0 (section 6.2) and dev-sec's package-08 ask.

The lab's hosts are containers, where no audit rule can be loaded (the kernel's audit subsystem is
not namespaced): these tests, and the lab test that has auditctl parse the rendered file on a lab
host (tests/integration/test_hardening_audit.py), are the rules' proof there.
"""

from __future__ import annotations

import re
import shlex

import jinja2
import pytest
import yaml

from unitctl.paths import PROJECT_ROOT

ROLE = PROJECT_ROOT / "roles" / "audit"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
ARCHES = yaml.safe_load((ROLE / "vars" / "main.yml").read_text(encoding="utf-8"))["audit_arches"]
PROGRAMS = ["/usr/bin/sudo", "/usr/bin/passwd", "/usr/bin/su"]
# What differs between Debian releases (roles/audit/vars/debian-*.yml): the records of sessions and
# logins, key -> paths (rendered here as if every one existed on the host).
RELEASE_VARS = {release: yaml.safe_load((ROLE / "vars" / f"debian-{release}.yml").read_text(encoding="utf-8"))
                for release in (12, 13)}


def render(name: str, **overrides) -> str:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(ROLE / "templates"), keep_trailing_newline=True,
                                     undefined=jinja2.StrictUndefined)
    variables = {**DEFAULTS, "audit_arches": ARCHES, "audit_privileged_programs": PROGRAMS,
                 "audit_login_watches": RELEASE_VARS[12]["audit_login_records"], **overrides}
    return environment.get_template(name).render(ansible_managed="test", **variables)


def rules(**overrides) -> list[list[str]]:
    return [shlex.split(line) for line in render("unitctl.rules.j2", **overrides).splitlines()
            if line.strip() and not line.startswith("#")]


def _options(words: list[str]) -> tuple[set[str], set[str], str | None]:
    """A rule's fields (-F, and -C comparisons), syscalls (-S) and key (-k)."""
    fields, syscalls, key = set(), set(), None
    for flag, value in zip(words, words[1:]):
        if flag in ("-F", "-C"):
            fields.add(value)
        elif flag == "-S":
            syscalls.update(value.split(","))
        elif flag == "-k":
            key = value
    return fields, syscalls, key


def watches(parsed) -> dict[str, tuple[str, str]]:
    """path -> (permissions, key) of every -w rule."""
    return {words[1]: (words[words.index("-p") + 1], words[words.index("-k") + 1]) for words in parsed if words[0] == "-w"}


def syscall_rule(parsed, arch: str, syscalls: set[str], key: str, fields: set[str] = frozenset()) -> bool:
    """Whether some rule records these syscalls on this arch, under this key, with at least these fields."""
    for words in parsed:
        if words[:2] != ["-a", "always,exit"]:
            continue
        have_fields, have_syscalls, have_key = _options(words)
        if f"arch={arch}" in have_fields and syscalls <= have_syscalls and have_key == key and fields <= have_fields:
            return True
    return False


# What each CIS recommendation of section 6.2.3 asks the loaded rules to watch (-w path: permissions).
CIS_WATCHES = {
    "6.2.3.1": {"/etc/sudoers": "wa", "/etc/sudoers.d": "wa"},
    "6.2.3.3": {"/var/log/sudo.log": "wa"},
    "6.2.3.4": {"/etc/localtime": "wa"},
    "6.2.3.5": {"/etc/issue": "wa", "/etc/issue.net": "wa", "/etc/hosts": "wa", "/etc/networks": "wa", "/etc/network": "wa"},
    "6.2.3.8": {"/etc/group": "wa", "/etc/passwd": "wa", "/etc/gshadow": "wa", "/etc/shadow": "wa",
                "/etc/security/opasswd": "wa", "/etc/nsswitch.conf": "wa", "/etc/pam.conf": "wa", "/etc/pam.d": "wa"},
    "6.2.3.11": {"/var/run/utmp": "wa", "/var/log/wtmp": "wa", "/var/log/btmp": "wa"},
    "6.2.3.12": {"/var/log/lastlog": "wa", "/var/run/faillock": "wa"},
    "6.2.3.14": {"/etc/apparmor": "wa", "/etc/apparmor.d": "wa"},
}
# ... and the syscalls it asks to be recorded on every arch, with the fields that narrow them.
CIS_SYSCALLS = {
    "6.2.3.2": [({"execve"}, "user_emulation", {"euid!=uid", "auid!=unset"})],
    "6.2.3.4": [({"adjtimex", "settimeofday"}, "time-change", set()), ({"clock_settime"}, "time-change", {"a0=0x0"})],
    "6.2.3.5": [({"sethostname", "setdomainname"}, "system-locale", set())],
    "6.2.3.7": [({"creat", "open", "openat", "truncate", "ftruncate"}, "access", {"exit=-EACCES", "auid>=1000"}),
                ({"creat", "open", "openat", "truncate", "ftruncate"}, "access", {"exit=-EPERM", "auid>=1000"})],
    "6.2.3.9": [({"chmod", "fchmod", "fchmodat"}, "perm_mod", {"auid>=1000"}),
                ({"chown", "fchown", "lchown", "fchownat"}, "perm_mod", {"auid>=1000"}),
                ({"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr"}, "perm_mod", {"auid>=1000"})],
    "6.2.3.10": [({"mount"}, "mounts", {"auid!=unset"})],
    "6.2.3.13": [({"unlink", "unlinkat", "rename", "renameat"}, "delete", {"auid>=1000"})],
    "6.2.3.19": [({"init_module", "finit_module", "delete_module"}, "kernel_modules", {"auid!=unset"})],
}


# Debian 13 keeps logins in wtmpdb and lastlog2 as well (pam_lastlog is gone): watched with the same keys.
RELEASE_WATCHES = {12: {}, 13: {"/var/lib/wtmpdb/wtmp.db": ("wa", "session"),
                                "/var/lib/lastlog/lastlog2.db": ("wa", "logins")}}


@pytest.mark.parametrize("release", sorted(RELEASE_VARS))
@pytest.mark.parametrize("control", sorted(CIS_WATCHES))
def test_the_rules_watch_what_cis_asks(control, release):
    found = watches(rules(audit_login_watches=RELEASE_VARS[release]["audit_login_records"]))
    for path, permissions in CIS_WATCHES[control].items():
        assert path in found, f"CIS {control}: {path} is not watched"
        assert set(permissions) <= set(found[path][0]), f"CIS {control}: {path} watched for {found[path][0]}, not {permissions}"


@pytest.mark.parametrize("control", sorted(CIS_SYSCALLS))
def test_the_rules_record_the_syscalls_cis_asks_on_every_arch(control):
    parsed = rules()
    for arch in ("b64", "b32"):
        for syscalls, key, fields in CIS_SYSCALLS[control]:
            assert syscall_rule(parsed, arch, syscalls, key, fields), f"CIS {control}: no {arch} rule for {sorted(syscalls)}"


def test_each_privileged_program_found_is_recorded_and_kmod_chcon_setfacl_chacl_usermod_too():
    """CIS 6.2.3.6 (the setuid/setgid programs found at provisioning), 6.2.3.15 to 6.2.3.19 (programs)."""
    executed = {field.split("=", 1)[1]: key for words in rules() if words[:2] == ["-a", "always,exit"]
                for fields, _, key in [_options(words)] if "perm=x" in fields
                for field in fields if field.startswith("path=")}
    for program in PROGRAMS:
        assert executed.get(program) == "privileged", program
    assert executed["/usr/bin/kmod"] == "kernel_modules"
    for program in ("/usr/bin/chcon", "/usr/bin/setfacl", "/usr/bin/chacl", "/usr/sbin/usermod"):
        assert program in executed, program


def test_ssh_configuration_and_the_archive_folders_are_watched():
    parsed = rules(audit_watched_folders=["/srv/archive"])
    found = watches(parsed)
    assert found["/etc/ssh/sshd_config"] == ("wa", "sshd_config") and found["/etc/ssh/sshd_config.d"][1] == "sshd_config"
    # Every access to the archive by someone who logged in: reads too (who opened a case file), not
    # only changes; on both arches. Daemons (auid unset: the nightly backup, smbd) are left out.
    for arch in ("b64", "b32"):
        archive = [words for words in parsed if "archive" == _options(words)[2] and f"arch={arch}" in _options(words)[0]]
        assert len(archive) == 1, (arch, archive)
        assert {"dir=/srv/archive", "perm=rwa", "auid!=unset"} <= _options(archive[0])[0], archive
    assert "archive" not in {_options(words)[2] for words in rules()}, "no archive rule without an archive"


def test_every_rule_is_well_formed():
    """What auditctl would refuse: an unknown option, permissions outside rwxa, a key over 31 characters,
    a syscall rule without an arch (on a 64-bit kernel it would mean the 64-bit table only by accident),
    a field operator auditctl does not know."""
    for words in rules(audit_watched_folders=["/srv/archive"]):
        line = " ".join(words)
        assert words[0] in ("-w", "-a", "-b"), line
        if words[0] == "-b":
            assert int(words[1]) >= 8192, "CIS 6.2.1.4: the backlog is at least 8192"
            continue
        _, syscalls, key = _options(words)
        assert key and len(key) <= 31 and re.fullmatch(r"[\w-]+", key), line
        if words[0] == "-w":
            assert words[1].startswith("/") and re.fullmatch(r"[rwxa]+", words[words.index("-p") + 1]), line
            continue
        assert words[1] == "always,exit", line
        for flag, value in zip(words[2::2], words[3::2]):
            assert flag in ("-F", "-S", "-C", "-k"), line
            if flag in ("-F", "-C"):
                assert re.fullmatch(r"[a-z0-9]+(=|!=|>=|<=|>|<)[^\s=]+", value), f"field {value!r}: {line}"
        if syscalls - {"all"}:
            assert any(f.startswith("arch=") for f in _options(words)[0]), f"syscall rule without an arch: {line}"


def test_the_lock_is_last_and_the_boot_audits_from_the_start():
    finalize = [line for line in render("99-unitctl-finalize.rules.j2").splitlines() if line and not line.startswith("#")]
    assert finalize == ["-e 2"], "CIS 6.2.3.20: the rules are locked, by the file augenrules reads last"
    grub = render("grub.cfg.j2")
    assert 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX audit=1 audit_backlog_limit=8192"' in grub  # CIS 6.2.1.3, 6.2.1.4


def _conf(**overrides) -> dict[str, str]:
    return {key.strip(): value.strip() for key, _, value in
            (line.partition("=") for line in render("auditd.conf.j2", **overrides).splitlines() if "=" in line and not line.startswith("#"))}


def test_auditd_conf_rotates_within_its_bound_and_matches_dev_sec_package_08_otherwise():
    conf = _conf()
    # CIS 6.2.2.1; rotated within a bound rather than kept for ever (6.2.2.2 left out: the README says why).
    assert conf["max_log_file"] == "8" and conf["max_log_file_action"] == "ROTATE" and conf["num_logs"] == "10"
    assert conf["log_file"] == "/var/log/audit/audit.log" and conf["log_group"] in ("adm", "root")  # CIS 6.2.4.3
    dev_sec = {"log_format": "RAW", "space_left": "75", "action_mail_acct": "root",
               "space_left_action": "SYSLOG", "admin_space_left": "50", "admin_space_left_action": "SUSPEND",
               "disk_full_action": "SUSPEND", "disk_error_action": "SUSPEND"}
    assert {key: conf[key] for key in dev_sec} == dev_sec
    assert conf["flush"] in ("INCREMENTAL", "INCREMENTAL_ASYNC")


def test_a_province_that_halts_on_a_full_audit_disk_gets_cis_6_2_2_3():
    conf = _conf(audit_disk_full_action="halt", audit_admin_space_left_action="single")
    assert conf["disk_full_action"] == "HALT" and conf["admin_space_left_action"] == "SINGLE"


@pytest.mark.parametrize("release", sorted(RELEASE_VARS))
def test_each_release_watches_its_own_login_records(release):
    found = watches(rules(audit_login_watches=RELEASE_VARS[release]["audit_login_records"]))
    for path, (permissions, key) in RELEASE_WATCHES[release].items():
        assert path in found and found[path] == (permissions, key), f"Debian {release}: {path} not watched as {key}"
    assert RELEASE_VARS[release].keys() == RELEASE_VARS[12].keys(), "the releases' vars files name different variables"


def test_a_missing_login_record_is_left_out():
    found = watches(rules(audit_login_watches={"session": ["/var/run/utmp"], "logins": []}))
    assert "/var/run/utmp" in found and "/var/log/lastlog" not in found

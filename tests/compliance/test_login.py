"""Login and PAM (roles/login_policy): password quality, lockout and hashing through Debian's
pam-auth-update stack, login sessions' umask and idle timeout, homes, core dumps, /tmp, ageing.

The lockout and the quality rules are also tried on a test account by the lab test
tests/integration/test_hardening_login.py; a check never tries passwords on a real account."""

from __future__ import annotations

import shlex

import pytest

from login_facts import FIX, LINUX_HOSTS, POLICY
from server_facts import container, root_output, root_run
from unitctl.compliance import check

# Passwords pwscore must refuse under the province's rules, and one it must accept (so a tool that
# refuses everything does not pass). Made up here, used nowhere.
WEAK = {"too short": "Qm-7x!ab", "one class": "judiciaryqomprovince", "a word": "Password12345!"}
STRONG = "Vq7#tLr9-Kz2@wHx"


def _settings(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) if "=" in line else line.split(None, 1) for line in text.splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {p[0].strip(): (p[1].strip() if len(p) > 1 else "") for p in pairs}


@check(id="LOGIN-001", title_en="Weak passwords are refused, for root too, and old ones cannot be reused",
       title_fa="گذرواژهٔ ضعیف، حتی برای root، پذیرفته نمی‌شود و گذرواژه‌های پیشین دوباره به کار نمی‌روند",
       severity="high", applies_to=LINUX_HOSTS, policy=POLICY, fix=FIX,
       controls=("CIS 5.3.1.3", "CIS 5.3.2.3", "CIS 5.3.2.4", "CIS 5.3.3.2.2", "CIS 5.3.3.2.3", "CIS 5.3.3.2.6",
                 "CIS 5.3.3.2.8", "CIS 5.3.3.3.1", "CIS 5.3.3.3.2", "CIS 5.3.3.3.3"))
def test_password_quality(host, policy):
    quality = policy["province_password_quality"]
    # libpwquality's own verdict (pwscore reads the same settings pam_pwquality does).
    tries = "; ".join(f"printf '%s\\n' '{pw}' | pwscore >/dev/null 2>&1; echo $?" for pw in [*WEAK.values(), STRONG])
    result = root_run(host, f"command -v pwscore >/dev/null || exit 3; {tries}; echo ----; cat /etc/pam.d/common-password")
    assert result.rc != 3, "pwscore (libpwquality-tools) is not installed: the quality rules cannot be asked"
    verdicts, stack = result.stdout.split("----\n", 1)
    codes = verdicts.split()
    accepted = [name for name, code in zip(WEAK, codes) if code == "0"]
    assert not accepted, f"pwscore accepts a weak password ({', '.join(accepted)})"
    assert codes[-1] == "0", "pwscore refuses even a strong password: the rules cannot be met"
    lines = [line.split() for line in stack.splitlines() if line.startswith("password")]
    modules = [next((word for word in line if word.endswith(".so")), "") for line in lines]
    assert "pam_pwquality.so" in modules, "pam_pwquality is not in the password stack"
    assert "pam_pwhistory.so" in modules, "pam_pwhistory is not in the password stack"
    assert modules.index("pam_pwquality.so") < modules.index("pam_pwhistory.so") < modules.index("pam_unix.so"), \
        f"the password stack's order is {modules}"
    history = lines[modules.index("pam_pwhistory.so")]
    remember = next((int(w.split("=")[1]) for w in history if w.startswith("remember=")), 0)
    assert remember >= quality["remember"], f"pam_pwhistory remembers {remember} passwords, not {quality['remember']}"
    assert "enforce_for_root" in history and "use_authtok" in history, f"pam_pwhistory: {' '.join(history)}"
    settings = _settings(root_output(host, "cat /etc/security/pwquality.conf /etc/security/pwquality.conf.d/*.conf 2>/dev/null"))
    assert "enforce_for_root" in settings, "pwquality does not bind root (enforce_for_root)"
    assert settings.get("enforcing", "1") != "0", "pwquality only warns (enforcing = 0)"


@check(id="LOGIN-002", title_en="An account is locked after repeated failed passwords",
       title_fa="حساب پس از چند گذرواژهٔ نادرست پی‌درپی قفل می‌شود", severity="high", applies_to=LINUX_HOSTS,
       policy=POLICY, fix=FIX, controls=("CIS 5.3.2.2", "CIS 5.3.3.1.1", "CIS 5.3.3.1.2", "CIS 5.3.3.1.3"))
def test_failed_login_lockout(host, policy):
    lockout = policy["province_login_lockout"]
    output = root_output(host, "cat /etc/pam.d/common-auth; echo ----; cat /etc/pam.d/common-account; echo ----; "
                               "cat /etc/security/faillock.conf")
    auth, account, conf = output.split("----\n", 2)
    auth_modules = [" ".join(w for w in line.split() if w.startswith("pam_") or w in ("preauth", "authfail"))
                    for line in auth.splitlines() if line.startswith("auth")]
    assert "pam_faillock.so preauth" in auth_modules and "pam_faillock.so authfail" in auth_modules, \
        f"pam_faillock is not in the authentication stack: {auth_modules}"
    order = [m.split()[0] if m.startswith("pam_unix") else m for m in auth_modules]
    assert order.index("pam_faillock.so preauth") < order.index("pam_unix.so") < order.index("pam_faillock.so authfail"), \
        f"pam_faillock is not around pam_unix: {auth_modules}"
    assert any("pam_faillock.so" in line for line in account.splitlines() if line.startswith("account")), \
        "pam_faillock is not in the account stack"
    settings = _settings(conf)
    deny, unlock = int(settings.get("deny", 3)), int(settings.get("unlock_time", 600))
    assert 0 < deny <= lockout["deny"], f"faillock deny is {deny}, not at most {lockout['deny']}"
    assert unlock == 0 or unlock >= lockout["unlock_time"], f"faillock unlock_time is {unlock}"
    # root_unlock_time means nothing without even_deny_root (CIS 5.3.3.1.3: root is locked too).
    assert "even_deny_root" in settings, "root is never locked (faillock.conf has no even_deny_root)"
    assert int(settings.get("root_unlock_time", unlock)) >= 60, "root is unlocked again in under a minute"


@check(id="LOGIN-003", title_en="Passwords are hashed with yescrypt and an empty password opens nothing",
       title_fa="گذرواژه‌ها با yescrypt درهم‌سازی می‌شوند و گذرواژهٔ خالی راه ورود نیست", severity="high",
       applies_to=LINUX_HOSTS, policy=POLICY, fix=FIX, controls=("CIS 5.3.3.4.1", "CIS 5.3.3.4.3", "CIS 5.4.1.4"))
def test_password_hashing(host):
    output = root_output(host, "grep -h '^[a-z]' /etc/pam.d/common-auth /etc/pam.d/common-password; echo ----; "
                               "grep -E '^ENCRYPT_METHOD' /etc/login.defs; echo ----; "
                               "awk -F: '$2 == \"\" { print $1 }' /etc/shadow")
    stack, method, empty = output.split("----\n", 2)
    unix = [line for line in stack.splitlines() if "pam_unix.so" in line]
    assert not [line for line in unix if "nullok" in line], "pam_unix accepts empty passwords (nullok)"
    password = [line for line in unix if line.startswith("password")]
    assert password and all("yescrypt" in line for line in password), f"pam_unix does not hash with yescrypt: {password}"
    assert method.split()[1:2] in (["YESCRYPT"], ["SHA512"]), f"login.defs: {method.strip() or 'no ENCRYPT_METHOD'}"
    assert not empty.split(), f"accounts with an empty password: {empty.split()}"


@check(id="LOGIN-004", title_en="A login session makes private files (umask 027) and an idle shell ends",
       title_fa="فایل‌های تازهٔ نشست ورود خصوصی‌اند (umask 027) و پوستهٔ بی‌کار بسته می‌شود", severity="medium",
       applies_to=LINUX_HOSTS, policy=POLICY, fix=FIX, controls=("CIS 5.4.2.6", "CIS 5.4.3.2", "CIS 5.4.3.3"))
def test_login_session_umask_and_timeout(host, policy):
    # A real login shell (runuser -l: PAM session, /etc/profile) makes a file and shows its TMOUT.
    probe = ("f=$(mktemp -u /tmp/unitctl-umask.XXXXXX); : > \"$f\"; stat -c %a \"$f\"; rm -f \"$f\"; "
             "echo \"${TMOUT:-none}\"; readonly -p | grep -c ' TMOUT=' || true")
    mode, timeout, readonly = root_output(host, f"runuser -l root -c {shlex.quote(probe)} 2>/dev/null").split()[-3:]
    assert mode == "640", f"a login session's new file has mode {mode}, not 640 (umask 027)"
    limit = policy["province_shell_timeout"]
    assert timeout.isdigit() and 0 < int(timeout) <= limit, f"TMOUT is {timeout}, not at most {limit}"
    assert readonly == "1", "TMOUT is not read-only: a user can switch the timeout off"


@check(id="LOGIN-005", title_en="The homes of accounts that can log in are closed to others",
       title_fa="پوشهٔ خانگی کاربران به روی دیگران بسته است", severity="medium", applies_to=LINUX_HOSTS,
       policy=POLICY, fix=FIX, controls=("CIS 7.2.9",))
def test_homes_closed(host):
    output = root_output(host, "grep -E '^(UMASK|HOME_MODE)' /etc/login.defs; echo ----; "
                               "awk -F: 'NR == FNR { if ($0 ~ /^\\// && $0 !~ /nologin$/) shells[$0]; next } "
                               "($7 in shells) && $6 != \"/\" { print $1, $6 }' /etc/shells /etc/passwd | "
                               "while read -r user home; do [ -d \"$home\" ] && "
                               "find \"$home\" -maxdepth 0 -user \"$user\" -perm /027 -printf '%p %m\\n'; done; true")
    defs, open_homes = output.split("----\n", 1)
    new_home = dict(line.split()[:2] for line in defs.splitlines() if len(line.split()) >= 2)
    mode = new_home.get("HOME_MODE") or oct(0o777 & ~int(new_home.get("UMASK", "022"), 8))[2:]
    assert int(mode, 8) & 0o027 == 0, f"useradd makes new homes {mode} (login.defs HOME_MODE/UMASK)"
    assert not open_homes.split(), f"homes open to their group's writes or to others: {open_homes.splitlines()}"


@check(id="LOGIN-006", title_en="Programs cannot dump core", title_fa="برنامه‌ها نمی‌توانند روگرفت حافظه بنویسند",
       severity="medium", applies_to=LINUX_HOSTS, policy=POLICY, fix=FIX, controls=("CIS 1.5.3",))
def test_no_core_dumps(host):
    # The hard limit of a root login session and of a user's (pam_limits), and whether a setuid
    # program may dump (fs.suid_dumpable; in a container that is the host kernel's, so the boot setting is read).
    output = root_output(host, "runuser -l root -c 'ulimit -Hc' 2>/dev/null | tail -1; echo ----; "
                               "runuser -u nobody -- sh -c 'ulimit -Hc'; echo ----; cat /proc/sys/fs/suid_dumpable; echo ----; "
                               "cat /etc/sysctl.conf /etc/sysctl.d/*.conf 2>/dev/null | "
                               "sed -n 's/^[[:space:]]*fs.suid_dumpable[[:space:]]*=[[:space:]]*//p' | tail -1")
    root_limit, user_limit, live, configured = (part.strip() for part in output.split("----\n", 3))
    assert root_limit == "0" and user_limit == "0", f"core dumps allowed: root's hard limit {root_limit}, a user's {user_limit}"
    assert configured == "0", f"fs.suid_dumpable is not set to 0 at boot ({configured})"
    if not container(host):
        assert live == "0", f"fs.suid_dumpable is {live}: setuid programs may dump core"


@check(id="LOGIN-007", title_en="/tmp is a separate mount with nodev, nosuid and noexec",
       title_fa="‏/tmp جداگانه و با nodev، nosuid و noexec سوار شده است", severity="medium", applies_to=LINUX_HOSTS,
       policy=POLICY, fix=FIX, controls=("CIS 1.1.2.1.1", "CIS 1.1.2.1.2", "CIS 1.1.2.1.3", "CIS 1.1.2.1.4"))
def test_tmp_mount(host):
    if container(host):
        pytest.skip("not applicable in a container: /tmp is the container manager's mount")
    options = host.run("findmnt --noheadings --output OPTIONS --mountpoint /tmp")
    assert options.rc == 0, "/tmp is not a separate mount (tmp.mount is mounted at boot)"
    missing = [o for o in ("nodev", "nosuid", "noexec") if o not in options.stdout.strip().split(",")]
    assert not missing, f"/tmp is mounted without {missing}"


@check(id="LOGIN-008", title_en="Accounts with a password age by the province's rules",
       title_fa="حساب‌های دارای گذرواژه طبق قاعدهٔ استان منقضی می‌شوند", severity="medium", applies_to=LINUX_HOSTS,
       policy=POLICY, fix=FIX, controls=("CIS 5.4.1.3", "CIS 5.4.1.5"))
def test_password_ageing(host, policy):
    ageing = policy["province_password_ageing"]
    output = root_output(host, "useradd -D | sed -n 's/^INACTIVE=//p'; echo ----; "
                               "awk -F: '$2 ~ /^\\$/ { print $1 \":\" $4 \":\" $5 \":\" $6 \":\" $7 }' /etc/shadow")
    inactive_default, accounts = output.split("----\n", 1)
    default = int(inactive_default.strip() or -1)
    assert 0 <= default <= ageing["inactive_days"], f"new accounts never lock for inactivity (useradd INACTIVE={default})"
    wrong = []
    for line in accounts.splitlines():
        name, min_days, max_days, warn, inactive = (line.split(":") + ["", "", "", ""])[:5]
        if not max_days or not 0 < int(max_days) <= ageing["max_days"] or int(warn or 0) < 7 or int(min_days or 0) < 1 \
                or name != "root" and not (inactive and 0 <= int(inactive) <= ageing["inactive_days"]):
            wrong.append(f"{name} (min {min_days}, max {max_days}, warn {warn}, inactive {inactive or 'never'})")
    assert not wrong, f"accounts with a password outside the ageing rules: {wrong}"

"""The legal notice before every login (roles/login_banner): the console, the network (the file
sshd's Banner names; roles/ssh_server proves sshd sends it), the message of the day, and the
workstations' GDM login screen."""

from __future__ import annotations

import ast

from login_facts import FIX, LINUX_HOSTS, POLICY
from server_facts import root_output
from unitctl.compliance import check

OS_WORDS = ("debian", "gnu/linux", "bookworm")


def _notice(policy) -> list[str]:
    return [line.strip() for line in policy["province_legal_notice"].strip().splitlines() if line.strip()]


def _os_leaks(text: str, kernel: str) -> list[str]:
    lowered = text.lower()
    return [word for word in OS_WORDS + (kernel.lower(),) if word and word in lowered]


@check(id="BANNER-001", title_en="The console shows the legal notice and nothing about the system",
       title_fa="کنسول، هشدار قانونی را نشان می‌دهد و چیزی از سیستم‌عامل فاش نمی‌کند", severity="medium",
       applies_to=LINUX_HOSTS, policy=POLICY, fix=FIX, controls=("CIS 1.6.2", "CIS 1.6.5"))
def test_console_notice(host, policy):
    # What agetty prints before the console's login prompt, its escapes expanded (agetty --show-issue,
    # on a pseudo-terminal from script(1): agetty needs one).
    output = root_output(host, "uname -r; echo ----; stat -c '%U:%G %a' /etc/issue; echo ----; "
                               "script -qec 'agetty --show-issue' /dev/null | tr -d '\\r' || cat /etc/issue")
    kernel, owner, shown = (part.strip("\n") for part in output.split("----\n", 2))
    assert owner.strip() == "root:root 644", f"/etc/issue is {owner.strip()}, not root:root 644"
    missing = [line for line in _notice(policy) if line not in shown]
    assert not missing, f"the console does not show the notice's lines {missing[:2]}; it shows: {shown[:200]!r}"
    leaks = _os_leaks(shown, kernel.strip())
    assert not leaks, f"the console shows the system's identity: {leaks}"


@check(id="BANNER-002", title_en="Network logins and the message of the day show the notice and no system version",
       title_fa="ورود از شبکه و پیام روز، هشدار قانونی را نشان می‌دهند و نسخهٔ سیستم را نه", severity="medium",
       applies_to=LINUX_HOSTS, policy=POLICY, fix=FIX,
       controls=("CIS 1.6.1", "CIS 1.6.3", "CIS 1.6.4", "CIS 1.6.6"))
def test_network_notice_and_motd(host, policy):
    # /etc/issue.net is what sshd's Banner sends; the motd is /etc/motd plus what pam_motd runs at login.
    output = root_output(host, "uname -r; echo ----; stat -c '%n %U:%G %a' /etc/issue.net /etc/motd; echo ----; "
                               "cat /etc/issue.net; echo ----; cat /etc/motd; "
                               "run-parts --lsbsysinit /etc/update-motd.d 2>/dev/null")
    kernel, modes, network, motd = output.split("----\n", 3)
    wrong = [line for line in modes.splitlines() if not line.endswith(" root:root 644")]
    assert not wrong, f"not root:root 644: {wrong}"
    missing = [line for line in _notice(policy) if line not in network]
    assert not missing, f"/etc/issue.net lacks the notice's lines {missing[:2]}"
    leaks = _os_leaks(network, kernel.strip()) + _os_leaks(motd, kernel.strip())
    assert not leaks, f"the network banner or the message of the day shows the system's identity: {leaks}"


@check(id="BANNER-003", title_en="The workstation login screen shows the legal notice",
       title_fa="صفحهٔ ورود ایستگاه کاری، هشدار قانونی را نشان می‌دهد", severity="medium",
       applies_to=("cms_client",), policy=POLICY, fix="playbooks/workstations.yml",
       controls=("CIS 1.7.2", "CIS 1.7.3"))
def test_login_screen_notice(host, policy):
    # What GDM's greeter reads: its dconf profile and compiled database, asked through dconf itself
    # (the lab's workstations have no display manager; one installed later reads the same).
    output = root_output(host, "export DCONF_PROFILE=gdm; for key in banner-message-enable banner-message-text "
                               "disable-user-list; do dconf read /org/gnome/login-screen/$key; echo ----; done")
    enabled, text, no_list = (part.strip() for part in output.split("----\n")[:3])
    assert enabled == "true", f"the login screen's banner is not enabled (banner-message-enable: {enabled or 'unset'})"
    shown = ast.literal_eval(text) if text[:1] in "'\"" else ""
    missing = [line for line in _notice(policy) if line not in shown]
    assert not missing, f"the login screen's banner lacks the notice's lines {missing[:2]} (it is {text[:120]!r})"
    assert no_list == "true", "the login screen lists the users (disable-user-list is not true)"

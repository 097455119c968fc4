"""SSH access (roles/automation_access, roles/ssh_server). SSH-001 (service running) is in test_identity.py."""

from __future__ import annotations

import ssh_probe
from server_facts import SERVERS, root_output
from unitctl.compliance import check

FIX = "playbooks/servers.yml"
POLICY = "inventory/group_vars/all/ssh.yml"


def sshd_settings(host) -> dict[str, str]:
    """The effective sshd settings (`sshd -T`), keyword -> value (repeated keywords joined by spaces)."""
    settings: dict[str, str] = {}
    for line in root_output(host, "/usr/sbin/sshd -T").splitlines():
        if " " in line:
            key, value = line.split(" ", 1)
            settings[key] = f"{settings[key]} {value}" if key in settings else value
    return settings


@check(id="AUTO-001", title_en="The automation account exists with its keys and sudo",
       title_fa="حساب خودکارسازی با کلیدها و دسترسی sudo وجود دارد", severity="high", applies_to=SERVERS,
       policy="inventory/group_vars/all/automation.yml", fix=FIX)
def test_automation_account(host, policy):
    name = policy["province_automation_user"]
    user = host.user(name)
    assert user.exists, f"the automation account {name} does not exist"
    assert user.shell == "/bin/bash"
    keys = root_output(host, f"cat {user.home}/.ssh/authorized_keys 2>/dev/null || true")
    assert any(line.startswith("ssh-") for line in keys.splitlines()), "its authorized_keys has no key"
    sudo = root_output(host, f"sudo -l -U {name}")
    assert "NOPASSWD: ALL" in sudo, f"{name} has no passwordless sudo"


@check(id="SSH-002", title_en="SSH accepts public keys only", title_fa="ورود SSH فقط با کلید عمومی ممکن است",
       severity="critical", applies_to=SERVERS, policy=POLICY, fix=FIX)
def test_ssh_keys_only(host, inventory_host):
    # The running daemon, asked over the network: what it offers anyone who knocks.
    offered = ssh_probe.login_methods(inventory_host.address)
    assert offered == ["publickey"], f"sshd offers {offered} (only publickey may be offered)"
    settings = sshd_settings(host)
    assert settings.get("passwordauthentication") == "no", "password login is allowed"
    assert settings.get("kbdinteractiveauthentication") == "no", "keyboard-interactive login is allowed"
    assert settings.get("pubkeyauthentication") == "yes"
    assert settings.get("permitemptypasswords") == "no"


@check(id="SSH-003", title_en="Root cannot log in over SSH", title_fa="ورود کاربر root از راه SSH بسته است",
       severity="critical", applies_to=SERVERS, policy=POLICY, fix=FIX)
def test_ssh_no_root_login(host):
    assert sshd_settings(host).get("permitrootlogin") == "no"


@check(id="SSH-004", title_en="Only the automation account's and staff groups may log in",
       title_fa="فقط گروه حساب خودکارسازی و گروه کارکنان واحد اجازهٔ ورود SSH دارند", severity="high",
       applies_to=SERVERS, policy=POLICY, fix=FIX)
def test_ssh_allow_groups(host, inventory_host, policy):
    groups = sshd_settings(host).get("allowgroups", "").split()
    assert groups, "AllowGroups is not set: every account may log in"
    assert policy["province_automation_user"] in groups, f"the automation account's group is not allowed: {groups}"
    assert f"staff-{inventory_host.unit_id}" in groups, f"the unit's staff group is not allowed: {groups}"


@check(id="SSH-005", title_en="SSH ciphers, key exchanges and MACs follow the province baseline",
       title_fa="الگوریتم‌های رمز، تبادل کلید و MAC در SSH مطابق سیاست استان است", severity="high",
       applies_to=SERVERS, policy=POLICY, fix=FIX)
def test_ssh_crypto(host, inventory_host, policy):
    # The running daemon refuses a handshake offering only what the policy leaves out. (MACs cannot
    # be tried this way while the policy's ciphers are all AEAD: no MAC is negotiated with them.)
    for kind, allowed in (("ciphers", policy["province_ssh_ciphers"]), ("kex", policy["province_ssh_kex_algorithms"])):
        outside = ssh_probe.outside_policy(kind, allowed)
        agreed = ssh_probe.agrees_to(inventory_host.address, kind, outside) if outside else None
        assert agreed is None, f"sshd agreed to {agreed} when offered only {kind} outside the policy: {outside}"
    settings = sshd_settings(host)
    assert settings.get("ciphers", "").split(",") == policy["province_ssh_ciphers"]
    assert settings.get("kexalgorithms", "").split(",") == policy["province_ssh_kex_algorithms"]
    assert settings.get("macs", "").split(",") == policy["province_ssh_macs"]

"""SSH access (roles/automation_access, roles/ssh_server). SSH-001 (service running) is in test_identity.py."""

from __future__ import annotations

import uuid

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


@check(id="AUTO-002", title_en="sudo logs every use to its own log file and runs commands on a pseudo-terminal",
       title_fa="هر بار استفاده از sudo در فایل گزارش خودش ثبت می‌شود و فرمان‌ها روی شبه‌پایانه اجرا می‌شوند",
       severity="medium", applies_to=SERVERS, policy="roles/automation_access/defaults/main.yml", fix=FIX,
       controls=("CIS 5.2.2", "CIS 5.2.3"))
def test_sudo_logs_every_use(host):
    log = "/var/log/sudo.log"
    marker = f"/bin/echo unitctl-sudo-log-{uuid.uuid4().hex[:12]}"
    # The command goes through sudo in any case (root too), so the log has to show it.
    result = host.run(f"sudo -n {marker}")
    assert result.rc == 0, f"sudo -n failed: {result.stderr.strip()}"
    logged = root_output(host, f"tail -n 200 {log} 2>/dev/null || true")
    assert marker.split(" ", 1)[1] in logged, f"{log} does not record the sudo use just made ({marker})"
    settings = root_output(host, "sudo -V")
    assert "Always run commands in a pseudo-tty" in settings, "sudo does not run commands on a pseudo-terminal (use_pty)"


@check(id="SSH-002", title_en="SSH accepts public keys only", title_fa="ورود SSH فقط با کلید عمومی ممکن است",
       severity="critical", applies_to=SERVERS, policy=POLICY, fix=FIX,
       controls=("CIS 5.1.9", "CIS 5.1.10", "CIS 5.1.11", "CIS 5.1.19", "CIS 5.1.22", "dev-sec sshd-22",
                 "dev-sec sshd-23", "dev-sec sshd-25", "dev-sec sshd-27", "dev-sec sshd-28", "dev-sec sshd-33"))
def test_ssh_keys_only(host, inventory_host):
    # The running daemon, asked over the network: what it offers anyone who knocks.
    offered = ssh_probe.login_methods(inventory_host.address)
    assert offered == ["publickey"], f"sshd offers {offered} (only publickey may be offered)"
    settings = sshd_settings(host)
    assert settings.get("passwordauthentication") == "no", "password login is allowed"
    assert settings.get("kbdinteractiveauthentication") == "no", "keyboard-interactive login is allowed"
    assert settings.get("pubkeyauthentication") == "yes"
    assert settings.get("permitemptypasswords") == "no"
    # No other way in: hosts' word (rhosts, host-based), Kerberos tickets; PAM does the account checks.
    expected = {"hostbasedauthentication": "no", "ignorerhosts": "yes", "gssapiauthentication": "no",
                "kerberosauthentication": "no", "usepam": "yes"}
    wrong = {key: settings.get(key) for key, value in expected.items() if settings.get(key) != value}
    assert not wrong, f"sshd settings other than {expected}: {wrong}"


@check(id="SSH-003", title_en="Root cannot log in over SSH", title_fa="ورود کاربر root از راه SSH بسته است",
       severity="critical", applies_to=SERVERS, policy=POLICY, fix=FIX, controls=("CIS 5.1.20", "dev-sec sshd-06"))
def test_ssh_no_root_login(host):
    assert sshd_settings(host).get("permitrootlogin") == "no"


@check(id="SSH-004", title_en="Only the automation account's and staff groups may log in",
       title_fa="فقط گروه حساب خودکارسازی و گروه کارکنان واحد اجازهٔ ورود SSH دارند", severity="high",
       applies_to=SERVERS, policy=POLICY, fix=FIX, controls=("CIS 5.1.4",))
def test_ssh_allow_groups(host, inventory_host, policy):
    groups = sshd_settings(host).get("allowgroups", "").split()
    assert groups, "AllowGroups is not set: every account may log in"
    assert policy["province_automation_user"] in groups, f"the automation account's group is not allowed: {groups}"
    assert f"staff-{inventory_host.unit_id}" in groups, f"the unit's staff group is not allowed: {groups}"


@check(id="SSH-005", title_en="SSH ciphers, key exchanges and MACs follow the province baseline",
       title_fa="الگوریتم‌های رمز، تبادل کلید و MAC در SSH مطابق سیاست استان است", severity="high",
       applies_to=SERVERS, policy=POLICY, fix=FIX,
       controls=("CIS 5.1.6", "CIS 5.1.12", "CIS 5.1.15", "dev-sec sshd-01", "dev-sec sshd-02", "dev-sec sshd-03"))
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


@check(id="SSH-006", title_en="SSH refuses every kind of forwarding (ports, agent, X11, tunnels)",
       title_fa="SSH هیچ گونه هدایت (درگاه، عامل کلید، X11، تونل) را نمی‌پذیرد", severity="high",
       applies_to=SERVERS, policy=POLICY, fix=FIX,
       controls=("CIS 5.1.8", "dev-sec sshd-38", "dev-sec sshd-39", "dev-sec sshd-40", "dev-sec sshd-41",
                 "dev-sec sshd-42"))
def test_ssh_no_forwarding(host):
    # The running daemon, asked over the suite's own authenticated connection: a forwarding would
    # carry traffic past the firewall (or a stolen agent) through the host.
    client = host.backend.__dict__.get("client") if host.backend.NAME == "paramiko" else None
    if client is not None:
        granted = ssh_probe.forwardings_granted(client.get_transport())
        assert not granted, f"sshd granted {', '.join(granted)}"
    settings = sshd_settings(host)
    expected = {"disableforwarding": "yes", "allowtcpforwarding": "no", "allowagentforwarding": "no",
                "allowstreamlocalforwarding": "no", "gatewayports": "no", "permittunnel": "no",
                "x11forwarding": "no", "permituserenvironment": "no"}
    wrong = {key: settings.get(key) for key, value in expected.items() if settings.get(key) != value}
    assert not wrong, f"sshd settings other than {expected}: {wrong}"


@check(id="SSH-007", title_en="SSH shows the legal notice before login",
       title_fa="SSH پیش از ورود، اخطار قانونی را نشان می‌دهد", severity="medium",
       applies_to=SERVERS, policy=POLICY, fix=FIX, controls=("CIS 5.1.5", "dev-sec sshd-46"))
def test_ssh_banner(host, inventory_host):
    path = sshd_settings(host).get("banner", "none")
    assert path != "none", "sshd shows no banner before login"
    notice = root_output(host, f"cat {path}").strip()
    assert notice, f"the banner file {path} is empty"
    # What anyone who knocks is shown, asked of the running daemon.
    shown = ssh_probe.greeting(inventory_host.address)[1].strip()
    assert shown == notice, f"sshd shows {shown[:80]!r} before login, not {path} ({notice[:80]!r})"


@check(id="SSH-008", title_en="SSH limits logins, sessions and idle connections, and offers no compression",
       title_fa="SSH زمان و دفعات ورود، نشست‌ها و اتصال‌های بی‌کار را محدود می‌کند و فشرده‌سازی ندارد",
       severity="medium", applies_to=SERVERS, policy=POLICY, fix=FIX,
       controls=("CIS 5.1.7", "CIS 5.1.13", "CIS 5.1.14", "CIS 5.1.16", "CIS 5.1.17", "CIS 5.1.18",
                 "dev-sec sshd-13", "dev-sec sshd-20", "dev-sec sshd-21", "dev-sec sshd-36", "dev-sec sshd-37"))
def test_ssh_limits(host, inventory_host, policy):
    # The running daemon refuses a handshake that offers only compression: zlib never parses
    # anything for anyone, before login or after.
    agreed = ssh_probe.agrees_to(inventory_host.address, "compression", ["zlib@openssh.com", "zlib"])
    assert agreed is None, f"sshd agreed to {agreed} compression"
    settings = sshd_settings(host)
    expected = {"logingracetime": str(policy["province_ssh_login_grace_time"]),
                "maxauthtries": str(policy["province_ssh_max_auth_tries"]),
                "maxsessions": str(policy["province_ssh_max_sessions"]),
                "maxstartups": str(policy["province_ssh_max_startups"]),
                "clientaliveinterval": str(policy["province_ssh_client_alive_interval"]),
                "clientalivecountmax": str(policy["province_ssh_client_alive_count_max"]),
                "loglevel": "VERBOSE", "compression": "no"}
    wrong = {key: settings.get(key) for key, value in expected.items() if settings.get(key) != value}
    assert not wrong, f"sshd settings other than the policy's {expected}: {wrong}"


@check(id="SSH-009", title_en="SSH's configuration and host keys are root's and closed to others",
       title_fa="پیکربندی و کلیدهای میزبان SSH از آنِ root و به روی دیگران بسته است", severity="high",
       applies_to=SERVERS, policy=POLICY, fix=FIX,
       controls=("CIS 5.1.1", "CIS 5.1.2", "CIS 5.1.3", "dev-sec sshd-04", "dev-sec sshd-05"))
def test_ssh_file_permissions(host):
    listing = root_output(host, "stat -c '%n %a %U %G' /etc/ssh /etc/ssh/sshd_config /etc/ssh/ssh_host_*")
    wrong = []
    for line in listing.splitlines():
        path, mode, owner, group = line.rsplit(" ", 3)
        # The most each may allow: others may read the folder and the public keys, nothing else.
        limit = 0o755 if path == "/etc/ssh" else 0o644 if path.endswith(".pub") else 0o600
        if int(mode, 8) & ~limit or (owner, group) != ("root", "root"):
            wrong.append(f"{path} {mode} {owner}:{group}")
    assert "/etc/ssh/sshd_config" in listing, "/etc/ssh/sshd_config is missing"
    assert not wrong, f"not root's, or open beyond the baseline: {wrong}"

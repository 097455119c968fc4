"""Network devices (templates/network/, playbooks/network.yml), checked from their running configs.

Every device of the units checked is read once per run (network_facts.py); a device that does
not answer has every check unreachable. A check reads only the sections the toolkit manages on
the device (`network_managed_sections`): elsewhere it is not applicable, with the policy's reason
(in the lab: the switch emulator cannot hold those lines). The fix is the network playbook, or
`unitctl net push -l DEVICE`, which sends only the difference and verifies it.
"""

from __future__ import annotations

import pytest

from unitctl.compliance import check
from unitctl.network import audit
from unitctl.network.platforms import PLATFORMS
from unitctl.paths import in_checkout

DEVICES = ("network_device",)
FIX = "playbooks/network.yml"
POLICY = "inventory/group_vars/all/network.yml"
PLAN = "inventory/<unit>/addressing.yml and hosts.yml (ports)"


class IntendedUnknown(Exception):
    """The intended config could not be rendered (an inventory problem): the check is in error."""


def applies(device: audit.DeviceFacts, *sections: str, platforms: tuple[str, ...] = ("ios",)) -> None:
    """Skip as not applicable where these sections are not managed; error when there is no intent to compare with."""
    reason = audit.not_applicable(device, sections, platforms)
    if reason:
        pytest.skip(f"not applicable: {reason}")
    if device.intended is None or device.remediation is None:
        raise IntendedUnknown(f"the intended config of {device.device} is unknown: {device.message}")


def no_problems(problems: list[str], what: str) -> None:
    """Fail with the problems, one a line (an AssertionError, so the outcome is `fail`)."""
    if problems:
        raise AssertionError(f"{what}:\n" + "\n".join(f"  {line}" for line in problems))


def _platform(device: audit.DeviceFacts):
    return PLATFORMS[device.platform]


@check(id="NET-001", title_en="The device answers over SSH and shows its running config",
       title_fa="دستگاه از راه SSH پاسخ می‌دهد و پیکربندی جاری خود را نشان می‌دهد", severity="high",
       applies_to=DEVICES, policy=POLICY, fix=FIX)
def test_device_answers(network_device):
    assert network_device.running.strip(), "the device answered with an empty running config"


@check(id="NET-002", title_en="The managed sections of the running config are as intended (no drift)",
       title_fa="بخش‌های مدیریت‌شدهٔ پیکربندی جاری همان پیکربندی مقرر است (بدون انحراف)", severity="high",
       applies_to=DEVICES, policy=POLICY, fix=FIX)
def test_no_drift(network_device, request):
    if not network_device.managed:
        pytest.skip(f"not applicable: no section is managed on {network_device.device}"
                    + (f": {network_device.unmanaged_reason}" if network_device.unmanaged_reason else ""))
    if network_device.remediation is None:
        raise IntendedUnknown(f"the intended config of {network_device.device} is unknown: {network_device.message}")
    problems = audit.drift_problems(network_device, inventory=in_checkout(request.config.option.inventory))
    no_problems(problems, f"{len(network_device.remediation)} lines would be sent to bring "
                          f"{', '.join(network_device.managed)} to the intended config")


@check(id="NET-003", title_en="Every VLAN of the unit's addressing plan exists with its name",
       title_fa="همهٔ VLANهای طرح نشانی‌دهی واحد با نام خود تعریف شده‌اند", severity="medium",
       applies_to=DEVICES, policy=PLAN, fix=FIX)
def test_vlans_of_the_plan(network_device):
    applies(network_device, "vlans")
    no_problems(audit.vlan_problems(_platform(network_device), network_device), "VLANs differ from the plan")


@check(id="NET-004", title_en="Ports of the unit's hosts are up, in their planned VLAN and mode",
       title_fa="درگاه‌های میزبان‌های واحد روشن و در VLAN و حالت مقرر خود هستند", severity="high",
       applies_to=DEVICES, policy=PLAN, fix=FIX)
def test_used_ports(network_device):
    applies(network_device, "interfaces")
    no_problems(audit.used_port_problems(_platform(network_device), network_device), "ports differ from the plan")


@check(id="NET-005", title_en="Unused ports are shut down and parked in the dead VLAN",
       title_fa="درگاه‌های بی‌استفاده خاموش و در VLAN بی‌مصرف قرار دارند", severity="high",
       applies_to=DEVICES, policy=PLAN, fix=FIX)
def test_unused_ports(network_device):
    applies(network_device, "interfaces")
    no_problems(audit.unused_port_problems(_platform(network_device), network_device), "unused ports are open")


@check(id="NET-006", title_en="The device's hostname is its inventory name",
       title_fa="نام دستگاه همان نام آن در سیاهه است", severity="low",
       applies_to=DEVICES, policy=POLICY, fix=FIX)
def test_hostname(network_device):
    applies(network_device, "hostname")
    no_problems(audit.hostname_problems(_platform(network_device), network_device), "wrong hostname")


@check(id="NET-007", title_en="Management over SSH v2 only: VTY lines SSH-only with local login, no HTTP server",
       title_fa="مدیریت فقط با SSH نسخهٔ ۲: خطوط VTY فقط SSH با ورود محلی، بدون سرور HTTP", severity="critical",
       applies_to=DEVICES, policy=POLICY, fix=FIX)
def test_management_access(network_device):
    applies(network_device, "management")
    platform = _platform(network_device)
    no_problems(audit.missing_lines(platform, network_device, r"^(ip ssh |no ip http|line )")
                + audit.forbidden_lines(platform, network_device, {
                    r"^ip http (secure-)?server$": "web management is on",
                    r"^transport input .*(telnet|all)": "telnet is allowed",
                    r"^ip ssh version 1": "SSH v1 is allowed"}),
                "management access differs from the policy")


@check(id="NET-008", title_en="A local admin account and the enable secret are stored as secrets, no plain passwords",
       title_fa="حساب مدیر محلی و رمز enable به‌صورت secret ذخیره شده‌اند، بدون گذرواژهٔ ساده", severity="critical",
       applies_to=DEVICES, policy=POLICY, fix=FIX)
def test_local_credentials(network_device):
    applies(network_device, "management")
    platform = _platform(network_device)
    no_problems(audit.missing_lines(platform, network_device, r"^(username |enable secret |service password-encryption)")
                + audit.forbidden_lines(platform, network_device, {
                    r"^enable password ": "a reversible enable password",
                    r"^username \S+ .*\bpassword ": "a reversible user password"}),
                "local credentials differ from the policy")


@check(id="NET-009", title_en="Time from the unit's servers (NTP) and logs to the province's collector (syslog)",
       title_fa="زمان از سرورهای واحد (NTP) و ارسال رویدادها به گردآورندهٔ استان (syslog)", severity="medium",
       applies_to=DEVICES, policy=POLICY, fix=FIX)
def test_time_and_logging(network_device):
    applies(network_device, "management")
    no_problems(audit.missing_lines(_platform(network_device), network_device, r"^(ntp server |logging )"),
                "time or logging differs from the policy")


@check(id="NET-010", title_en="SNMP is v3 only (authenticated, encrypted), for the provincial centre",
       title_fa="SNMP فقط نسخهٔ ۳ (با احراز هویت و رمزنگاری) و برای مرکز استان", severity="high",
       applies_to=DEVICES, policy=POLICY, fix=FIX)
def test_snmp_v3_only(network_device):
    applies(network_device, "management")
    platform = _platform(network_device)
    # SNMPv3 users are never in the running config: missing_lines does not expect them there,
    # snmp_user_problems checks them against `show snmp user`.
    no_problems(audit.missing_lines(platform, network_device, r"^snmp-server ")
                + audit.snmp_user_problems(platform, network_device)
                + audit.forbidden_lines(platform, network_device, {
                    r"^snmp-server community ": "SNMP v1/v2c community (clear-text)",
                    r"^snmp-server group \S+ v3 (noauth|auth)$": "SNMPv3 without encryption"}),
                "SNMP differs from the policy")


@check(id="NET-011", title_en="The login banner warns in Persian and English",
       title_fa="پیام هشدار ورود به فارسی و انگلیسی نمایش داده می‌شود", severity="low",
       applies_to=DEVICES, policy=POLICY, fix=FIX)
def test_login_banner(network_device):
    applies(network_device, "management")
    no_problems(audit.banner_problems(_platform(network_device), network_device), "login banner")


@check(id="NET-012", title_en="Rapid spanning tree, and portfast with BPDU guard on access ports",
       title_fa="درخت پوشای سریع (rapid-pvst) و portfast با BPDU guard روی درگاه‌های دسترسی", severity="medium",
       applies_to=DEVICES, policy=POLICY, fix=FIX)
def test_spanning_tree(network_device):
    applies(network_device, "spanning_tree", "port_protection")
    platform = _platform(network_device)
    no_problems(audit.missing_lines(platform, network_device, r"^spanning-tree ")
                + [problem for problem in audit.missing_lines(platform, network_device, r"^interface ")
                   if "spanning-tree" in problem],
                "spanning tree differs from the policy")

"""Which kernel modules a host may not load, and the kernel parameters the benchmarks require.

Modules: which a host may not load, under province policy (inventory/group_vars/all/kernel.yml).

One function decides, used by the playbooks (the `kernel_modules_unavailable` filter, which gives
roles/kernel_modules its list) and by the compliance checks (tests/compliance/test_kernel.py), so
the two never disagree:
- every host: `province_kernel_modules_unused`, the file systems and protocols nothing here uses;
- and, unless removable media are allowed on the host, `province_removable_media_modules` (USB
  mass storage, optical discs). They are allowed on a host named in
  `province_removable_media_allowed_hosts` or of a workstation profile in
  `province_removable_media_allowed_profiles`.
"""

from __future__ import annotations

import re

# A module name as modprobe takes it: no spaces, options or paths (a template must not turn a
# policy value into a modprobe.d command).
MODULE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

# The kernel parameters the benchmarks require, which checks KRN-003 and KRN-004 hold the values in
# force to (not roles/base's file: the benchmark is the judge; tests/unit checks that file meets them).
# CIS Debian 12 3.3.1-3.3.11 and dev-sec sysctl-01..04, 08..11, 13..17, 19, 20, 25; per network
# namespace, so a container with its own network holds them.
NETWORK_PARAMETERS = {
    "net.ipv4.ip_forward": "0", "net.ipv4.conf.all.forwarding": "0", "net.ipv6.conf.all.forwarding": "0",
    "net.ipv4.conf.all.send_redirects": "0", "net.ipv4.conf.default.send_redirects": "0",
    "net.ipv4.icmp_ignore_bogus_error_responses": "1", "net.ipv4.icmp_echo_ignore_broadcasts": "1",
    "net.ipv4.conf.all.accept_redirects": "0", "net.ipv4.conf.default.accept_redirects": "0",
    "net.ipv6.conf.all.accept_redirects": "0", "net.ipv6.conf.default.accept_redirects": "0",
    "net.ipv4.conf.all.secure_redirects": "0", "net.ipv4.conf.default.secure_redirects": "0",
    "net.ipv4.conf.all.rp_filter": "1", "net.ipv4.conf.default.rp_filter": "1",
    "net.ipv4.conf.all.accept_source_route": "0", "net.ipv4.conf.default.accept_source_route": "0",
    "net.ipv6.conf.all.accept_source_route": "0", "net.ipv6.conf.default.accept_source_route": "0",
    "net.ipv4.conf.all.log_martians": "1", "net.ipv4.conf.default.log_martians": "1",
    "net.ipv4.tcp_syncookies": "1",
    "net.ipv6.conf.all.accept_ra": "0", "net.ipv6.conf.default.accept_ra": "0",
    "net.ipv4.conf.all.arp_ignore": "1", "net.ipv4.conf.all.arp_announce": "2", "net.ipv4.tcp_rfc1337": "1",
}
# CIS 1.5.1, 1.5.2 and dev-sec sysctl-30, -32, -34: the kernel's own (ptrace_scope 1 or stricter).
KERNEL_PARAMETERS = {
    "kernel.randomize_va_space": ("2",), "kernel.yama.ptrace_scope": ("1", "2", "3"), "kernel.sysrq": ("0",),
    "fs.protected_hardlinks": ("1",), "fs.protected_symlinks": ("1",), "fs.protected_fifos": ("1", "2"),
    "fs.protected_regular": ("2",),
}


def _names(value, what: str) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{what} must be a list of names, not {value!r}")
    return list(value)


def _modules(value, what: str) -> list[str]:
    names = _names(value, what)
    bad = [name for name in names if not MODULE_NAME.match(name)]
    if bad:
        raise ValueError(f"{what}: {bad} are not kernel module names (lower-case letters, digits, '-' and '_')")
    return names


def canonical(module: str) -> str:
    """The kernel's own name of a module (modprobe treats '-' and '_' alike; /proc/modules shows '_')."""
    return module.replace("-", "_")


def removable_media_allowed(host: str, profile: str | None, allowed_hosts, allowed_profiles,
                            known_profiles=None) -> bool:
    """True when removable media may be used on `host` (of workstation `profile`, None for a server).

    `known_profiles` (the province's profile names), when given, refuses an allowed profile that
    does not exist: a misspelt exception would otherwise silently allow nothing."""
    hosts = _names(allowed_hosts, "province_removable_media_allowed_hosts")
    profiles = _names(allowed_profiles, "province_removable_media_allowed_profiles")
    if known_profiles is not None:
        unknown = sorted(set(profiles) - set(known_profiles))
        if unknown:
            raise ValueError(f"province_removable_media_allowed_profiles: {unknown} are not workstation profiles "
                             f"(province_workstation_profiles: {sorted(known_profiles)})")
    return host in hosts or bool(profile) and profile in profiles


def unavailable_modules(host: str, profile: str | None, unused, removable, allowed_hosts, allowed_profiles,
                        known_profiles=None) -> list[str]:
    """The modules `host` must not load, in policy order, each once."""
    names = _modules(unused, "province_kernel_modules_unused")
    media = _modules(removable, "province_removable_media_modules")
    if not removable_media_allowed(host, profile, allowed_hosts, allowed_profiles, known_profiles):
        names += media
    seen: set[str] = set()
    return [name for name in names if not (canonical(name) in seen or seen.add(canonical(name)))]

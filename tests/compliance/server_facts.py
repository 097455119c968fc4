"""Helpers for the server checks (test_base, test_ssh, test_firewall, test_time, test_logging,
test_node_exporter): run a read-only command as root whichever account the suite connects as."""

from __future__ import annotations

from unitctl import remote_shell

SERVERS = ("unit_server", "centre_server")
UNIT_SERVERS = ("unit_server",)
CENTRE = ("centre_server",)


def root_run(host, command: str):
    """Run COMMAND as root: directly when connected as root, else through passwordless sudo
    (through the suite's root shell on the host when it has one: unitctl.remote_shell)."""
    run_as_root = getattr(host.backend, "run_as_root", None)
    if run_as_root is not None:
        return run_as_root(command)
    if host.backend.sudo or host.user().name == "root":
        return host.run(command)
    return host.run(remote_shell.sudo_command(command))


def container(host) -> str:
    """The container manager the host runs in ("systemd-nspawn" in the lab), or "" on a machine of
    its own (systemd-detect-virt --container). Checks of what a container cannot hold (kernel
    modules and parameters, mounts, auditd) report not applicable there instead of passing."""
    found = host.run("systemd-detect-virt --container")
    name = found.stdout.strip()
    return name if found.rc == 0 and name not in ("", "none") else ""


def root_output(host, command: str) -> str:
    result = root_run(host, command)
    assert result.rc == 0, f"`{command}` failed ({result.rc}): {result.stderr.strip()}"
    return result.stdout


def subnets(unit, purpose: str) -> list[str]:
    return [vlan["subnet"] for vlan in unit.addressing["vlans"] if vlan.get("purpose") == purpose]

"""A provisioned unit server and a CMS workstation survive their first reboot.

`unitctl lab reboot` restarts a lab host keeping its disk, in a new network namespace (nothing the
old boot loaded into the kernel, such as the firewall's tables, survives), and waits until systemd
says "running" with no failed unit and the automation account logs in. Then the unit's checks
must still pass on both: services enabled at boot, the firewall loaded from its configuration,
timers and mounts back, nothing that only a handler had set lost.
"""

from __future__ import annotations

import time

import pytest

from lab_helpers import (MACHINES, assert_ok, compliance, hosts_of, not_passing, sudo_on, unitctl)

pytestmark = pytest.mark.lab
REBOOTED = [hosts_of("unit_server", "lab-court")[0], hosts_of("cms_client", "lab-court")[0]]
# Time checks need chrony to have synchronised again after the boot: a bounded wait, then a fail.
SETTLE_ROUNDS, SETTLE_PAUSE_S = 4, 15


@pytest.fixture(scope="module")
def rebooted(converged):
    boots = {}
    for host in REBOOTED:
        _, before = sudo_on(MACHINES[host], "cat /proc/sys/kernel/random/boot_id")
        output = assert_ok(unitctl("lab", "reboot", host))
        assert f"{host}: ready after" in output, output
        _, after = sudo_on(MACHINES[host], "cat /proc/sys/kernel/random/boot_id")
        boots[host] = (before, after)
    return boots


def test_each_host_really_booted_again(rebooted):
    for host, (before, after) in rebooted.items():
        assert before and after and before != after, f"{host} did not boot again"


def test_the_firewall_is_loaded_at_boot(rebooted):
    for host in [name for name in REBOOTED if name in hosts_of("unit_server")]:  # servers have the firewall
        status, tables = sudo_on(MACHINES[host], "nft list tables")
        assert status == 0 and "unitctl_filter" in tables, f"{host} booted without its firewall: {tables}"


def test_the_units_checks_pass_after_the_reboot(rebooted, tmp_path):
    bad: list[str] = []
    for round_number in range(SETTLE_ROUNDS):
        results = compliance(tmp_path / f"after-reboot-{round_number}.json", units=["lab-court"])
        assert {r["host"] for r in results} >= set(REBOOTED)
        bad = not_passing(results, hosts=REBOOTED)
        if not bad or not all(line.startswith("TIME-") for line in bad):
            break
        time.sleep(SETTLE_PAUSE_S)  # only time checks failing: chrony is still synchronising
    assert not bad, "\n".join(bad)

"""Kernel modules and removable media (roles/kernel_modules, inventory/group_vars/all/kernel.yml) on
the converged lab; check mode, idempotence and every check passing are the whole province's
(test_converge.py).

Here: the kernel checks failed (or did not apply) on the bare hosts; a workstation allowed removable
media by policy (an exception in a copy of the lab inventory) loses its usb-storage, uas and udf
rules, passes KRN-002 that way and still has every unused module blocked, and the committed policy
puts the rules back; a misspelt profile exception stops the role at its start, changing nothing.
The lab cannot plug a USB stick or load a module (its hosts share this machine's kernel): that is
proven offline, with the real modprobe on a fake module tree (tests/unit/test_kernel_modules.py).
"""

from __future__ import annotations

import json

import pytest
import yaml

from lab_helpers import (MACHINES, assert_run_clean, changed_tasks, compliance, copy_lab_inventory, hosts_of, playbook,
                         sudo_on)

pytestmark = pytest.mark.lab

WORKSTATIONS_PLAYBOOK = "playbooks/workstations.yml"
WORKSTATION = "court-ws2"  # branch_clerk: removable media forbidden by the committed policy
REMOVABLE = ("usb-storage", "uas", "udf")


@pytest.mark.parametrize("host", hosts_of("unit_server") + hosts_of("cms_client"))
def test_kernel_checks_failed_on_the_bare_host(converged, host):
    if converged.bare_results is None:
        pytest.skip("the lab's hosts were already provisioned when the session started")
    outcomes = {r["check_id"]: r["outcome"] for r in converged.bare_results
                if r["host"] == host and r["check_id"].startswith("KRN-")}
    # KRN-003 and KRN-004 are not applicable in the lab's containers; the module checks must fail.
    assert outcomes.get("KRN-001") == "fail" and outcomes.get("KRN-002") == "fail", outcomes
    assert set(outcomes.values()) <= {"fail", "not_applicable"}, outcomes


def modprobe_rules(host: str) -> str:
    status, output = sudo_on(MACHINES[host], "modprobe -c | grep -E '^(install|blacklist) (usb_storage|uas|udf) '; "
                                             "modprobe -n -v usb-storage 2>&1; true")
    assert status == 0, output
    return output


def kernel_results(tmp_path, name: str, inventory=None) -> dict[str, dict]:
    results = compliance(tmp_path / f"{name}.json", units=["lab-court"], keyword="test_kernel", inventory=inventory)
    return {r["check_id"]: r for r in results if r["host"] == WORKSTATION}


def test_an_exception_allows_removable_media_and_the_policy_puts_the_rules_back(converged, tmp_path):
    """The exception is made where the province makes it, in kernel.yml (of a copy of the lab
    inventory): the playbook and the compliance suite both read it from there."""
    allowing = copy_lab_inventory(tmp_path)
    policy = allowing.parent / "group_vars" / "all" / "kernel.yml"
    data = yaml.safe_load(policy.read_text(encoding="utf-8"))
    data["province_removable_media_allowed_hosts"] = [WORKSTATION]
    policy.write_text(yaml.safe_dump(data), encoding="utf-8")
    allowed = playbook(WORKSTATIONS_PLAYBOOK, "--limit", WORKSTATION, "--tags", "kernel_modules", inventory=allowing)
    try:
        assert_run_clean(allowed, [WORKSTATION], changed_zero=False)
        # the modprobe.d file, nothing else (file integrity follows it: the baseline takes the new file)
        assert changed_tasks(allowed.result.stdout, WORKSTATION, but_roles=("file_integrity",)) == [
            "kernel_modules : Make the modules unavailable"], allowed.result.stdout[-3000:]
        # the task's own output (its name also appears in the task times at the end)
        accepted = allowed.result.stdout.split("TASK [file_integrity : List what this run accepted into the baseline]")
        assert len(accepted) == 2 and "/etc/modprobe.d/unitctl-unavailable.conf" in accepted[1].split("PLAY RECAP")[0], \
            allowed.result.stdout[-3000:]
        rules = modprobe_rules(WORKSTATION)
        # No rule stops them now; this container has no module tree, so modprobe finds no module file.
        assert "install" not in rules and "blacklist" not in rules and "not found" in rules, rules
        results = kernel_results(tmp_path, "allowed", inventory=allowing)
        assert results["KRN-002"]["outcome"] == "pass", results["KRN-002"]
        assert results["KRN-001"]["outcome"] == "pass", results["KRN-001"]
    finally:
        back = playbook(WORKSTATIONS_PLAYBOOK, "--limit", WORKSTATION, "--tags", "kernel_modules")
    assert_run_clean(back, [WORKSTATION], changed_zero=False)
    rules = modprobe_rules(WORKSTATION)
    assert all(f"install {m.replace('-', '_')} /bin/false" in rules for m in REMOVABLE), rules
    assert rules.splitlines()[-1].strip() == "install /bin/false", rules


def test_a_misspelt_profile_exception_is_refused_changing_nothing(converged):
    bad = playbook(WORKSTATIONS_PLAYBOOK, "--limit", WORKSTATION, "--tags", "kernel_modules",
                   "-e", json.dumps({"province_removable_media_allowed_profiles": ["branch_clerck"]}))
    assert bad.result.returncode != 0
    assert bad.recap[WORKSTATION]["failed"] == 1 and bad.recap[WORKSTATION]["changed"] == 0, bad.recap
    assert "branch_clerck" in bad.result.stdout and "are not workstation profiles" in bad.result.stdout, \
        bad.result.stdout[-3000:]

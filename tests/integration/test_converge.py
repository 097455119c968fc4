"""The lab province converged once from bare Debian by playbooks/site.yml (conftest's `converged`):
the proofs every role owes, for the whole province at once.

- the compliance checks fail on bare hosts (each area's own assertions of which are in its file);
- `--check --diff` runs clean on the bare hosts and changes nothing (root still logs in, the
  automation account does not exist); reaching them as root prints one plain line per host;
- the real run converges every host and switch;
- a second run changes nothing anywhere;
- `--check --diff` is clean on the provisioned province and reports nothing to change;
- every compliance check that applies passes on every host.
"""

from __future__ import annotations

import re

import pytest

from lab_helpers import MACHINES, SWITCHES, assert_run_clean, not_passing

pytestmark = pytest.mark.lab
EVERY_HOST = sorted(MACHINES) + sorted(SWITCHES)


def _bare_only(converged):
    if converged.check_bare is None:
        pytest.skip("the lab's hosts were already provisioned when the session started")


def test_check_mode_is_clean_on_the_bare_province(converged):
    _bare_only(converged)
    assert_run_clean(converged.check_bare, sorted(MACHINES), changed_zero=False)
    changed = {name: value for name, value in converged.bare_after_check.items() if not value}
    assert not changed, f"check mode changed these hosts (root no longer logs in, or the account exists): {changed}"


def test_a_bare_machine_is_reported_in_one_plain_line_per_probe(converged):
    """Reaching bare hosts as root is expected: no red UNREACHABLE, no [ERROR] for the technician."""
    _bare_only(converged)
    for run in (converged.check_bare, converged.converge):
        output = run.result.stdout + run.result.stderr
        assert "UNREACHABLE" not in output and "[ERROR]" not in output, \
            [line for line in output.splitlines() if "UNREACHABLE" in line or "[ERROR]" in line][:5]
    probed = {line.split("[", 1)[1].split("]", 1)[0] for line in converged.converge.result.stdout.splitlines()
              if line.startswith("probe: [")}
    assert probed >= set(MACHINES), f"no probe line for {set(MACHINES) - probed}"


def test_the_province_converges(converged):
    assert_run_clean(converged.converge, EVERY_HOST, changed_zero=False)
    print(f"site.yml from bare: {converged.converge.seconds:.0f} s")


def test_a_second_run_changes_nothing(converged):
    assert_run_clean(converged.rerun, EVERY_HOST, changed_zero=True)
    print(f"site.yml rerun: {converged.rerun.seconds:.0f} s")


def test_check_mode_is_clean_on_the_provisioned_province(converged):
    assert_run_clean(converged.check_provisioned, EVERY_HOST, changed_zero=True)


def test_every_check_passes_on_every_provisioned_host(converged):
    assert {r["host"] for r in converged.results} >= set(MACHINES), "some hosts were not checked"
    bad = not_passing(converged.results)
    assert not bad, "\n".join(bad)


def test_checks_ran_on_every_host_function(converged):
    passed = {(r["host"], r["check_id"].split("-")[0]) for r in converged.results if r["outcome"] == "pass"}
    for host in MACHINES:
        assert any(h == host for h, _ in passed), f"no check passed on {host}"


def _by_check(results: list[dict], hosts: set[str]) -> dict[tuple[str, str], tuple[str, str]]:
    # Numbers masked (decimal, and hex words with a digit): an age or a count read seconds apart,
    # a check's random marker and an object's address in pytest's message may differ; the
    # message may not.
    return {(r["check_id"], r["host"]): (r["outcome"], re.sub(r"0x[0-9a-f]+|\b[0-9a-f]*\d[0-9a-f]*\b", "#", r["evidence"]))
            for r in results if r["host"] in hosts}


@pytest.mark.parametrize("state", ["bare", "provisioned"])
def test_the_remote_shells_change_no_verdict_and_no_evidence(converged, state):
    """unitctl.remote_shell against testinfra's channel per command, check by check on one unit's
    hosts: on bare hosts every area is broken (as root), on provisioned ones every check passes
    (as the automation account, root through sudo)."""
    shells, channels = ((converged.bare_results, converged.bare_results_exec) if state == "bare"
                        else (converged.results, converged.results_exec))
    if shells is None:
        pytest.skip("the lab's hosts were already provisioned when the session started")
    hosts = {r["host"] for r in channels}
    assert len(hosts) >= 3, f"the comparison ran on too few hosts: {sorted(hosts)}"
    ours, theirs = _by_check(shells, hosts), _by_check(channels, hosts)
    assert ours.keys() == theirs.keys()
    different = [f"{check} on {host}: {ours[check, host]} but with a channel per command {theirs[check, host]}"
                 for check, host in sorted(ours) if ours[check, host] != theirs[check, host]]
    assert not different, "\n".join(different)
    if state == "bare":  # a comparison of passes alone would prove little
        assert sum(outcome == "fail" for outcome, _ in ours.values()) >= 50

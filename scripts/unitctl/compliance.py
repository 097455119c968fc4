"""The compliance suite's plumbing: check metadata, host selection, results.

Checks live in tests/compliance/ as testinfra tests, each marked with `@check(...)`. The same
suite serves the technician (one unit) and the provincial centre (every unit).
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import paramiko
import pytest

from unitctl.inventory.load import Province
from unitctl.paths import LAB_STATE_DIR, PROJECT_ROOT

# The published severity scale, most serious first; reports weigh failures by it.
SEVERITIES = ("critical", "high", "medium", "low")

# The benchmarks a check may map to, and the form of a control's name in each:
#   "CIS 5.1.8"   a recommendation of the CIS Debian Linux 12 Benchmark v1.1.0 (Level 1 Server for
#                 the servers, Level 1 Workstation for the workstations);
#   "dev-sec os-06", "dev-sec sshd-47"   a control of dev-sec's linux-baseline or ssh-baseline.
BENCHMARKS = {"CIS": "CIS Debian Linux 12 Benchmark v1.1.0, Level 1",
              "dev-sec": "dev-sec linux-baseline and ssh-baseline"}
CONTROL_PATTERN = re.compile(r"^(CIS \d+(\.\d+)+|dev-sec (os|sysctl|package|sshd|ssh)-\d+)$")


@dataclass(frozen=True)
class Check:
    id: str
    title_en: str
    title_fa: str
    severity: str
    applies_to: tuple[str, ...]  # host functions, e.g. ("unit_server", "centre_server")
    policy: str  # the policy it enforces (where it is written)
    # The playbook that puts it right ("playbooks/NAME.yml"), or, where no playbook can (a server
    # room's cooling), what a person must do: then in English here and in Persian in fix_fa.
    fix: str
    controls: tuple[str, ...] = ()  # the benchmark controls it proves (CONTROL_PATTERN), if any
    fix_fa: str = ""

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"check {self.id}: severity {self.severity!r} is not one of {SEVERITIES}")
        unknown = [control for control in self.controls if not CONTROL_PATTERN.match(control)]
        if unknown:
            raise ValueError(f"check {self.id}: controls {unknown} are not 'CIS N.N[.N...]' or 'dev-sec os-NN'")
        if fix_is_playbook(self.fix):
            if not (PROJECT_ROOT / self.fix).is_file():
                raise ValueError(f"check {self.id}: its fix {self.fix} is not a playbook of the toolkit")
        elif not self.fix_fa:
            raise ValueError(f"check {self.id}: its fix {self.fix!r} is not one playbook (playbooks/NAME.yml), so it "
                             "must be a person's task, given in Persian too (fix_fa)")


def fix_is_playbook(fix: str) -> bool:
    """A check's fix names a playbook to run (else it is a task for a person, in words)."""
    return fix.startswith("playbooks/") and fix.endswith(".yml") and " " not in fix


def check(**fields) -> pytest.MarkDecorator:
    """Mark a testinfra test as a compliance check (validated at import, so typos fail early)."""
    fields["applies_to"] = tuple(fields["applies_to"])
    fields["controls"] = tuple(fields.get("controls", ()))
    return pytest.mark.compliance_check(Check(**fields))


@dataclass
class TargetHost:
    name: str
    address: str
    function: str
    unit_id: str
    debian_release: int | None = None  # hosts.yml's, None when it names none (policy's default then)


def target_hosts(province: Province, unit_ids: list[str] | None = None) -> list[TargetHost]:
    """The Linux hosts testinfra connects to (network devices: `network_hosts`)."""
    linux = {"unit_server", "centre_server", "cms_client"}
    return [
        TargetHost(host["name"], host["address"], host["function"], unit.id, host.get("debian_release"))
        for unit, host in province.all_hosts()
        if host["function"] in linux and (not unit_ids or unit.id in unit_ids)
    ]


def network_hosts(province: Province, unit_ids: list[str] | None = None) -> list[TargetHost]:
    """The network devices the suite checks from their running configs (tests/compliance/test_network_devices.py)."""
    return [
        TargetHost(host["name"], host["address"], host["function"], unit.id)
        for unit, host in province.all_hosts()
        if host["function"] == "network_device" and (not unit_ids or unit.id in unit_ids)
    ]


def write_ssh_config(path: Path, hosts: list[TargetHost], user: str, identity_file: Path | None) -> Path:
    """An ssh_config naming each host by its inventory name (testinfra reads HostName from it)."""
    lines = []
    for target in hosts:
        lines += [f"Host {target.name}", f"  HostName {target.address}", f"  User {user}"]
        if identity_file:
            lines.append(f"  IdentityFile {identity_file}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def lab_known_hosts() -> Path:
    return Path(os.environ.get("UNITLAB_STATE_DIR", LAB_STATE_DIR)) / "known_hosts"


# Attempts at an SSH connection that the host closes during set-up, and the wait between them.
CONNECT_ATTEMPTS = 3
CONNECT_RETRY_S = 1.0


def checked_client(hostname: str, username: str, key_filename: str | None, known_hosts: Path,
                   timeout: float = 10.0) -> paramiko.SSHClient:
    """A paramiko client that refuses any host key not recorded in `known_hosts`.

    testinfra's own paramiko backend only warns about unknown host keys; the suite must not.
    """
    attempt = 1
    while True:
        client = paramiko.SSHClient()
        client.load_host_keys(str(known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(hostname=hostname, username=username, key_filename=key_filename, timeout=timeout,
                           banner_timeout=timeout, auth_timeout=timeout, look_for_keys=key_filename is None,
                           allow_agent=False)
            return client
        except (EOFError, ConnectionResetError, paramiko.SSHException) as error:
            if isinstance(error, paramiko.SSHException) and "banner" not in str(error):
                raise  # a refused key, an unknown host key: retrying changes nothing
            # sshd drops new connections beyond MaxStartups while many are being set up at once;
            # a host that answered and then hung up is busy, not down: try again, a bounded number of times.
            client.close()
            if attempt >= CONNECT_ATTEMPTS:
                raise paramiko.SSHException(f"the connection was closed during set-up {attempt} times: {error!r}") from error
            time.sleep(CONNECT_RETRY_S * attempt)
            attempt += 1


@dataclass
class Result:
    check_id: str
    host: str
    unit_id: str
    outcome: str  # pass | fail | error | skipped | not_applicable | unreachable
    evidence: str
    seconds: float


def write_results(path: Path, checks: dict[str, Check], results: list[Result],
                  facts: dict[str, dict[str, dict]] | None = None) -> None:
    """The suite's findings; `facts` are what checks observed beside pass/fail (unit -> host -> name -> value),
    such as the UPS state that the evaluation shows under clause 2."""
    document = {
        "schema": "unitctl-compliance/1",
        "checks": {check_id: asdict(meta) for check_id, meta in sorted(checks.items())},
        "results": [asdict(result) for result in results],
        "facts": facts or {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

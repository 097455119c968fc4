"""CMS workstations from lab hosts (playbooks/workstations.yml, with the lab's stand-in CMS from
playbooks/cms_standin.yml).

In order (pytest runs a module's tests in order): the WS checks fail on a fresh workstation
(pros-ws2, while it is still fresh) and `--check --diff` runs clean there without changing it; the
real run converges court-ws1 (registry office), court-ws2 (branch clerk) and the stand-in CMS; a
second run changes nothing; `--check --diff` is clean on the provisioned hosts; the WS checks pass;
end to end, a Persian page made by LibreOffice Writer is printed to the branch printer's lab queue
(CUPS printing to PDF) and found as a completed job and as the PDF file; and a role input of the
wrong type stops the role at its start with the argument spec's message, changing nothing.

Run with UNITLAB_KEEP=1 (and UNITLAB_ASSUME_UP=1 against a lab already up).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import paramiko
import pytest

from unitctl import labca, labsecrets, labservices

pytestmark = pytest.mark.lab

from lab_helpers import RECAP, assert_clean, environment  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = [str(ROOT / "playbooks" / "cms_standin.yml"), str(ROOT / "playbooks" / "workstations.yml")]
WORKSTATIONS = ["court-ws1", "court-ws2"]
LIMIT = ",".join(WORKSTATIONS + ["centre-srv"])
FRESH = "pros-ws2"
ADDRESSES = {"court-ws1": "10.213.21.11", "court-ws2": "10.213.21.12", "pros-ws2": "10.213.31.12",
             "centre-srv": "10.213.10.10"}
AUTOMATION_USER = "unitctl"
WS_CHECKS = "test_workstation_"
PERSIAN_TEXT = "صفحهٔ آزمایشی چاپ — دادگستری شهرستان، شعبهٔ ۱"


@pytest.fixture(scope="module")
def lab(request):
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    if os.environ.get("UNITLAB_ASSUME_UP") != "1":
        request.getfixturevalue("lab_up")
    labservices.ensure_services_vault()  # the archive share passwords the scanning role mounts with
    labca.ensure_lab_ca()


def playbook(*args: str, playbooks=PLAYBOOKS, timeout: float = 1500) -> tuple[subprocess.CompletedProcess, dict]:
    started = time.monotonic()
    result = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), *playbooks, *args],
                            cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=timeout)
    recap = {m["host"]: {key: int(m[key]) for key in ("ok", "changed", "unreachable", "failed")}
             for m in RECAP.finditer(result.stdout)}
    recap["_seconds"] = time.monotonic() - started
    return result, recap


def login_works(address: str, user: str) -> bool:
    client = paramiko.SSHClient()
    client.load_host_keys(str(labsecrets.known_hosts_path()))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(address, username=user, key_filename=str(labsecrets.lab_key_path()), timeout=10,
                       allow_agent=False, look_for_keys=False)
        return True
    except (paramiko.SSHException, OSError):
        return False
    finally:
        client.close()


def run_as(address: str, command: str, user: str = AUTOMATION_USER, timeout: float = 180) -> tuple[int, str]:
    client = paramiko.SSHClient()
    client.load_host_keys(str(labsecrets.known_hosts_path()))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(address, username=user, key_filename=str(labsecrets.lab_key_path()), timeout=10,
                   allow_agent=False, look_for_keys=False)
    try:
        _, stdout, stderr = client.exec_command(command, timeout=timeout)
        output = stdout.read().decode() + stderr.read().decode()
        return stdout.channel.recv_exit_status(), output.strip()
    finally:
        client.close()


def compliance(tmp_path: Path, unit: str, user: str | None) -> list[dict]:
    output = tmp_path / f"compliance-{unit}.json"
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "compliance"),
            "--compliance-json", str(output), "-k", WS_CHECKS, "--unit", unit]
    if user:
        args += ["--ssh-user", user]
    subprocess.run(args, cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=600)
    return json.loads(output.read_text())["results"]


@pytest.fixture(scope="module")
def fresh(lab):
    """True while pros-ws2 was never provisioned (root may log in, the automation account may not)."""
    return login_works(ADDRESSES[FRESH], "root") and not login_works(ADDRESSES[FRESH], AUTOMATION_USER)


def test_checks_fail_on_a_fresh_workstation(fresh, tmp_path):
    if not fresh:
        pytest.skip(f"{FRESH} was already provisioned in this lab")
    results = [r for r in compliance(tmp_path, "lab-prosecutor", "root") if r["host"] == FRESH]
    assert results, "no check ran"
    not_failing = {r["check_id"]: r["outcome"] for r in results if r["outcome"] not in ("fail", "not_applicable")}
    assert not not_failing, f"checks that did not fail on a fresh workstation: {not_failing}"


def test_check_mode_is_clean_on_a_fresh_workstation(fresh):
    if not fresh:
        pytest.skip(f"{FRESH} was already provisioned in this lab")
    result, recap = playbook("--limit", FRESH, "--check", "--diff", playbooks=PLAYBOOKS[1:])
    assert_clean(result, recap, [FRESH], changed_zero=False)
    assert not login_works(ADDRESSES[FRESH], AUTOMATION_USER), "check mode changed the host"


def test_converge(lab):
    result, recap = playbook("--limit", LIMIT)
    assert_clean(result, recap, LIMIT.split(","), changed_zero=False)


def test_second_run_changes_nothing(lab):
    result, recap = playbook("--limit", LIMIT)
    assert_clean(result, recap, LIMIT.split(","), changed_zero=True)


def test_check_mode_is_clean_on_provisioned_workstations(lab):
    result, recap = playbook("--limit", LIMIT, "--check", "--diff")
    assert_clean(result, recap, LIMIT.split(","), changed_zero=True)


def test_checks_pass_on_provisioned_workstations(lab, tmp_path):
    results = [r for r in compliance(tmp_path, "lab-court", AUTOMATION_USER) if r["host"] in WORKSTATIONS]
    assert {r["check_id"] for r in results} >= {f"WS-{n:03d}" for n in range(1, 21)}, "some WS checks did not run"
    bad = [(r["check_id"], r["host"], r["outcome"], r["evidence"][:300]) for r in results
           if r["outcome"] not in ("pass", "not_applicable")]
    assert not bad, bad
    # The branch clerk has no scanner: its scanning checks are not applicable, not passed.
    clerk = {r["check_id"]: r["outcome"] for r in results if r["host"] == "court-ws2"}
    assert clerk["WS-015"] == "not_applicable"


def test_persian_page_prints_to_the_branch_queue(lab):
    """LibreOffice Writer makes a PDF of a Persian page; CUPS prints it to court-prn1 (a PDF queue)."""
    address = ADDRESSES["court-ws1"]
    script = (
        "set -e; d=$(mktemp -d); cd $d; "
        f"printf '%s\\n' '{PERSIAN_TEXT}' > page.txt; "
        "HOME=$d soffice --headless --infilter='Text (encoded):UTF8,,Noto Naskh Arabic' --convert-to pdf page.txt >/dev/null 2>&1; "
        "test -s page.pdf; lp -d court-prn1 -t unitctl-persian-test page.pdf"
    )
    status, output = run_as(address, f"sudo -n sh -c {json.dumps(script)}")
    assert status == 0, output
    job = re.search(r"request id is (court-prn1-\d+)", output)
    assert job, output
    deadline = time.monotonic() + 60
    completed = ""
    while time.monotonic() < deadline:
        _, completed = run_as(address, "lpstat -W completed -o court-prn1")
        if job.group(1) in completed:
            break
        time.sleep(1)
    assert job.group(1) in completed, f"job {job.group(1)} not completed: {completed}"
    # cups-pdf writes the job to the printing user's ~/PDF (root's here: lp ran under sudo).
    status, files = run_as(address, f"sudo -n find /root/PDF /home -path '*/PDF/*' -name '*unitctl-persian-test*job_{job.group(1).rsplit('-', 1)[1]}.pdf'")
    assert status == 0 and files.strip(), f"no PDF output of the job: {files}"
    # The Persian text was set in a Persian-capable font (LibreOffice embeds the font it used).
    status, fonts = run_as(address, f"sudo -n grep -ao 'FontName */[A-Za-z+_-]*' {files.split()[0]}")
    assert "NotoNaskhArabic" in fonts, f"the page was not set in a Persian font: {fonts}"


def test_wrong_input_type_is_refused_at_the_role_start(lab):
    # desktop_locale_fonts must be a list: a dict stops desktop_locale before its first task.
    result, recap = playbook("--limit", "court-ws1", "-e", json.dumps({"province_desktop_fonts": {"not": "a list"}}),
                             playbooks=PLAYBOOKS[1:])
    assert result.returncode != 0
    assert recap["court-ws1"]["failed"] == 1 and recap["court-ws1"]["changed"] == 0, recap
    assert "desktop_locale_fonts" in result.stdout and "Validating arguments against arg spec" in result.stdout, \
        result.stdout[-3000:]

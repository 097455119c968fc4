"""CMS workstations from lab hosts (playbooks/workstations.yml, with the lab's stand-in CMS from
playbooks/cms_standin.yml).

In order (pytest runs a module's tests in order): the WS checks fail on a fresh workstation
(pros-ws2, while it is still fresh) and `--check --diff` runs clean there without changing it; the
real run converges court-ws1 (registry office), court-ws2 (branch clerk) and the stand-in CMS; a
second run changes nothing; `--check --diff` is clean on the provisioned hosts; the WS checks pass;
end to end, a Persian page made by LibreOffice Writer is printed to the branch printer's lab queue
(CUPS printing to PDF) and found as a completed job and as the PDF file; a role input of the
wrong type stops the role at its start with the argument spec's message, changing nothing.

Then a change of profile takes off what a workstation no longer needs (WS-017): pros-ws1 and
pros-ws2 are provisioned with their committed profiles, then moved in a copy of the lab inventory
(registry office to branch clerk: scanning goes; branch clerk to scanning station: printing and
LibreOffice go, scanning comes); WS-017 fails before the run and passes after it, the components'
packages, files and units are gone, the users' files stay, `--check --diff` runs clean before and
after, a second run changes nothing. The committed inventory puts them back at the end.

Run with UNITLAB_KEEP=1 (and UNITLAB_ASSUME_UP=1 against a lab already up).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import paramiko
import pytest
import yaml

from unitctl import labca, labsecrets, labservices

pytestmark = pytest.mark.lab

from lab_helpers import assert_clean, environment, recap_of  # noqa: E402

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
    recap = recap_of(result.stdout)
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


def compliance(tmp_path: Path, unit: str, user: str | None, inventory: Path | None = None,
               names: str = WS_CHECKS) -> list[dict]:
    output = tmp_path / f"compliance-{unit}-{time.monotonic_ns()}.json"
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "compliance"),
            "--compliance-json", str(output), "-k", names, "--unit", unit]
    if user:
        args += ["--ssh-user", user]
    if inventory:
        args += ["--inventory", str(inventory)]
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


# A change of profile, on the prosecutor's workstations: the profile each gets in the copy of the
# inventory, and what it loses there.
MOVED = {"pros-ws1": "branch_clerk", "pros-ws2": "scanning_station"}
MOVED_LIMIT = ",".join(MOVED)
MOVED_ADDRESSES = {"pros-ws1": "10.213.31.11", "pros-ws2": "10.213.31.12"}
GONE = {
    "pros-ws1": {"packages": ["sane-utils", "cifs-utils"],
                 "paths": ["/etc/systemd/system/mnt-archive.mount", "/etc/systemd/system/mnt-archive.automount",
                           "/etc/unitctl/archive-share.credentials", "/usr/local/bin/scan-to-archive"]},
    "pros-ws2": {"packages": ["libreoffice-writer", "cups", "cups-daemon", "cups-client", "printer-driver-cups-pdf"],
                 "paths": ["/var/lib/unitctl/office_printing", "/etc/cups/cupsd.conf"]},
}
# Users' files the change must not lose: a printed page, a scan saved while the share was not mounted.
KEPT = {"pros-ws1": "/mnt/archive/unitctl-test-kept-scan.pdf", "pros-ws2": "/root/PDF/unitctl-test-kept-print.pdf"}
# Set once the last test has put the committed profiles back.
PUT_BACK: list[bool] = []
PROFILE_CHECKS = "test_workstation_office"  # WS-013..WS-017: office, printing, scanning, WS-017
WS_017 = "test_profile_components_only"


def moved_inventory(folder: Path) -> Path:
    """A copy of the lab inventory (as test_access's Province) with MOVED's profiles."""
    root = folder / "inventory"
    shutil.copytree(ROOT / "inventory" / "lab", root / "lab")
    shutil.copytree(ROOT / "inventory" / "group_vars", root / "group_vars")
    shutil.copy(ROOT / "inventory" / "lab.unitctl.yml", root / "lab.unitctl.yml")
    hosts_file = root / "lab" / "units" / "lab-prosecutor" / "hosts.yml"
    hosts = yaml.safe_load(hosts_file.read_text(encoding="utf-8"))
    for entry in hosts["hosts"]:
        if entry["name"] in MOVED:
            entry["profile"] = MOVED[entry["name"]]
    hosts_file.write_text(yaml.safe_dump(hosts, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root / "lab.unitctl.yml"


def profile_results(tmp_path: Path, inventory: Path | None, names: str = PROFILE_CHECKS) -> dict[tuple[str, str], dict]:
    results = compliance(tmp_path, "lab-prosecutor", AUTOMATION_USER, inventory, names)
    return {(r["check_id"], r["host"]): r for r in results if r["host"] in MOVED}


def installed(host: str, package: str) -> bool:
    _, status = run_as(MOVED_ADDRESSES[host], f"dpkg-query -W -f='${{Status}}' {package} 2>/dev/null || true")
    return status == "install ok installed"


def exists(host: str, path: str) -> bool:
    return run_as(MOVED_ADDRESSES[host], f"sudo -n test -e {path}")[0] == 0


@pytest.fixture(scope="module")
def moved(lab, tmp_path_factory):
    """pros-ws1 and pros-ws2 provisioned with their committed profiles, a user's file on each, and the
    copy of the inventory that moves them; the committed inventory puts them back at the end."""
    result, recap = playbook("--limit", MOVED_LIMIT, playbooks=PLAYBOOKS[1:])
    assert_clean(result, recap, MOVED, changed_zero=False)
    for host, path in KEPT.items():
        status, output = run_as(MOVED_ADDRESSES[host], f"sudo -n sh -c 'mkdir -p {Path(path).parent} && echo kept > {path}'")
        assert status == 0, output
    yield moved_inventory(tmp_path_factory.mktemp("profiles"))
    if not PUT_BACK:  # a test stopped half way: the committed profiles still come back
        playbook("--limit", MOVED_LIMIT, playbooks=PLAYBOOKS[1:])
    for host, path in KEPT.items():
        run_as(MOVED_ADDRESSES[host], f"sudo -n rm -f {path}")


def test_profile_change_is_found_before_the_run(moved, tmp_path):
    results = profile_results(tmp_path, moved, WS_017)
    for host, gone in GONE.items():
        result = results[("WS-017", host)]
        assert result["outcome"] == "fail", result
        assert gone["packages"][0] in result["evidence"], result["evidence"]


def test_profile_change_check_mode_is_clean_and_changes_nothing(moved):
    result, recap = playbook("-i", str(moved), "--limit", MOVED_LIMIT, "--check", "--diff", playbooks=PLAYBOOKS[1:])
    assert_clean(result, recap, MOVED, changed_zero=False)
    assert all(recap[host]["changed"] > 0 for host in MOVED), recap  # it does show what would go
    for host, gone in GONE.items():
        assert installed(host, gone["packages"][0]), f"check mode removed {gone['packages'][0]} from {host}"


def test_profile_change_takes_off_what_is_no_longer_needed(moved, tmp_path):
    result, recap = playbook("-i", str(moved), "--limit", MOVED_LIMIT, playbooks=PLAYBOOKS[1:])
    print(f"profile change run on {MOVED_LIMIT}: {recap['_seconds']:.0f} s")
    assert_clean(result, recap, MOVED, changed_zero=False)
    results = profile_results(tmp_path, moved)
    bad = {key: (r["outcome"], r["evidence"][:300]) for key, r in results.items() if r["outcome"] not in ("pass", "not_applicable")}
    assert not bad, bad
    assert results[("WS-017", "pros-ws1")]["outcome"] == results[("WS-017", "pros-ws2")]["outcome"] == "pass"
    assert results[("WS-015", "pros-ws2")]["outcome"] == "pass", "the scanning station did not get scanning"
    assert results[("WS-015", "pros-ws1")]["outcome"] == "not_applicable"
    for host, gone in GONE.items():
        left = [p for p in gone["packages"] if installed(host, p)] + [p for p in gone["paths"] if exists(host, p)]
        assert not left, f"{host} still has {left}"
    states = run_as(MOVED_ADDRESSES["pros-ws2"], "systemctl is-active cups.service cups.socket cups.path")[1].split()
    assert "active" not in states, f"CUPS still runs: {states}"  # a removed unit may read "failed"
    # Nothing lost: the users' files stay (and the mount point with the file in it).
    for host, path in KEPT.items():
        assert run_as(MOVED_ADDRESSES[host], f"sudo -n cat {path}") == (0, "kept"), f"{host} lost {path}"
    # What the others still need stays: Firefox everywhere, LibreOffice and CUPS on the branch clerk.
    assert installed("pros-ws1", "libreoffice-writer") and installed("pros-ws1", "cups")
    assert installed("pros-ws1", "firefox-esr") and installed("pros-ws2", "firefox-esr")


def test_profile_change_second_run_changes_nothing(moved):
    assert_clean(*playbook("-i", str(moved), "--limit", MOVED_LIMIT, playbooks=PLAYBOOKS[1:]), MOVED, changed_zero=True)
    assert_clean(*playbook("-i", str(moved), "--limit", MOVED_LIMIT, "--check", "--diff", playbooks=PLAYBOOKS[1:]),
                 MOVED, changed_zero=True)


def test_profile_change_is_put_back_by_the_committed_inventory(moved, tmp_path):
    result, recap = playbook("--limit", MOVED_LIMIT, playbooks=PLAYBOOKS[1:])
    print(f"put back on {MOVED_LIMIT}: {recap['_seconds']:.0f} s")
    assert_clean(result, recap, MOVED, changed_zero=False)
    PUT_BACK.append(True)
    results = profile_results(tmp_path, None)
    bad = {key: (r["outcome"], r["evidence"][:300]) for key, r in results.items() if r["outcome"] not in ("pass", "not_applicable")}
    assert not bad, bad
    assert results[("WS-015", "pros-ws1")]["outcome"] == results[("WS-014", "pros-ws2")]["outcome"] == "pass"

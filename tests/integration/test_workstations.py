"""CMS workstations (playbooks/workstations.yml, with the lab's stand-in CMS from
playbooks/cms_standin.yml) on the lab province converged once (conftest's `converged`; check mode
and idempotence are proven for the whole province in test_converge.py).

The WS checks failed on a bare workstation and pass on the converged ones; Firefox itself, in a
fresh profile, takes the province policies only from where it reads them; end to end, a Persian
page made by LibreOffice Writer is printed to the branch printer's lab queue (CUPS printing to PDF)
and found as a completed job and as the PDF file; an IPP Everywhere printer that is off while its
queue is made (CUPS' printer simulator, ippeveprinter, started later) is named by the run, fails
WS-014, and gets its driver on the run after it is on; a role input of the wrong type stops the role
at its start with the argument spec's message, changing nothing; ClamAV detects the EICAR test file
only with the province's signatures (WS-019 fails on a workstation whose database is taken off and
passes once the role, run alone with `--tags workstation_care`, puts it back).

Then a change of profile takes off what a workstation no longer needs (WS-017): the prosecutor's
workstations are moved in a copy of the lab inventory (registry office to branch clerk: scanning
goes; branch clerk to scanning station: printing and LibreOffice go, scanning comes); WS-017 fails
before the run and passes after it, the components' packages, files and units are gone, the
users' files stay, `--check --diff` runs clean before and after, a second run changes nothing.
The committed inventory puts them back at the end.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from lab_helpers import (MACHINES, as_user, assert_run_clean, changed_tasks, compliance, copy_lab_inventory, edit_unit_file,
                         holds_when_bare, hosts_of, not_passing, playbook, sudo_on, wait_for)

pytestmark = pytest.mark.lab

WORKSTATIONS_PLAYBOOK = "playbooks/workstations.yml"
PERSIAN_TEXT = "صفحهٔ آزمایشی چاپ — دادگستری شهرستان، شعبهٔ ۱"
COURT_WORKSTATIONS = hosts_of("cms_client", "lab-court")


def run_as(host: str, command: str, timeout: float = 180) -> tuple[int, str]:
    """A command on a provisioned workstation as the automation account (sudo -n where written)."""
    return as_user(MACHINES[host], command, timeout=timeout)


def test_ws_checks_failed_on_the_bare_workstations(converged):
    if converged.bare_results is None:
        pytest.skip("the lab's hosts were already provisioned when the session started")
    for host in hosts_of("cms_client"):
        results = [r for r in converged.bare_results
                   if r["host"] == host and r["check_id"].startswith(("WS-", "BANNER-", "LOGIN-", "FIM-"))]
        assert results, f"no WS check ran on {host}"
        not_failing = {r["check_id"]: r["outcome"] for r in results if r["outcome"] not in ("fail", "not_applicable")
                       and r["check_id"] not in holds_when_bare(host)}
        assert not not_failing, f"checks that did not fail on the bare {host}: {not_failing}"


def test_ws_checks_pass_on_the_converged_workstations(converged):
    results = [r for r in converged.results if r["host"] in hosts_of("cms_client") and r["check_id"].startswith("WS-")]
    for host in hosts_of("cms_client"):
        ran = {r["check_id"] for r in results if r["host"] == host}
        assert ran >= {f"WS-{n:03d}" for n in range(1, 21)}, f"some WS checks did not run on {host}"
    bad = not_passing(results)
    assert not bad, "\n".join(bad)
    # A branch clerk has no scanner: its scanning checks are not applicable, not passed.
    clerk = {r["check_id"]: r["outcome"] for r in results if r["host"] == "court-ws2"}
    assert clerk["WS-015"] == "not_applicable"


def test_persian_page_prints_to_the_branch_queue(converged):
    """LibreOffice Writer makes a PDF of a Persian page; CUPS prints it to court-prn1 (a PDF queue)."""
    host = "court-ws1"
    script = (
        "set -e; d=$(mktemp -d); cd $d; "
        f"printf '%s\\n' '{PERSIAN_TEXT}' > page.txt; "
        "HOME=$d soffice --headless --infilter='Text (encoded):UTF8,,Noto Naskh Arabic' --convert-to pdf page.txt >/dev/null 2>&1; "
        "test -s page.pdf; lp -d court-prn1 -t unitctl-persian-test page.pdf"
    )
    status, output = run_as(host, f"sudo -n sh -c {json.dumps(script)}")
    assert status == 0, output
    job = re.search(r"request id is (court-prn1-\d+)", output)
    assert job, output
    deadline = time.monotonic() + 60
    completed = ""
    while time.monotonic() < deadline:
        _, completed = run_as(host, "lpstat -W completed -o court-prn1")
        if job.group(1) in completed:
            break
        time.sleep(1)
    assert job.group(1) in completed, f"job {job.group(1)} not completed: {completed}"
    # cups-pdf writes the job to the printing user's ~/PDF (root's here: lp ran under sudo).
    status, files = run_as(host, f"sudo -n find /root/PDF /home -path '*/PDF/*' -name '*unitctl-persian-test*job_{job.group(1).rsplit('-', 1)[1]}.pdf'")
    assert status == 0 and files.strip(), f"no PDF output of the job: {files}"
    # The Persian text was set in a Persian-capable font (LibreOffice embeds the font it used).
    status, fonts = run_as(host, f"sudo -n grep -ao 'FontName */[A-Za-z+_-]*' {files.split()[0]}")
    assert "NotoNaskhArabic" in fonts, f"the page was not set in a Persian font: {fonts}"


# A printer that is off while its queue is made (issue #18): IPP Everywhere for real, against CUPS'
# own printer simulator, ippeveprinter (cups-ipp-utils, which cups-filters pulls in), on the
# workstation itself. Nothing listens on the port while the printer is "off".
OFF_PRINTER_PORT = 8631
OFF_PRINTER = {"name": "unitctl-test-ipp", "uri": f"ipp://localhost:{OFF_PRINTER_PORT}/ipp/print",
               "driver": "everywhere", "description": "unitctl test: IPP Everywhere printer, off at first"}
PRINTER_CHECK = "test_printer_queue"  # WS-014


def office_printing_play(folder: Path, host: str, extra: list[dict]) -> Path:
    """A play running only office_printing on `host` with the inputs playbooks/workstations.yml
    gives it, and `extra` printers after the inventory's."""
    play = folder / "office-printing.yml"
    play.write_text(json.dumps([{
        "name": "office_printing with an extra printer", "hosts": host, "gather_facts": False,
        "vars": {"ansible_become": "{{ ansible_user != 'root' }}", "extra_printers": extra},
        "roles": [{"role": "office_printing", "vars": {
            "office_printing_printers": "{{ host_printers | printer_queues(province_printing_device_uri, "
                                        "province_printing_driver) + extra_printers }}",
            "office_printing_driver_packages": "{{ province_printing_packages }}"}}],
    }]))
    return play


def printer_check(tmp_path: Path, host: str) -> dict:
    results = compliance(tmp_path / f"printer-{time.monotonic_ns()}.json", units=["lab-court"], keyword=PRINTER_CHECK)
    return next(r for r in results if r["host"] == host and r["check_id"] == "WS-014")


def test_queue_of_a_printer_that_was_off_gets_its_driver_on_a_later_run(converged, tmp_path):
    """CUPS 2.4 makes an IPP Everywhere queue whose printer does not answer without a driver, and
    lpadmin exits 0. The run names the printer and its URI without failing, WS-014 fails naming the
    queue; once the printer answers the next run makes the queue again and it gets its driver,
    WS-014 passes (a page goes through the new driver), and a third run changes nothing."""
    host, name, uri = "court-ws1", OFF_PRINTER["name"], OFF_PRINTER["uri"]
    machine = MACHINES[host]
    started = time.monotonic()
    status, listening = sudo_on(machine, f"command -v ippeveprinter && ss -Hltn 'sport = :{OFF_PRINTER_PORT}'")
    assert status == 0 and str(OFF_PRINTER_PORT) not in listening, f"no ippeveprinter, or the port is taken: {listening}"
    play = office_printing_play(tmp_path, host, [OFF_PRINTER])
    printer_pid = ""
    try:
        off = playbook(str(play))
        assert_run_clean(off, [host], changed_zero=False)
        said = off.result.stdout + off.result.stderr  # Ansible's warnings go to stderr
        assert f"printer {name} ({uri}) could not be reached" in said, said[-3000:]
        assert '"driver_missing": true' in sudo_on(machine, f"cat /var/lib/unitctl/office_printing/{name}.queue")[1]
        without = printer_check(tmp_path, host)
        assert without["outcome"] == "fail" and f"{name} ({uri})" in without["evidence"], without

        # The printer is switched on: CUPS' simulator, no DNS-SD, bounded (timeout) and killed at the end.
        status, printer_pid = sudo_on(machine, f"d=$(mktemp -d /tmp/unitctl-ippeve.XXXXXX) && (setsid timeout 300 "
                                               f"ippeveprinter -p {OFF_PRINTER_PORT} -r off -d $d 'unitctl test' "
                                               f"</dev/null >/dev/null 2>&1 & echo $!)")
        assert status == 0 and printer_pid.isdigit(), printer_pid
        wait_for(lambda: str(OFF_PRINTER_PORT) in sudo_on(machine, f"ss -Hltn 'sport = :{OFF_PRINTER_PORT}'")[1],
                 20, "ippeveprinter listening")
        on = playbook(str(play))
        assert_run_clean(on, [host], changed_zero=False)
        assert "could not be reached" not in on.result.stdout + on.result.stderr, on.result.stderr[-3000:]
        assert on.recap[host]["changed"] == 2, on.recap  # the queue made again and its record
        with_driver = printer_check(tmp_path, host)
        assert with_driver["outcome"] == "pass", with_driver
        assert_run_clean(playbook(str(play)), [host], changed_zero=True)
    finally:
        if printer_pid.isdigit():
            sudo_on(machine, f"kill {printer_pid}")
        sudo_on(machine, f"lpadmin -x {name}; rm -f /var/lib/unitctl/office_printing/{name}.queue; "
                         "rm -rf /tmp/unitctl-ippeve.*")
    print(f"printer off then on, three office_printing runs and two WS-014 checks: {time.monotonic() - started:.0f} s")
    assert f"device for {name}:" not in sudo_on(machine, "lpstat -v")[1]


def firefox_results(tmp_path: Path) -> dict[tuple[str, str], dict]:
    results = compliance(tmp_path / f"firefox-{time.monotonic_ns()}.json", units=["lab-court"],
                         keyword="test_firefox")
    return {(r["check_id"], r["host"]): r for r in results}


def test_firefox_ignores_policies_where_it_does_not_read_them(converged, tmp_path):
    """Policies under the Debian package's name (/etc/firefox-esr/policies/, where this role once
    wrote them) are not read: Firefox in a fresh profile shows the policy engine inactive and
    WS-008/WS-009 fail; back where Firefox reads them, both pass (asked of Firefox itself)."""
    host = COURT_WORKSTATIONS[0]
    moved = run_as(host, "sudo -n sh -c 'mkdir -p /etc/firefox-esr/policies && "
                         "mv /etc/firefox/policies/policies.json /etc/firefox-esr/policies/'")
    assert moved[0] == 0, moved
    try:
        unread = firefox_results(tmp_path)
    finally:
        back = run_as(host, "sudo -n sh -c 'mv /etc/firefox-esr/policies/policies.json /etc/firefox/policies/ "
                            "&& rmdir /etc/firefox-esr/policies'")
    assert back[0] == 0, back
    for check_id in ("WS-008", "WS-009"):
        result = unread[(check_id, host)]
        assert result["outcome"] == "fail" and "policy engine is not active" in result["evidence"], result
    read = firefox_results(tmp_path)
    outcomes = {key: (r["outcome"], r["evidence"][:300]) for key, r in read.items()}
    assert read[("WS-008", host)]["outcome"] == read[("WS-009", host)]["outcome"] == "pass", outcomes
    assert all(outcome in ("pass", "not_applicable") for outcome, _ in outcomes.values()), outcomes


# The lab province's own signature database (group_vars/lab: province_clamav_databases).
LAB_SIGNATURES = "/var/lib/clamav/unitctl-lab.hdb"


def clamav_results(tmp_path: Path) -> dict[str, dict]:
    results = compliance(tmp_path / f"clamav-{time.monotonic_ns()}.json", units=["lab-court"], keyword="test_clamav")
    return {r["host"]: r for r in results if r["check_id"] == "WS-019"}


def test_clamav_detects_only_with_the_province_signatures(converged, tmp_path):
    """WS-019 proves ClamAV detects, not that it is configured: with the lab province's signature
    database taken off a workstation, the check fails naming the two ways the province gives
    signatures; the role, run for that host alone, puts the database back (loaded by ClamAV first)
    and changes nothing else, and the check passes on clamscan's FOUND for the EICAR test file."""
    host, other = COURT_WORKSTATIONS
    removed = run_as(host, f"sudo -n rm {LAB_SIGNATURES}")
    assert removed[0] == 0, removed
    try:
        broken = clamav_results(tmp_path)
    finally:
        back = playbook(WORKSTATIONS_PLAYBOOK, "--limit", host, "--tags", "workstation_care")
    assert broken[host]["outcome"] == "fail", broken[host]
    assert "ClamAV has no signature database: set province_clamav_mirror or province_clamav_databases" \
        in broken[host]["evidence"], broken[host]["evidence"]
    assert broken[other]["outcome"] == "pass", broken[other]
    assert_run_clean(back, [host], changed_zero=False)
    # the database, nothing else (file integrity, tagged workstation_care too, may follow earlier tests' changes)
    assert changed_tasks(back.result.stdout, host, but_roles=("file_integrity",)) == [
        "workstation_care : Put the province's signature databases in place (each loaded by ClamAV first)"], back.result.stdout[-3000:]
    fixed = clamav_results(tmp_path)
    assert fixed[host]["outcome"] == "pass", fixed[host]


def test_wrong_input_type_is_refused_at_the_role_start(converged):
    # desktop_locale_fonts must be a list: a dict stops desktop_locale before its first task.
    bad_run = playbook(WORKSTATIONS_PLAYBOOK, "--limit", "court-ws1", "-e",
                       json.dumps({"province_desktop_fonts": {"not": "a list"}}))
    result, recap = bad_run.result, bad_run.recap
    assert result.returncode != 0
    assert recap["court-ws1"]["failed"] == 1 and recap["court-ws1"]["changed"] == 0, recap
    assert "desktop_locale_fonts" in result.stdout and "Validating arguments against arg spec" in result.stdout, \
        result.stdout[-3000:]


# A change of profile, on the prosecutor's workstations: the profile each gets in the copy of the
# inventory, and what it loses there.
MOVED = {"pros-ws1": "branch_clerk", "pros-ws2": "scanning_station"}
MOVED_LIMIT = ",".join(MOVED)
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
# A profile change is applied as a technician applies one: the three component roles (and the file
# integrity baseline after them), not the whole stack, whose idempotence the convergence proves.
PROFILE_RUN = ("--limit", MOVED_LIMIT, "--tags", "workstation_profile")
PROFILE_CHECKS = "test_workstation_office"  # WS-013..WS-017: office, printing, scanning, WS-017
WS_017 = "test_profile_components_only"


def moved_inventory(folder: Path) -> Path:
    """A copy of the lab inventory with MOVED's profiles."""
    source = copy_lab_inventory(folder)

    def move(hosts: dict) -> None:
        for entry in hosts["hosts"]:
            if entry["name"] in MOVED:
                entry["profile"] = MOVED[entry["name"]]

    edit_unit_file(source, "lab-prosecutor", "hosts.yml", move)
    return source


def profile_results(tmp_path: Path, inventory: Path | None, names: str = PROFILE_CHECKS) -> dict[tuple[str, str], dict]:
    results = compliance(tmp_path / f"profile-{time.monotonic_ns()}.json", units=["lab-prosecutor"],
                         inventory=inventory, keyword=names)
    return {(r["check_id"], r["host"]): r for r in results if r["host"] in MOVED}


def installed(host: str, package: str) -> bool:
    _, status = run_as(host, f"dpkg-query -W -f='${{Status}}' {package} 2>/dev/null || true")
    return status == "install ok installed"


def exists(host: str, path: str) -> bool:
    return run_as(host, f"sudo -n test -e {path}")[0] == 0


@pytest.fixture(scope="module")
def moved(converged, tmp_path_factory):
    """The prosecutor's workstations as converged (their committed profiles), a user's file on each,
    and the copy of the inventory that moves them; the committed inventory puts them back at the end."""
    for host, path in KEPT.items():
        status, output = run_as(host, f"sudo -n sh -c 'mkdir -p {Path(path).parent} && echo kept > {path}'")
        assert status == 0, output
    yield moved_inventory(tmp_path_factory.mktemp("profiles"))
    if not PUT_BACK:  # a test stopped half way: the committed profiles still come back
        playbook(WORKSTATIONS_PLAYBOOK, *PROFILE_RUN)
    for host, path in KEPT.items():
        run_as(host, f"sudo -n rm -f {path}")


def test_profile_change_is_found_before_the_run(moved, tmp_path):
    results = profile_results(tmp_path, moved, WS_017)
    for host, gone in GONE.items():
        result = results[("WS-017", host)]
        assert result["outcome"] == "fail", result
        assert gone["packages"][0] in result["evidence"], result["evidence"]


def test_profile_change_check_mode_is_clean_and_changes_nothing(moved):
    check = playbook(WORKSTATIONS_PLAYBOOK, *PROFILE_RUN, "--check", "--diff", inventory=moved)
    assert_run_clean(check, MOVED, changed_zero=False)
    recap = check.recap
    assert all(recap[host]["changed"] > 0 for host in MOVED), recap  # it does show what would go
    for host, gone in GONE.items():
        assert installed(host, gone["packages"][0]), f"check mode removed {gone['packages'][0]} from {host}"


def test_profile_change_takes_off_what_is_no_longer_needed(moved, tmp_path):
    change = playbook(WORKSTATIONS_PLAYBOOK, *PROFILE_RUN, inventory=moved)
    print(f"profile change run on {MOVED_LIMIT}: {change.seconds:.0f} s")
    assert_run_clean(change, MOVED, changed_zero=False)
    results = profile_results(tmp_path, moved)
    bad = {key: (r["outcome"], r["evidence"][:300]) for key, r in results.items() if r["outcome"] not in ("pass", "not_applicable")}
    assert not bad, bad
    assert results[("WS-017", "pros-ws1")]["outcome"] == results[("WS-017", "pros-ws2")]["outcome"] == "pass"
    assert results[("WS-015", "pros-ws2")]["outcome"] == "pass", "the scanning station did not get scanning"
    assert results[("WS-015", "pros-ws1")]["outcome"] == "not_applicable"
    for host, gone in GONE.items():
        left = [p for p in gone["packages"] if installed(host, p)] + [p for p in gone["paths"] if exists(host, p)]
        assert not left, f"{host} still has {left}"
    states = run_as("pros-ws2", "systemctl is-active cups.service cups.socket cups.path")[1].split()
    assert "active" not in states, f"CUPS still runs: {states}"  # a removed unit may read "failed"
    # Nothing lost: the users' files stay (and the mount point with the file in it).
    for host, path in KEPT.items():
        assert run_as(host, f"sudo -n cat {path}") == (0, "kept"), f"{host} lost {path}"
    # What the others still need stays: Firefox everywhere, LibreOffice and CUPS on the branch clerk.
    assert installed("pros-ws1", "libreoffice-writer") and installed("pros-ws1", "cups")
    assert installed("pros-ws1", "firefox-esr") and installed("pros-ws2", "firefox-esr")


def test_profile_change_second_run_changes_nothing(moved):
    assert_run_clean(playbook(WORKSTATIONS_PLAYBOOK, *PROFILE_RUN, inventory=moved), MOVED, changed_zero=True)
    assert_run_clean(playbook(WORKSTATIONS_PLAYBOOK, *PROFILE_RUN, "--check", "--diff", inventory=moved),
                     MOVED, changed_zero=True)


def test_profile_change_is_put_back_by_the_committed_inventory(moved, tmp_path):
    back = playbook(WORKSTATIONS_PLAYBOOK, *PROFILE_RUN)
    print(f"put back on {MOVED_LIMIT}: {back.seconds:.0f} s")
    assert_run_clean(back, MOVED, changed_zero=False)
    PUT_BACK.append(True)
    results = profile_results(tmp_path, None)
    bad = {key: (r["outcome"], r["evidence"][:300]) for key, r in results.items() if r["outcome"] not in ("pass", "not_applicable")}
    assert not bad, bad
    assert results[("WS-015", "pros-ws1")]["outcome"] == results[("WS-014", "pros-ws2")]["outcome"] == "pass"

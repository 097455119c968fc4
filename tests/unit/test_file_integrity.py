"""File integrity (roles/file_integrity): the check's decisions on AIDE's JSON reports and dpkg's
answers, offline; the province's scope rendered as AIDE configuration (and, where an `aide`
binary is at hand, read by AIDE itself). The lab test (tests/integration/test_hardening_integrity.py)
proves the whole path on real hosts."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jinja2
import pytest
import yaml

from unitctl.paths import PROJECT_ROOT

ROLE = PROJECT_ROOT / "roles" / "file_integrity"
SCRIPT = ROLE / "files" / "unitctl-file-integrity"
_loader = importlib.machinery.SourceFileLoader("unitctl_file_integrity", str(SCRIPT))
_spec = importlib.util.spec_from_loader(_loader.name, _loader)
fim = importlib.util.module_from_spec(_spec)
sys.modules[_loader.name] = fim
_loader.exec_module(fim)

# AIDE 0.18.3's JSON report (report_level list_entries), abridged.
REPORT = """{
  "start_time": "2026-11-30 09:50:27 +0000",
  "aide_version": "0.18.3",
  "outline": "AIDE found differences between database and filesystem!!",
  "report_level": "list_entries",
  "number_of_entries": {"total": 3, "added": 1, "removed": 1, "changed": 2},
  "added": {"/usr/local/sbin/backdoor": "f+++++++++++++++++"},
  "removed": {"/etc/cron.d/old": "f-----------------"},
  "changed": {"/usr/bin/ls": "f = ... mci.H..   ", "/etc/hosts": "f > ... mc..H..   "}
}"""


# AIDE 0.19.1's (Debian 13) JSON report of the same kind of change (from trixie's aide, abridged):
# the same keys, summaries one character longer.
REPORT_0_19 = """{
  "start_time": "2026-11-30 23:24:46 +0000",
  "aide_version": "0.19.1",
  "outline": "AIDE found differences between database and filesystem!!",
  "report_level": "list_entries",
  "number_of_entries": {"total": 3, "added": 1, "removed": 1, "changed": 2},
  "added": {"/usr/local/sbin/backdoor": "f++++++++++++++++++"},
  "removed": {"/etc/cron.d/old": "f------------------"},
  "changed": {"/usr/local/sbin": "d = ... mc.. ..    ", "/etc/hosts": "f = ... mc..H..    "}
}"""


def test_report_of_aide_0_19_is_read_by_kind():
    findings = fim.parse_report(REPORT_0_19)
    assert list(findings.added) == ["/usr/local/sbin/backdoor"] and list(findings.removed) == ["/etc/cron.d/old"]
    assert [kind for kind, _, _ in findings.entries()] == ["added", "removed", "changed", "changed"]
    assert fim.changed_letters(findings.changed["/etc/hosts"]) == {"m", "c", "H"}


def test_report_is_read_by_kind():
    findings = fim.parse_report("AIDE 0.18.3 warning on stderr\n" + REPORT)
    assert findings.added == {"/usr/local/sbin/backdoor": "f+++++++++++++++++"}
    assert list(findings.removed) == ["/etc/cron.d/old"]
    assert [kind for kind, _, _ in findings.entries()] == ["added", "removed", "changed", "changed"]
    assert fim.parse_report('{"outline": "AIDE found NO differences"}').empty
    with pytest.raises(ValueError, match="not JSON"):  # a plain report must never read as "no differences"
        fim.parse_report("AIDE found differences between database and filesystem!!\n\nSummary:\n")


@pytest.mark.parametrize(("summary", "letters"), [
    ("f = ... mci.H..   ", {"m", "c", "i", "H"}),
    ("f > ... ....H..   ", {"Z", "H"}),
    ("f = p.. .c.....  C", {"p", "c", "C"}),
    ("f = ..g .c.....   ", {"g", "c"}),
    ("! = ... .........  ", {"Y"}),
    # AIDE 0.19 (Debian 13): a 19th position, F (file system type); seen from trixie's aide 0.19.1.
    ("f = ... mc..H..    ", {"m", "c", "H"}),
    ("d = ... mc.. ..    ", {"m", "c"}),
    ("f = ... ....H..   F", {"H", "F"}),
    ("f++++++++++++++++++", set()),
])
def test_change_summary_letters(summary, letters):
    assert fim.changed_letters(summary) == letters


def test_merged_usr_aliases():
    assert fim.usr_alias("/usr/bin/ls") == "/bin/ls"
    assert fim.usr_alias("/bin/ls") == "/usr/bin/ls"
    assert fim.usr_alias("/usr/lib/x86_64-linux-gnu/libc.so.6") == "/lib/x86_64-linux-gnu/libc.so.6"
    assert fim.usr_alias("/etc/hosts") is None
    assert fim.usr_alias("/usr/local/bin/x") is None


def test_dpkg_search_and_verify_are_read():
    search = ("coreutils: /bin/ls\n"
              "diversion by dash from: /bin/sh\n"
              "libc6:amd64, libc6-dev:amd64: /usr/lib/x86_64-linux-gnu/libc.so.6\n")
    assert fim.parse_dpkg_search(search) == {"/bin/ls": {"coreutils"},
                                             "/usr/lib/x86_64-linux-gnu/libc.so.6": {"libc6:amd64", "libc6-dev:amd64"}}
    verify = "??5??????   /bin/ls\n??5?????? c /etc/ssh/sshd_config\nmissing     /usr/share/doc/x\n"
    assert fim.parse_dpkg_verify(verify) == {"/bin/ls", "/etc/ssh/sshd_config", "/usr/share/doc/x"}


def findings(**kinds) -> object:
    return fim.Findings(kinds.get("added", {}), kinds.get("removed", {}), kinds.get("changed", {}))


def test_a_package_update_is_explained_and_anything_else_is_not():
    report = findings(
        changed={"/usr/bin/ls": "f = ... mci.H..   ",          # upgraded coreutils, content as dpkg has it
                 "/usr/bin/chfn": "f = p.. .c.....   ",       # mode changed (setuid added?): never a package's doing
                 "/usr/bin/tampered": "f = ... mc..H..   ",    # dpkg owns it, but its content differs from the package
                 "/etc/hosts": "f > ... mc..H..   "},          # nobody's package
        added={"/usr/lib/x86_64-linux-gnu/libnew.so.1": "f+++++++++++++++++",
               "/usr/local/sbin/backdoor": "f+++++++++++++++++"},
        removed={"/usr/lib/x86_64-linux-gnu/libold.so.0": "f-----------------"})
    owners = {"/usr/bin/ls": {"coreutils"}, "/usr/bin/chfn": {"passwd"}, "/usr/bin/tampered": {"tamp"},
              "/usr/lib/x86_64-linux-gnu/libnew.so.1": {"libnew1:amd64"}}
    # dpkg recorded /bin/tampered (merged /usr): its report names the alias
    explained, unexplained = fim.explain_by_packages(report, owners, "??5??????   /bin/tampered\n")
    assert sorted(path for _, path, _ in explained) == ["/usr/bin/ls", "/usr/lib/x86_64-linux-gnu/libnew.so.1"]
    assert sorted(path for _, path, _ in unexplained) == [
        "/etc/hosts", "/usr/bin/chfn", "/usr/bin/tampered", "/usr/lib/x86_64-linux-gnu/libold.so.0",
        "/usr/local/sbin/backdoor"]


def test_owners_are_asked_under_both_names(monkeypatch):
    asked = []

    def run(argv, timeout=0):
        asked.append(argv)
        return subprocess.CompletedProcess(argv, 0, "coreutils: /bin/ls\n", "")

    monkeypatch.setattr(fim, "run", run)
    assert fim.package_owners(["/usr/bin/ls", "/usr/local/bin/x*"]) == {"/usr/bin/ls": {"coreutils"}}
    assert asked == [["dpkg-query", "-S", "--", "/bin/ls", "/usr/bin/ls"]]  # a glob is never passed to dpkg


def test_verdict_lines_name_host_verdict_and_files():
    entries = [("added", f"/usr/local/sbin/x{i}", "f+++") for i in range(25)] + [("changed", "/etc/hosts", "f>")]
    line = fim.verdict_line("lab-court-srv", "changed", "daily check", entries)
    assert line.startswith("file integrity of lab-court-srv: changed (daily check; 25 added, 0 removed, 1 changed")
    assert "added /usr/local/sbin/x0;" in line and line.endswith("; and 6 more")
    assert fim.verdict_line("h", "clean", "daily check", []) == \
        "file integrity of h: clean (daily check; no difference from the baseline)"
    assert "all from package updates" in fim.verdict_line("h", "updated", "daily check", entries[:1], ["coreutils"])


class FakeAide:
    """aide as the check calls it: --update writes database_out and reports; --init writes it."""

    def __init__(self, report: str, status: int):
        self.report, self.status, self.calls = report, status, []

    def __call__(self, argv, timeout=0):
        self.calls.append(argv)
        if argv[0] == fim.AIDE:
            config = Path(argv[1].split("=", 1)[1])
            out = re.search(r"database_out=file:(\S+)", config.read_text()).group(1)
            if argv[2] in ("--update", "--init"):
                Path(out).write_text("new database\n")
            return subprocess.CompletedProcess(argv, 0 if argv[2] == "--init" else self.status, self.report, "")
        if argv[0] == "dpkg-query":
            return subprocess.CompletedProcess(argv, 1, "", "dpkg-query: no path found matching pattern\n")
        return subprocess.CompletedProcess(argv, 0, "", "")


ROOT_ON_EXT4 = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n28 22 0:25 / /run rw - tmpfs tmpfs rw\n"


@pytest.fixture
def host_dirs(tmp_path, monkeypatch):
    watched = tmp_path / "watched-etc"
    (watched / "cron.d").mkdir(parents=True)
    (watched / "hosts").write_text("127.0.0.1 localhost\n")
    (watched / "adjtime").write_text("0.0 0 0.0\n")
    config = tmp_path / "unitctl.conf"
    config.write_text(f"database_in=file:{tmp_path}/db.gz\ndatabase_out=file:{tmp_path}/db.gz.new\n"
                      f"!{re.escape(str(watched / 'adjtime'))}$\n{re.escape(str(watched))}($|/) UnitctlWatch\n")
    config_time = os.stat(config).st_mtime_ns - 10**9  # written "before" the baselines the tests make
    os.utime(config, ns=(config_time, config_time))
    time.sleep(0.02)  # the baselines' scans start past the kernel's coarse file-time tick
    state = tmp_path / "state"
    state.mkdir()
    lines = []
    monkeypatch.setattr(fim, "log", lambda line, warning: lines.append((line, warning)))
    # No margin (the tests' files are made milliseconds before their scans); / on ext4.
    monkeypatch.setattr(fim, "CTIME_MARGIN_NS", 0)
    monkeypatch.setattr(fim, "read_mountinfo", lambda: ROOT_ON_EXT4)
    return config, state, tmp_path, lines


def run_main(monkeypatch, aide, *argv):
    monkeypatch.setattr(fim, "run", aide)
    return fim.main(list(argv))


def test_the_first_baseline_is_made_then_an_unexplained_change_is_reported_every_day(host_dirs, monkeypatch, capsys):
    config, state, root, lines = host_dirs
    args = ("--config", str(config), "--state-dir", str(state), "--owner", "root")
    assert run_main(monkeypatch, FakeAide('{"outline": "initialised"}', 0), "baseline", *args) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "made"
    assert (root / "db.gz").read_text() == "new database\n" and not (root / "db.gz.new").exists()
    assert json.loads((state / "last-check").read_text())["verdict"] == "baseline"

    (root / "db.gz").write_text("baseline\n")
    assert run_main(monkeypatch, FakeAide(REPORT, 7), "check", *args, "--accept-package-updates") == 1
    recorded = json.loads((state / "last-check").read_text())
    assert recorded["verdict"] == "changed" and recorded["by"] == "daily check"
    assert {"kind": "added", "path": "/usr/local/sbin/backdoor", "summary": "f+++++++++++++++++"} in recorded["entries"]
    assert (root / "db.gz").read_text() == "baseline\n", "an unexplained change must not move the baseline"
    assert not (root / "db.gz.new").exists()
    assert lines[-1][1] is True and "changed (daily check; 1 added, 1 removed, 2 changed" in lines[-1][0]

    # a provisioning run alone does not clear what the daily check reported: nothing accepted, the alarm stays
    # (compared again although, here, no file under the scope is newer than the baseline's scan)
    assert run_main(monkeypatch, FakeAide(REPORT, 7), "baseline", *args) == 3
    refused = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert refused["action"] == "unacknowledged" and refused["reported"] == recorded["time"]
    assert "added: f+++++++++++++++++ /usr/local/sbin/backdoor" in refused["entries"]
    assert (root / "db.gz").read_text() == "baseline\n" and not (root / "db.gz.new").exists()
    assert json.loads((state / "last-check").read_text()) == recorded

    # the technician has looked: the run acknowledges it, lists it, and the baseline follows
    assert run_main(monkeypatch, FakeAide(REPORT, 7), "baseline", *args, "--acknowledge") == 0
    accepted = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert accepted["action"] == "accepted" and "added: f+++++++++++++++++ /usr/local/sbin/backdoor" in accepted["entries"]
    assert (root / "db.gz").read_text() == "new database\n"
    assert json.loads((state / "last-check").read_text())["verdict"] == "accepted"
    assert json.loads((state / "last-check").read_text())["by"] == "provisioning run (acknowledged)"

    # nothing under the scope changed since that run's scan: nothing to accept, and AIDE is not even
    # run; the run is recorded (the last check's age stays fresh)
    aide = FakeAide(REPORT, 7)
    assert run_main(monkeypatch, aide, "baseline", *args) == 0
    assert json.loads(capsys.readouterr().out) == {"action": "none", "entries": [], "scan": "skipped"}
    assert aide.calls == [] and (root / "db.gz").read_text() == "new database\n"
    assert json.loads((state / "last-check").read_text())["verdict"] == "clean"

    # a file written again with the same content: AIDE finds it equal, nothing is accepted, and the
    # baseline holds from that scan on, so the next run need not scan again
    (root / "watched-etc" / "hosts").write_text("127.0.0.1 localhost\n")
    time.sleep(0.02)  # a change in the scan's own tick counts as after it (one more scan, never one less)
    aide = FakeAide('{"outline": "no differences"}', 0)
    assert run_main(monkeypatch, aide, "baseline", *args) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "none" and len(aide.calls) == 1
    assert (root / "db.gz").read_text() == "new database\n"
    time.sleep(0.02)
    aide = FakeAide(REPORT, 7)
    assert run_main(monkeypatch, aide, "baseline", *args) == 0
    assert json.loads(capsys.readouterr().out)["scan"] == "skipped" and aide.calls == []
    # and an excluded file written in place does not bring the scan back either; a watched one does
    (root / "watched-etc" / "adjtime").write_text("0.5 0 0.0\n")
    assert run_main(monkeypatch, aide, "compare", *args) == 0
    assert json.loads(capsys.readouterr().out)["scan"] == "skipped" and aide.calls == []
    (root / "watched-etc" / "cron.d" / "job").write_text("* * * * * root true\n")
    assert run_main(monkeypatch, aide, "compare", *args) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "accepted" and aide.calls[0][2] == "--check"


def quiet_baseline(host_dirs, monkeypatch, capsys) -> tuple[tuple[str, ...], Path]:
    """A baseline made, then a run that finds nothing changed and skips AIDE: (args, root)."""
    config, state, root, _ = host_dirs
    args = ("--config", str(config), "--state-dir", str(state), "--owner", "root")
    assert run_main(monkeypatch, FakeAide('{"outline": "initialised"}', 0), "baseline", *args) == 0
    time.sleep(0.02)
    aide = FakeAide(REPORT, 7)
    assert run_main(monkeypatch, aide, "baseline", *args) == 0 and aide.calls == []
    capsys.readouterr()
    return args, root


@pytest.mark.parametrize("change", [
    # another database put in the baseline's place (restored from a copy, say)
    lambda root, monkeypatch: (root / "db.gz").write_text("restored\n"),
    # the scope changed (the configuration's ctime moves even when its times are set back)
    lambda root, monkeypatch: os.utime(root / "unitctl.conf", (0, 0)),
    # a watched root removed or renamed (its parent is not watched, so no ctime under the scope moves)
    lambda root, monkeypatch: (root / "watched-etc").rename(root / "watched-etc.old"),
    # something mounted over part of the scope (a bind mount changes what AIDE reads, no ctime)
    lambda root, monkeypatch: monkeypatch.setattr(fim, "read_mountinfo", lambda: ROOT_ON_EXT4 + (
        f"40 22 8:1 /srv/x {root}/watched-etc/cron.d rw - ext4 /dev/sda1 rw\n")),
    # the last check could not compare: the next run compares in full
    lambda root, monkeypatch: (root / "state" / "last-check").write_text('{"verdict": "error"}'),
], ids=["database-replaced", "scope-changed", "root-removed", "bind-mount", "last-check-error"])
def test_the_quick_look_gives_way_to_aide(host_dirs, monkeypatch, capsys, change):
    args, root = quiet_baseline(host_dirs, monkeypatch, capsys)
    change(root, monkeypatch)
    for command in ("compare", "baseline"):
        aide = FakeAide('{"outline": "no differences"}', 0)
        run_main(monkeypatch, aide, command, *args)
        assert "skipped" not in capsys.readouterr().out and aide.calls, command


def test_a_scope_on_a_file_system_without_a_kept_ctime_is_always_hashed(host_dirs, monkeypatch, capsys):
    """vfat (the EFI partition under /boot) keeps no ctime of its own: `cp -p` leaves no trace."""
    args, root = quiet_baseline(host_dirs, monkeypatch, capsys)
    efi = f"41 22 8:2 / {root}/watched-etc/efi rw - vfat /dev/sda2 rw\n"
    monkeypatch.setattr(fim, "read_mountinfo", lambda: ROOT_ON_EXT4 + efi)
    assert fim.mounts_of([f"{root}/watched-etc"], ROOT_ON_EXT4 + efi) is None
    aide = FakeAide('{"outline": "no differences"}', 0)
    run_main(monkeypatch, aide, "baseline", *args)
    assert aide.calls and "skipped" not in capsys.readouterr().out


def test_the_baseline_note_starts_a_margin_before_the_scan(host_dirs, monkeypatch):
    """Whole-second file times (ext4 with 128-byte inodes) may date a change just after the start
    a little before it: the note's start is CTIME_MARGIN_NS earlier than the scan's."""
    config, state, root, _ = host_dirs
    monkeypatch.setattr(fim, "CTIME_MARGIN_NS", 2_000_000_000)
    args = ("--config", str(config), "--state-dir", str(state), "--owner", "root")
    assert run_main(monkeypatch, FakeAide('{"outline": "initialised"}', 0), "baseline", *args) == 0
    note = json.loads((state / "baseline-scan-started").read_text())
    started = (state / "baseline-scan-started").stat().st_mtime_ns
    assert started - note["since_ns"] >= 2_000_000_000
    assert note["roots_present"] == [str(root / "watched-etc")] and note["mounts"] == [["/", "/", "ext4", "/dev/sda1"]]
    assert note["database"] == fim.database_identity(root / "db.gz")


def test_a_check_without_a_baseline_is_an_error(host_dirs, monkeypatch):
    config, state, _, lines = host_dirs
    status = run_main(monkeypatch, FakeAide('{"outline": "x"}', 0), "check", "--config", str(config), "--state-dir", str(state),
                      "--owner", "root")
    assert status == 2
    assert json.loads((state / "last-check").read_text())["verdict"] == "error"
    assert "there is no baseline" in lines[-1][0]


def test_compare_writes_nothing(host_dirs, monkeypatch, capsys):
    config, state, root, _ = host_dirs
    (root / "db.gz").write_text("baseline\n")
    aide = FakeAide(REPORT, 7)
    assert run_main(monkeypatch, aide, "compare", "--config", str(config), "--state-dir", str(state)) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "accepted"
    assert aide.calls[0][2] == "--check" and not (state / "last-check").exists()


# --- the quick look: has anything under the scope changed since the baseline's scan started? -----

@pytest.mark.parametrize("pattern", [r"/etc", r"/root/\.ssh", r"/usr/lib/x86_64\-linux\-gnu", r"/opt/a\ b"])
def test_escaped_paths_read_back(pattern):
    assert re.escape(fim.unescape(pattern)) == pattern


@pytest.mark.parametrize("pattern", [r"/usr/lib/python3[^/]*", r"/etc/.*", "/etc$", "/a|/b", "/a\\"])
def test_patterns_are_not_taken_for_paths(pattern):
    assert fim.unescape(pattern) is None


def test_the_rendered_scope_is_read_back_as_roots_and_exclusions():
    roots, excluded = fim.scope_of(render_config())
    policy = yaml.safe_load((PROJECT_ROOT / "inventory" / "group_vars" / "all" / "file_integrity.yml").read_text())
    assert set(policy["province_file_integrity_watch"]) <= set(roots) and "/usr/sbin/auditctl" in roots
    assert excluded.match("/etc/adjtime") and excluded.match("/usr/lib/python3/dist-packages/yaml/__pycache__")
    assert not excluded.match("/etc/passwd") and not excluded.match("/etc/adjtime.d/x")


def test_a_selection_of_another_shape_turns_the_quick_look_off():
    assert fim.scope_of("/etc($|/) UnitctlWatch\n/usr/lib/python3[^/]*/x($|/) UnitctlWatch\n") is None


@pytest.mark.parametrize("exclusion", [r"/etc/(?i)motd$", r"/etc/\Qa.b\E$", r"/etc/\p{Lu}", r"/var/log[[:digit:]]",
                                       r"/etc/(unclosed"])
def test_an_exclusion_python_reads_otherwise_turns_the_quick_look_off(exclusion):
    """AIDE reads exclusions with PCRE2; inline flags, \\Q..\\E, properties and POSIX classes are not
    Python's (or mean something else there): no quick look rather than a wrong one, or a crash."""
    assert fim.scope_of(f"!{exclusion}\n/etc($|/) UnitctlWatch\n") is None


def test_mount_points_are_read_as_the_kernel_writes_them():
    info = ("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
            "50 22 0:40 / /opt/with\\040space rw - tmpfs tmpfs rw\n"
            "51 22 0:41 / /srv/archive rw - cifs //srv/archive rw\n")
    assert fim.mounts_of(["/etc", "/opt"], info) == [["/", "/", "ext4", "/dev/sda1"],
                                                     ["/opt/with space", "/", "tmpfs", "tmpfs"]]
    assert fim.mounts_of(["/srv"], info) is None  # a network file system under the scope


def baseline_tree(tmp_path: Path) -> tuple[Path, int]:
    """A small watched tree, and a time (ns) after all of it was made, as a baseline scan's start."""
    root = tmp_path / "tree"
    (root / "sub" / "deep").mkdir(parents=True)
    for name in ("a", "sub/b", "sub/deep/c", "adjtime"):
        (root / name).write_text("x\n")
    (root / "link").symlink_to("/nonexistent")
    since = max(os.lstat(path).st_ctime_ns for path in [root, *root.rglob("*")]) + 1
    time.sleep(0.02)  # past the kernel's coarse file-time tick
    return root, since


@pytest.mark.parametrize("change", [
    lambda root: (root / "sub" / "deep" / "c").write_text("y\n"),  # content
    lambda root: os.chmod(root / "sub" / "b", 0o4755),  # mode only (a setuid bit)
    lambda root: os.utime(root / "a", (0, 0)),  # times set back: ctime still moves
    lambda root: (root / "sub" / "deep" / "new").write_text(""),  # added
    lambda root: (root / "sub" / "b").unlink(),  # removed: the folder changes
    lambda root: (root / "a").rename(root / "sub" / "a"),  # moved
    lambda root: os.link(root / "a", root / "hard"),  # another name for a watched file
    lambda root: (root / "link").unlink() or (root / "link").symlink_to("/etc/shadow"),  # a link's target
    lambda root: os.chown(root / "a", 1, 1),  # owner
    lambda root: os.setxattr(root / "a", "user.mark", b"1"),  # extended attributes (ACLs, capabilities)
    lambda root: (root / "sub" / "deep").rename(root / "sub" / "moved-deep"),  # a folder moved
], ids=["content", "mode", "times-set-back", "added", "removed", "moved", "hard-link", "link-target", "owner", "xattr",
        "folder-moved"])
def test_every_kind_of_change_is_seen(tmp_path, change):
    root, since = baseline_tree(tmp_path)
    change(root)
    assert fim.changed_since([str(root)], None, since) is not None


def test_nothing_changed_and_excluded_changes_are_not_seen(tmp_path):
    root, since = baseline_tree(tmp_path)
    # an absent root is not a change here: the caller compares which roots were there
    assert fim.changed_since([str(root), str(tmp_path / "absent")], None, since) is None
    (root / "adjtime").write_text("y\n")
    excluded = re.compile(re.escape(str(root / "adjtime")) + "$")
    assert fim.changed_since([str(root)], excluded, since) is None
    assert fim.changed_since([str(root)], None, since) == str(root / "adjtime")


# --- the province's scope as AIDE configuration ------------------------------------------------

def render_config() -> str:
    policy = yaml.safe_load((PROJECT_ROOT / "inventory" / "group_vars" / "all" / "file_integrity.yml").read_text())
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(ROLE / "templates"), keep_trailing_newline=True,
                                     undefined=jinja2.StrictUndefined, trim_blocks=True)
    environment.filters["regex_escape"] = re.escape  # Ansible's regex_escape (python re)
    variables = dict(defaults, file_integrity_watch=policy["province_file_integrity_watch"],
                     file_integrity_exclude=policy["province_file_integrity_exclude"])
    return environment.get_template("unitctl-aide.conf.j2").render(ansible_managed="test", **variables)


def test_the_scope_is_rendered_one_rule_per_path():
    config = render_config()
    assert "database_attrs=sha256\n" in config
    assert config.index("report_format=json\n") < config.index("report_url=stdout\n"), "set after report_url: ignored"
    assert "/etc($|/) UnitctlWatch\n" in config and "/root/\\.ssh($|/) UnitctlWatch\n" in config
    assert "!/srv/archive\n" in config
    assert "=/usr/sbin/auditctl$ f UnitctlAuditTool\n" in config
    # one checksum for the watched files; the audit tools add CIS 6.3.3's sha512
    watch = re.search(r"^UnitctlWatch = (.*)$", config, re.MULTILINE).group(1).split("+")
    assert [a for a in watch if a.startswith(("sha", "md5", "rmd", "tiger", "gost", "whirl"))] == ["sha256"]


AIDE = os.environ.get("UNITCTL_AIDE") or shutil.which("aide")


@pytest.mark.skipif(not AIDE, reason="no aide binary here (install aide, or UNITCTL_AIDE=/path/to/aide)")
@pytest.mark.parametrize(("path", "watched"), [
    ("/etc/passwd", True), ("/usr/bin/ls", True), ("/usr/local/sbin/x", True), ("/root/.ssh/authorized_keys", True),
    ("/etc/adjtime", False), ("/etc/cups/printers.conf", False), ("/etc/cups/printers.conf.O", False),
    ("/usr/lib/python3/dist-packages/yaml/__pycache__/x.pyc", False), ("/srv/archive/b1/case.pdf", False),
    ("/var/log/syslog", False), ("/var/lib/aide/unitctl.db.gz", False), ("/etcetera/x", False),
])
def test_aide_reads_the_scope_as_meant(tmp_path, path, watched):
    config = tmp_path / "unitctl.conf"
    config.write_text(render_config())
    assert subprocess.run([AIDE, "--config-check", f"--config={config}"], capture_output=True).returncode == 0
    answer = subprocess.run([AIDE, f"--config={config}", f"--path-check=f:{path}"], capture_output=True, text=True)
    assert ("[X]" in answer.stdout) == watched, answer.stdout + answer.stderr

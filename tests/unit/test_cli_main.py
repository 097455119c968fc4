"""The unitctl command itself: --version, shell completion (argcomplete), `--` to ansible-playbook
and the exit statuses each command's --help lists. Offline: nothing connects, nothing is provisioned."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from unitctl import cli
from unitctl.cli import provision
from unitctl.paths import PROJECT_ROOT

SCRIPTS = PROJECT_ROOT / "scripts"


def command_env(**extra: str) -> dict[str, str]:
    """The environment of a unitctl started here: this one as the test left it (see conftest.py:
    no UNITCTL_INVENTORY, no checkout setting), running this checkout's package."""
    return dict(os.environ, PYTHONPATH=str(SCRIPTS), PYTHONDONTWRITEBYTECODE="1", **extra)


def git(root: Path, *arguments: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.invalid",
                           *arguments], capture_output=True, text=True, check=True).stdout.strip()


# --- --version ----------------------------------------------------------------------------------

def expected_version() -> str:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def expected_commit() -> str:
    dirty = git(PROJECT_ROOT, "status", "--porcelain", "--untracked-files=no")
    return git(PROJECT_ROOT, "rev-parse", "--short", "HEAD") + ("+dirty" if dirty else "")


def test_version_prints_the_pyproject_version_and_the_checkout_commit(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"unitctl {expected_version()} (commit {expected_commit()})\n"


def test_version_as_a_command(tmp_path):
    done = subprocess.run([sys.executable, "-m", "unitctl", "--version"], capture_output=True, text=True,
                          env=command_env(), cwd=tmp_path, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"unitctl {expected_version()} (commit {expected_commit()})\n"
    assert done.stderr == ""


def test_commit_is_short_then_dirty_when_tracked_files_change(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "file").write_text("one\n")
    git(tmp_path, "add", "file")
    git(tmp_path, "commit", "-q", "-m", "one")
    head = git(tmp_path, "rev-parse", "--short", "HEAD")
    assert cli.checkout_commit(tmp_path) == head
    (tmp_path / "untracked").write_text("not part of the tree\n")
    assert cli.checkout_commit(tmp_path) == head
    (tmp_path / "file").write_text("two\n")
    assert cli.checkout_commit(tmp_path) == head + "+dirty"


def test_commit_is_unknown_outside_git(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert cli.checkout_commit(tmp_path) == "unknown"
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert cli.checkout_commit(PROJECT_ROOT) == "unknown"


def test_version_falls_back_to_the_installed_metadata(tmp_path, monkeypatch):
    from importlib import metadata

    from unitctl import paths

    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path)  # no pyproject.toml there
    monkeypatch.setattr(metadata, "version", lambda name: "9.8.7" if name == "unitctl" else None)
    assert cli.toolkit_version() == "9.8.7"


# --- shell completion ---------------------------------------------------------------------------

def complete(line: str, cwd: Path | None = None, **extra_env: str) -> list[str]:
    """What the shell offers for `line` (cursor at its end), as it asks after
    `eval "$(register-python-argcomplete unitctl)"`: the command runs with _ARGCOMPLETE and COMP_LINE
    set and answers on file descriptor 8. (Not in-process: argcomplete would take pytest's fd 9.)"""
    read_end, write_end = os.pipe()
    env = command_env(_ARGCOMPLETE="1", _ARGCOMPLETE_IFS="\n", COMP_LINE=line, COMP_POINT=str(len(line)), **extra_env)
    done = subprocess.run(["bash", "-c", f'exec "$0" -m unitctl 8>&{write_end}', sys.executable], env=env,
                          cwd=cwd or PROJECT_ROOT, timeout=60, check=False, capture_output=True, text=True,
                          pass_fds=(write_end,))
    os.close(write_end)
    with os.fdopen(read_end) as answer:
        offered = answer.read()
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    return sorted(word.strip() for word in offered.split("\n") if word.strip())


def lab_units() -> list[str]:
    from unitctl.inventory.load import load_source
    from unitctl.paths import LAB_INVENTORY

    return sorted(unit.id for unit in load_source(LAB_INVENTORY).province.units)


def test_unit_ids_of_the_lab_by_default(tmp_path):
    assert "lab-court" in lab_units() and "lab-prosecutor" in lab_units()
    offered = complete("unitctl provision ", tmp_path)  # from anywhere: the lab inventory of the checkout
    assert [word for word in offered if not word.startswith("-")] == lab_units()
    assert complete("unitctl provision lab-p") == ["lab-prosecutor"]
    assert complete("unitctl provision lab-court lab-p") == ["lab-prosecutor"]
    assert complete("unitctl check lab-") == lab_units()


def test_unit_ids_of_the_inventory_named():
    qom = str(PROJECT_ROOT / "inventory" / "qom.unitctl.yml")
    offered = complete(f"unitctl check --inventory {qom} qom-")
    assert offered and all(unit.startswith("qom-") for unit in offered) and "qom-court" in offered
    offered = complete(f"unitctl staff list -i {qom} ")
    assert "qom-court" in offered and "lab-court" not in offered


def qom_units() -> list[str]:
    return sorted(p.name for p in (PROJECT_ROOT / "inventory" / "units").iterdir() if p.is_dir())


def test_unit_ids_of_the_inventory_set_for_the_shell_or_the_checkout(tmp_path, fresh_inventory_choice):
    offered = complete("unitctl check ", tmp_path, UNITCTL_INVENTORY="inventory/qom.unitctl.yml")
    assert [word for word in offered if not word.startswith("-")] == qom_units()
    fresh_inventory_choice.write_text("inventory: inventory/qom.unitctl.yml\n", encoding="utf-8")
    assert complete("unitctl provision qom-c", tmp_path) == ["qom-centre", "qom-court"]
    # --inventory on the line comes first; a broken setting offers nothing and breaks nothing.
    assert complete("unitctl provision -i inventory/lab.unitctl.yml lab-c", PROJECT_ROOT) == ["lab-centre", "lab-court"]
    fresh_inventory_choice.write_text("inventory: [\n", encoding="utf-8")
    assert complete("unitctl check q", tmp_path) == []


def test_commands_complete():
    assert {"provision", "check", "evaluate", "lab", "net", "validate", "use"} <= set(complete("unitctl "))


@pytest.mark.parametrize("inventory", [None, "no/such.unitctl.yml", "README.md", "inventory"])
def test_the_unit_completer_never_raises(inventory):
    import argparse

    args = argparse.Namespace(inventory=Path(inventory) if inventory else None)
    offered = cli.unit_ids_completer("", args)
    assert offered == (lab_units() if inventory is None else [])
    assert cli.unit_ids_completer("x", object()) == []


def test_no_completion_without_the_shell_asking(monkeypatch, capsys):
    monkeypatch.delenv("_ARGCOMPLETE", raising=False)
    with pytest.raises(SystemExit) as exited:
        cli.main(["provision", "--help"])
    assert exited.value.code == 0 and "usage: unitctl provision" in capsys.readouterr().out


# --- `--` to ansible-playbook -------------------------------------------------------------------

def test_arguments_after_the_double_dash_go_to_ansible_playbook_unchanged_and_in_order(lab_vault_args):
    args = cli.parse_args(cli.build_parser(), ["provision", "lab-court", "--check", "--", "--tags", "role::ssh_server",
                                               "-v", "--", "lab-prosecutor"])
    assert args.units == ["lab-court"]
    assert provision.command_for(args)[1:] == [
        "-i", "inventory/lab.unitctl.yml", "playbooks/site.yml", "--limit", "unit_lab_court",
        *lab_vault_args("lab-court"), "--check", "--tags", "role::ssh_server", "-v", "--", "lab-prosecutor"]


def test_without_the_double_dash_nothing_changes(lab_vault_args):
    parser = cli.build_parser()
    for argv in (["provision", "lab-court"], ["provision", "lab-court", "lab-prosecutor", "--diff"]):
        assert cli.parse_args(parser, argv) == parser.parse_args(argv)
        assert cli.parse_args(parser, argv).ansible_args == []
    assert provision.command_for(cli.parse_args(parser, ["provision", "lab-court"]))[1:] == [
        "-i", "inventory/lab.unitctl.yml", "playbooks/site.yml", "--limit", "unit_lab_court",
        *lab_vault_args("lab-court")]
    # An empty pass-through changes nothing either.
    assert provision.command_for(cli.parse_args(parser, ["provision", "lab-court", "--"]))[1:] == [
        "-i", "inventory/lab.unitctl.yml", "playbooks/site.yml", "--limit", "unit_lab_court",
        *lab_vault_args("lab-court")]


def test_other_commands_keep_the_double_dash_as_argparse_reads_it():
    parser = cli.build_parser()
    argv = ["staff", "list", "--", "qom-court"]
    assert cli.parse_args(parser, argv) == parser.parse_args(argv)


def test_provision_runs_the_command_with_the_extra_arguments(monkeypatch, capsys, lab_vault_args):
    ran = []
    monkeypatch.setattr(provision.subprocess, "run",
                        lambda command, **kwargs: ran.append(command) or subprocess.CompletedProcess(command, 4))
    status = cli.main(["provision", "lab-court", "--", "--tags", "role::ssh_server", "-v"])
    assert status == 4  # ansible-playbook's own status, returned as it is
    assert len(ran) == 1 and ran[0][0].endswith("/ansible-playbook")
    vault_args = lab_vault_args("lab-court")
    assert ran[0][1:] == ["-i", "inventory/lab.unitctl.yml", "playbooks/site.yml", "--limit", "unit_lab_court",
                          *vault_args, "--tags", "role::ssh_server", "-v"]
    assert capsys.readouterr().out == ("running: ansible-playbook -i inventory/lab.unitctl.yml playbooks/site.yml "
                                       f"--limit unit_lab_court {' '.join([*vault_args, ''])}"
                                       "--tags role::ssh_server -v\n")


# --- exit statuses in --help --------------------------------------------------------------------

def help_of(*command: str, capsys) -> str:
    with pytest.raises(SystemExit) as exited:
        cli.main([*command, "--help"])
    assert exited.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # wrapping aside


@pytest.mark.parametrize("command", ["check", "evaluate"])
def test_check_and_evaluate_list_their_exit_statuses(command, capsys):
    from unitctl.report import evaluation

    text = help_of(command, capsys=capsys)
    assert "exit status:" in text
    assert f"{evaluation.EXIT_COMPLIANT} compliant: every check of" in text
    assert f"{evaluation.EXIT_NON_COMPLIANT} non-compliant: at least one check failed" in text
    assert f"{evaluation.EXIT_NOT_EVALUATED} not evaluated, in part or whole" in text
    assert text.index("exit status:") < text.index(" 0 compliant") < text.index(" 1 non-compliant") \
        < text.index(" 2 not evaluated")


def test_provision_lists_ansible_playbooks_exit_statuses(capsys):
    from ansible.errors import ExitCode

    text = help_of("provision", capsys=capsys)
    assert "exit status:" in text and "[-- ANSIBLE_PLAYBOOK_ARGS ...]" in text
    for status in (ExitCode.SUCCESS, ExitCode.GENERIC_ERROR, ExitCode.HOST_FAILED, ExitCode.HOST_UNREACHABLE,
                   ExitCode.INVALID_CLI_OPTION, ExitCode.KEYBOARD_INTERRUPT, ExitCode.UNKNOWN_ERROR):
        assert f" {int(status)} " in text.split("exit status:")[1]
    assert f" {cli.EXIT_REFUSED} some host failed a task (ansible-playbook); or unitctl refused" in text
    assert "unitctl provision qom-court -i inventory/qom.unitctl.yml \\ -- --tags role::ssh_server -v" in text


@pytest.mark.parametrize("command", [("validate",), ("new-unit",), ("lab", "up"), ("lab", "status"),
                                     ("lab", "stop"), ("net", "push"), ("net", "drift"), ("staff", "list"),
                                     ("staff", "appointments")])
def test_every_command_lists_its_exit_statuses(command, capsys):
    statuses = help_of(*command, capsys=capsys).split("exit status:")[1]
    assert " 0 " in statuses and " 1 " in statuses and " 2 " in statuses
    assert ("2 some device differs from its intended config" in statuses) == (command == ("net", "drift"))


@pytest.mark.parametrize("columns", ["60", "80", "100"])
def test_help_lines_break_only_where_a_command_can_be_copied(columns, monkeypatch, capsys):
    # textwrap breaks after a hyphen by default: "(prints the ansible-" / "playbook command it runs)".
    monkeypatch.setenv("COLUMNS", columns)
    lines = []
    for argv in (["--help"], ["provision", "--help"], ["check", "--help"], ["use", "--help"]):
        with pytest.raises(SystemExit):
            cli.main(argv)
        lines += capsys.readouterr().out.splitlines()
    assert [line for line in lines if re.search(r"\w-$", line)] == []
    assert sum("ansible-playbook" in line for line in lines) >= 4
    # A command in backticks stays on one line.
    assert all(line.count("`") % 2 == 0 for line in lines), [line for line in lines if line.count("`") % 2]
    assert sum("`unitctl use SOURCE`" in line for line in lines) >= 2

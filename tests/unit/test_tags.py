"""The playbooks' tags (README, "Tags"): role::NAME and skip::NAME on every role, play::JOB and
skip::JOB on every job's plays, and the validation, connection, bootstrap and file integrity plays
tagged always, so that a run of one role still validates, connects and keeps the AIDE baseline."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

# The checkout this test file belongs to (not the installed unitctl's, which may be another worktree).
ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
BIN = Path(sys.executable).parent

# Each job playbook's plays carry play::JOB and skip::JOB (server_base.yml is part of servers).
JOBS = {"server_base.yml": "servers", "servers.yml": "servers", "centre.yml": "centre", "network.yml": "network",
        "cms_standin.yml": "cms_standin", "workstations.yml": "workstations", "staff.yml": "staff",
        "upgrade_release.yml": "upgrade_release"}
# The plays every run needs, whatever its --tags.
ALWAYS = ["validate.yml", "connect.yml", "bootstrap.yml", "file_integrity.yml"]


def load(name: str) -> list[dict]:
    return yaml.safe_load((PLAYBOOKS / name).read_text(encoding="utf-8"))


def plays(name: str) -> list[dict]:
    """The plays written in one playbook (not those it imports)."""
    return [entry for entry in load(name) if "hosts" in entry]


def tasks_of(play: dict):
    for section in ("pre_tasks", "tasks", "post_tasks", "handlers"):
        yield from play.get(section) or []


def test_every_playbook_is_covered():
    assert {path.name for path in PLAYBOOKS.glob("*.yml")} == set(JOBS) | set(ALWAYS) | {"site.yml"}


@pytest.mark.parametrize("name", sorted(path.name for path in PLAYBOOKS.glob("*.yml")))
def test_every_role_carries_role_and_skip_tags(name):
    for play in plays(name):
        for role in play.get("roles") or []:
            role_name = role["role"] if isinstance(role, dict) else role
            tags = role.get("tags", []) if isinstance(role, dict) else []
            assert (ROOT / "roles" / role_name).is_dir(), role_name
            assert f"role::{role_name}" in tags and f"skip::{role_name}" in tags, f"{name}: {play['name']}: {role_name} {tags}"
        # A role included by a task: tagged, and the tags applied to its tasks too (an include's own
        # tags are not inherited by what it includes).
        for task in tasks_of(play):
            include = task.get("ansible.builtin.include_role")
            if include:
                tags = task.get("tags", [])
                assert any(tag.startswith("role::") for tag in tags), task["name"]
                assert include.get("apply", {}).get("tags") == tags, task["name"]


def test_role_tags_existing_before_are_kept():
    """The tags the README named before role:: (and technicians may have in their notes)."""
    def role_tags(name):
        return {role["role"]: set(role["tags"]) for play in plays(name) for role in play.get("roles") or []}
    workstations = role_tags("workstations.yml")
    assert "workstation_care" in workstations["workstation_care"]
    assert "kernel_modules" in workstations["kernel_modules"]
    assert "kernel_modules" in role_tags("server_base.yml")["kernel_modules"]
    for component in ("cms_browser", "office_printing", "scanning"):
        assert "workstation_profile" in workstations[component]
    connect_tags = [tag for task in tasks_of(plays("connect.yml")[0]) for tag in task.get("tags", [])]
    assert "connect_probe" in connect_tags
    assert "file_integrity" in plays("file_integrity.yml")[0]["tags"]


@pytest.mark.parametrize("name", sorted(JOBS))
def test_job_plays_carry_play_and_skip_tags(name):
    job = JOBS[name]
    for play in plays(name):
        assert {f"play::{job}", f"skip::{job}"} <= set(play.get("tags", [])), f"{name}: {play['name']}"
    # The bootstrap a job imports is its own: `--skip-tags skip::workstations` skips the workstations' too.
    for entry in load(name):
        if entry.get("ansible.builtin.import_playbook") == "bootstrap.yml":
            assert {f"play::{job}", f"skip::{job}"} <= set(entry.get("tags", [])), name


@pytest.mark.parametrize("name", ALWAYS)
def test_validation_connection_and_file_integrity_always_run(name):
    for play in plays(name):
        assert "always" in play.get("tags", []), f"{name}: {play['name']}"
    if name == "file_integrity.yml":
        assert "skip::file_integrity" in plays(name)[0]["tags"]


def test_pre_tasks_run_with_their_plays_roles():
    """What the roles of a play depend on (the lab CA, the profile check) runs whenever they do."""
    for name in JOBS:
        for play in plays(name):
            role_tags = {f"role::{role['role']}" for role in play.get("roles") or []}
            for task in play.get("pre_tasks") or []:
                tags = set(task.get("tags", []))
                assert "always" in tags or role_tags <= tags, f"{name}: {task['name']}"


def list_tasks(*args: str) -> str:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    result = subprocess.run([str(BIN / "ansible-playbook"), "--list-tasks", *args, "playbooks/site.yml"],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=180, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def task_names(listing: str) -> list[str]:
    """Each listed task's name, its tags cut off."""
    return [re.sub(r"\tTAGS: \[.*\]$", "", line).strip() for line in listing.splitlines() if "\tTAGS: [" in line
            and not line.lstrip().startswith("play #")]


def work_of(names: list[str], *roles: str) -> list[str]:
    """The listed tasks of these roles, but Ansible's own argument check of each role, which it tags
    always (it reads variables and changes nothing)."""
    return [name for name in names if name.startswith(tuple(f"{role} :" for role in roles))
            and "Validating arguments against arg spec" not in name]


def test_one_role_still_validates_and_connects():
    """`--tags role::ssh_server`: SSH only, after the validation and the connection (--list-tasks
    reads the inventory and the playbooks; it connects to nothing)."""
    listing = list_tasks("--tags", "role::ssh_server")
    names = task_names(listing)
    assert "Validate every inventory source of this run" in names
    assert "Try the automation account" in names
    assert "Reach the host as the automation account" in names
    assert "ssh_server : Write sshd_config (validated before it replaces the live one)" in names
    assert "Refuse a profile the province does not define" in names
    assert "file_integrity : Make the baseline, or accept what changed since the last one" in names
    assert not work_of(names, "workstation_care", "firewall", "base", "cms_browser", "staff_accounts")
    assert "Push the intended config" not in names


def test_everything_but_one_job_or_one_role():
    listing = list_tasks("--skip-tags", "skip::workstations,skip::file_integrity")
    names = task_names(listing)
    assert "Validate every inventory source of this run" in names
    assert "ssh_server : Write sshd_config (validated before it replaces the live one)" in names
    assert "Push the intended config" in names
    assert "Refuse a profile the province does not define" not in names
    assert not [name for name in names if name.startswith(("workstation_care :", "cms_browser :", "file_integrity :"))]

    names = task_names(list_tasks("--skip-tags", "skip::workstation_care"))
    assert not [name for name in names if name.startswith("workstation_care :")]
    assert work_of(names, "cms_browser", "ssh_server", "file_integrity")


def test_readme_lists_every_role_tag_in_english_and_persian():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    persian = readme[readme.index("## راهنمای سریع"):]
    english = readme[readme.index("## Tags"):readme.index("## راهنمای سریع")]
    roles = {role["role"] for path in PLAYBOOKS.glob("*.yml") for play in plays(path.name) for role in play.get("roles") or []}
    jobs = set(JOBS.values()) | {"file_integrity"}
    for text in (english, persian):
        for role in roles:
            assert f"`role::{role}`, `skip::{role}`" in text, role
        for job in jobs:
            assert f"`play::{job}`, `skip::{job}`" in text, job

"""packages_to_install: which of a role's packages a run still hands to apt (unitctl.packages)."""

from __future__ import annotations

import pytest

from unitctl.packages import packages_to_install

# As connect.yml reads them: "name:architecture" of each package whose dpkg status is "installed".
INSTALLED = ["chrony:amd64", "libc6:amd64", "firefox-esr:amd64", "tzdata:all"]


def test_nothing_to_install_when_all_are_there():
    assert packages_to_install(["chrony", "libc6"], INSTALLED, True) == []


def test_the_missing_ones_in_their_order():
    assert packages_to_install(["samba", "chrony", "acl"], INSTALLED, True) == ["samba", "acl"]


def test_one_name_as_a_string():
    assert packages_to_install("chrony", INSTALLED, True) == []
    assert packages_to_install("aide", INSTALLED, True) == ["aide"]


def test_a_list_not_read_this_run_is_not_trusted():
    # A list not read this run, or one a role's removal made stale: every name goes to apt.
    assert packages_to_install(["chrony", "libc6"], INSTALLED, False) == ["chrony", "libc6"]


@pytest.mark.parametrize("facts", [None, []])
def test_no_list_at_all_hands_every_name_to_apt(facts):
    assert packages_to_install(["chrony"], facts, True) == ["chrony"]


def test_an_architecture_counts():
    assert packages_to_install(["libc6:amd64"], INSTALLED, True) == []
    assert packages_to_install(["libc6:i386"], INSTALLED, True) == ["libc6:i386"]


@pytest.mark.parametrize("name", ["firefox-esr=128*", "firefox-esr/bookworm-backports", "firefox-esr*",
                                  "./firefox-esr_128.deb"])
def test_only_apt_judges_a_version_a_release_a_pattern_or_a_file(name):
    assert packages_to_install([name], INSTALLED, True) == [name]


def test_a_name_that_is_not_a_string_is_refused():
    with pytest.raises(TypeError, match="must be a string"):
        packages_to_install(["chrony", None], INSTALLED, True)


def _tasks(node):
    """Every task in a tasks file, blocks opened."""
    for task in node or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key))


def _install_tasks():
    import yaml

    from unitctl.paths import PROJECT_ROOT
    for path in sorted((PROJECT_ROOT / "roles").glob("*/tasks/*.yml")):
        for task in _tasks(yaml.safe_load(path.read_text(encoding="utf-8"))):
            apt = task.get("ansible.builtin.apt")
            if isinstance(apt, dict) and apt.get("name") and apt.get("state", "present") == "present":
                yield f"{path.relative_to(PROJECT_ROOT)}: {task['name']}", task


# Install tasks that skip by a look of their own at the host, taken before they run.
OWN_LOOK = {
    "roles/firewall/tasks/service_prepare.yml: Install nftables": "not firewall_nft.stat.exists",
    "roles/kernel_modules/tasks/main.yml: Install kmod (modprobe)": "'modprobe' not in kernel_modules_host.stdout_lines",
}


def test_every_role_installs_only_what_the_run_found_missing():
    """A role whose install task asks apt every time costs every rerun an opening of apt's cache."""
    tasks = dict(_install_tasks())
    assert len(tasks) >= 20, "the roles' install tasks were not found"
    asking = [name for name, task in tasks.items() if "packages_to_install(" not in str(task.get("when", ""))
              and OWN_LOOK.get(name) != task.get("when")]
    assert not asking, "install tasks that do not skip what is installed:\n" + "\n".join(asking)

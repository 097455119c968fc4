"""A tiny compliance suite's conftest for the tests of `unitctl check`/`evaluate`'s progress lines
(test_compliance_progress.py, test_messages.py): it does what tests/compliance/conftest.py does for
the progress, a `compliance` user property per check and host (pass, fail, not applicable), and
compliance_progress.register under --progress."""

from __future__ import annotations

CONFTEST = '''
import pytest

from unitctl import compliance_progress

HOSTS = {hosts!r}


def pytest_addoption(parser):
    for option in ("--inventory", "--compliance-json"):
        parser.addoption(option)
    parser.addoption("--unit", action="append", default=[])
    parser.addoption("--progress", action="store_true")


def target_of(item):
    host = item.callspec.params.get("host") if hasattr(item, "callspec") else None
    return (HOSTS[host], host) if host else None


def pytest_configure(config):
    if config.option.progress:
        compliance_progress.register(config, target_of)


def pytest_generate_tests(metafunc):
    if "host" in metafunc.fixturenames:
        metafunc.parametrize("host", list(HOSTS), ids=[f"paramiko://{host}" for host in HOSTS])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    target = target_of(item)
    if target and (report.when == "call" or (report.when == "setup" and not report.passed)):
        outcome = "pass" if report.passed else "not_applicable" if report.skipped else "fail"
        report.user_properties.append(("compliance", {"unit_id": target[0], "host": target[1], "outcome": outcome}))
'''


def conftest_text(hosts: dict[str, str]) -> str:
    """The conftest.py text for a suite run on `hosts` ({host: unit id}), each parametrised as
    paramiko://HOST, as testinfra names them."""
    return CONFTEST.replace("{hosts!r}", repr(hosts))

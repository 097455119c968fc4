"""The province policy schema: well formed, covering every policy key the toolkit reads, and its
reference page (inventory/POLICY.md) up to date."""

from __future__ import annotations

import re
import subprocess
import sys

from unitctl.paths import PROJECT_ROOT
from unitctl.inventory.policy_schema import check_policy_file, load_schema

# Files where the toolkit reads province policy: plays, their group_vars, device templates and
# the compliance suite. `province_trust` is a role, not a key.
READERS = ["playbooks", "templates", "tests/compliance", "inventory/group_vars"]
NOT_KEYS = re.compile(r"^province_trust(_\w+)?$")
POLICY_NAME = re.compile(r"\b(province_[a-z0-9_]+)\b")
QUOTED_POLICY_NAME = re.compile(r"[\"'](province_[a-z0-9_]+)[\"']")  # in Python: policy["province_..."]


def test_every_policy_key_the_toolkit_reads_is_declared():
    schema = load_schema()
    read = set()
    for folder in READERS:
        for path in (PROJECT_ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in (".yml", ".j2", ".py"):
                pattern = QUOTED_POLICY_NAME if path.suffix == ".py" else POLICY_NAME
                read |= set(pattern.findall(path.read_text(encoding="utf-8")))
    undeclared = {name for name in read if not NOT_KEYS.match(name)} - set(schema.keys) - schema.derived
    assert not undeclared, f"read but not declared in inventory/policy-schema.yml: {sorted(undeclared)}"


def test_keys_read_with_a_default_are_declared_optional():
    schema = load_schema()
    for name in ("province_ntp_upstream", "province_dns_upstream", "province_management_sources"):
        assert schema.keys[name].required is False


def test_a_templated_value_is_accepted_whatever_the_type():
    assert check_policy_file("all", {"province_ssh_port": "{{ vault_port }}"}) == []
    assert check_policy_file("all", {"province_ssh_port": True}) == [
        ("province_ssh_port", "should be a port number (1-65535), but it is bool (True)")]


def test_a_number_below_its_declared_minimum_is_refused():
    assert check_policy_file("all", {"province_security_updates_max_pending_days": 7}) == []
    assert check_policy_file("all", {"province_security_updates_max_pending_days": 0}) == [
        ("province_security_updates_max_pending_days", "should be at least 1, but it is 0")]


def test_the_policy_reference_page_is_generated_from_the_schema():
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "policy_docs.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr

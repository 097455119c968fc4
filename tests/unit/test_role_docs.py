"""Role docs from one source: each role's README table is generated from its argument specs, and
the specs' defaults are the role's defaults/main.yml, key for key."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from unitctl.paths import PROJECT_ROOT

ROLES = sorted(p for p in (PROJECT_ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())


def test_every_readme_table_is_generated_from_the_specs():
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "role_docs.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("role", ROLES, ids=[role.name for role in ROLES])
def test_specs_and_defaults_agree(role):
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    options = specs["argument_specs"]["main"].get("options", {})
    defaults_file = role / "defaults" / "main.yml"
    defaults = (yaml.safe_load(defaults_file.read_text(encoding="utf-8")) if defaults_file.exists() else None) or {}
    assert not set(defaults) - set(options), "in defaults/main.yml but not in the specs"
    for name, spec in options.items():
        if spec.get("required"):
            assert name not in defaults, f"{name} is required, so defaults/main.yml must not set it"
        elif "default" in spec:
            assert name in defaults, f"{name} has a default in the specs but not in defaults/main.yml"
            assert defaults[name] == spec["default"], f"{name}: specs {spec['default']!r}, defaults {defaults[name]!r}"
        else:
            assert name not in defaults, f"{name} is set in defaults/main.yml: the specs must give that default"

"""Province policy as the compliance suite and reports see it (outside Ansible).

Reads inventory/group_vars/all/ (and group_vars/lab/ for the lab) in Ansible's order, and renders
the few templated values, which refer only to other policy values and to `province_centre`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import yaml

from unitctl.inventory.groups import province_groups
from unitctl.inventory.load import Province


def load_policy(inventory_root: Path, province: Province, lab: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = dict(province_groups(province, lab=lab).groups["all"])
    for group in ["all"] + (["lab"] if lab else []):
        for path in sorted((inventory_root / "group_vars" / group).glob("*.yml")):
            if path.read_bytes().startswith(b"$ANSIBLE_VAULT"):
                continue  # secrets are not policy
            values.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    environment.globals["lookup"] = lambda *args, **kwargs: ""  # env lookups are Ansible's business

    def render(value: Any) -> Any:
        if isinstance(value, str) and "{{" in value:
            try:
                return environment.from_string(value).render(values)
            except jinja2.UndefinedError:  # refers to a secret (vault) or to a host's facts: not policy
                return value
        if isinstance(value, list):
            return [render(item) for item in value]
        if isinstance(value, dict):
            return {key: render(item) for key, item in value.items()}
        return value

    return {key: render(value) for key, value in values.items()}

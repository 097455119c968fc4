#!/usr/bin/env python3
"""Write each role README's variable table and example play from its meta/argument_specs.yml.

    python scripts/role_docs.py            # rewrite the generated part of every roles/*/README.md
    python scripts/role_docs.py --check    # exit 1 naming each README that is out of date

The generated part sits between the two marker lines below; the rest of a README is written by
hand. tests/unit/test_role_docs.py runs the check and also compares each spec's defaults with
the role's defaults/main.yml, so the three never disagree.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROLES = Path(__file__).resolve().parents[1] / "roles"
BEGIN = "<!-- variables: generated from meta/argument_specs.yml by scripts/role_docs.py; do not edit -->"
END = "<!-- end of generated variables -->"
LONG_DEFAULT = 40  # characters: a longer default is pointed to, not printed


def options(role: Path) -> dict[str, dict]:
    """The `main` entry point's options of a role's argument specs (name -> spec)."""
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return specs["argument_specs"]["main"].get("options", {})


def _type(spec: dict) -> str:
    kind = spec.get("type", "str")
    return f"{kind} of {spec['elements']}" if kind == "list" and "elements" in spec else kind


def _default(spec: dict) -> str:
    if spec.get("required"):
        return "**required**"
    if "default" not in spec:
        return "(none)"
    text = json.dumps(spec["default"], ensure_ascii=False)
    return "see `defaults/main.yml`" if len(text) > LONG_DEFAULT else f"`{text}`"


def _description(spec: dict) -> str:
    text = spec.get("description", "")
    text = " ".join(text) if isinstance(text, list) else str(text)
    choices = f" One of: {', '.join(f'`{c}`' for c in spec['choices'])}." if spec.get("choices") else ""
    return (" ".join(text.split()) + choices).replace("|", "\\|")


def _placeholder(spec: dict) -> object:
    kind = spec.get("type", "str")
    if "choices" in spec:
        return spec["choices"][0]
    return {"list": [], "dict": {}, "int": 0, "bool": True}.get(kind, f"<{kind}>")


def generated(role: Path) -> str:
    opts = options(role)
    lines = [BEGIN, "", "| variable | type | default | meaning |", "| --- | --- | --- | --- |"]
    lines += [f"| `{name}` | {_type(spec)} | {_default(spec)} | {_description(spec)} |"
              for name, spec in opts.items()]
    required = {name: _placeholder(spec) for name, spec in opts.items() if spec.get("required")}
    play = [{"name": f"Example: the {role.name} role", "hosts": "all", "become": True,
             "roles": [{"role": role.name, **({"vars": required} if required else {})}]}]
    lines += ["", "A minimal play (the required inputs; the project's playbooks show real values):", "",
              "```yaml", yaml.safe_dump(play, sort_keys=False, allow_unicode=True).rstrip(), "```", "", END]
    return "\n".join(lines)


def updated_readme(role: Path) -> str:
    """The README with its generated part replaced (or, the first time, the hand-written
    variable table replaced by it)."""
    text = (role / "README.md").read_text(encoding="utf-8")
    block = generated(role)
    if BEGIN in text:
        before, rest = text.split(BEGIN, 1)
        return before + block + rest.split(END, 1)[1]
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("| variable"))
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "\n".join(lines[:start] + block.split("\n") + lines[end:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say which READMEs are out of date")
    args = parser.parse_args()
    stale = []
    for role in sorted(p for p in ROLES.iterdir() if (p / "meta" / "argument_specs.yml").exists()):
        text = updated_readme(role)
        if text != (role / "README.md").read_text(encoding="utf-8"):
            stale.append(role.name)
            if not args.check:
                (role / "README.md").write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}; run python scripts/role_docs.py", file=sys.stderr)
        return 1
    if not args.check:
        print(f"rewrote {len(stale)} README(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

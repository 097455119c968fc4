#!/usr/bin/env python3
"""Write inventory/POLICY.md, the province policy reference, from inventory/policy-schema.yml.

    python scripts/policy_docs.py           # rewrite the page
    python scripts/policy_docs.py --check   # exit 1 when the page is out of date

tests/unit/test_policy_schema.py runs the check, so the page and the schema never disagree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from unitctl import paths  # noqa: E402
from unitctl.inventory.policy_schema import TYPE_WORDS, WHERE_GROUPS, describe, load_schema  # noqa: E402

PAGE = paths.INVENTORY_DIR / "POLICY.md"


def render() -> str:
    schema = load_schema()
    lines = [
        "# Province policy reference",
        "",
        "Generated from `inventory/policy-schema.yml` by `scripts/policy_docs.py`; edit the schema, "
        "not this page. `unitctl validate` refuses any key not listed here, a value of the wrong "
        "type or outside *allowed*, and a key set outside the folder named in *set in*.",
        "",
        "| key | type | allowed | set in | required | meaning |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key in schema.keys.values():
        where = ", ".join(f"group_vars/{group}" for group in WHERE_GROUPS[key.where])
        lines.append(f"| `{key.name}` | {TYPE_WORDS[key.type]} | {describe(key)} | {where} | "
                     f"{'yes' if key.required else 'no'} | {key.meaning} |")
    lines += ["", "Computed by the inventory plugin from the unit folders (`scripts/unitctl/derived.py`), "
                  "never set in a file: " + ", ".join(f"`{name}`" for name in sorted(schema.derived)) + ".", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the page is up to date")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
        if current != text:
            print(f"{PAGE} is out of date: run python scripts/policy_docs.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

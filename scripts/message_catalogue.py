#!/usr/bin/env python3
"""Keep unitctl's message catalogues in step with the code (Babel).

    python scripts/message_catalogue.py           # extract the template, merge it into each language
    python scripts/message_catalogue.py --check   # exit 1 when the template is stale or a translation lacks

The template `scripts/unitctl/locale/unitctl.pot` holds every message of the code (`_()`, `N_()`,
`ngettext()`; see unitctl.i18n), with the files it comes from. Each language's
`locale/LANG/LC_MESSAGES/unitctl.po` is merged from it: a new message arrives untranslated (or
fuzzy, with the translation of a similar old one to review), a message gone from the code is
dropped. Translate in the .po, then run the check: every message translated, none fuzzy, the same
placeholders ({unit}, %(prog)s) as the English. tests/unit/test_messages.py runs the check.
Compiling is unitctl's own business at run time (unitctl.i18n.compiled_catalogues).
"""

from __future__ import annotations

import argparse
import io
import re
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).resolve().parent))

from unitctl import i18n  # noqa: E402

PACKAGE_DIR = Path(i18n.__file__).resolve().parent
TEMPLATE = i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
# Written without line numbers, so that the files change only when messages do.
WRITE_OPTIONS = {"width": 100, "include_lineno": False, "sort_by_file": True}
# A %-field of argparse's messages (%(prog)s, %s, %(value)r). printf's space flag is left out: in
# unitctl's own messages "% relative humidity" is a percent sign and a word, not the field "% r".
PERCENT_FIELD = re.compile(r"%(?:\(\w+\))?[#0\-+]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def extract() -> Catalog:
    """Every message of the unitctl package, as a fresh template (no creation date of its own)."""
    template = Catalog(project="unitctl", version="", domain=i18n.DOMAIN, charset="utf-8", fuzzy=False,
                       msgid_bugs_address="", last_translator="", language_team="",
                       header_comment="# The messages of unitctl, extracted by scripts/message_catalogue.py.\n"
                                      "# Do not translate here: each language has its .po under LANG/LC_MESSAGES/.")
    for path, line, message, comments, context in extract_from_dir(
            PACKAGE_DIR, method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("Translators:",),
            strip_comment_tags=True):
        where = (Path(PACKAGE_DIR.name) / path).as_posix()
        template.add(message, None, [(where, line)], auto_comments=comments, context=context)
    return template


def render(catalog: Catalog) -> str:
    stream = io.BytesIO()
    write_po(stream, catalog, ignore_obsolete=True, **WRITE_OPTIONS)
    return stream.getvalue().decode("utf-8")


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as stream:
        return read_po(stream, locale=locale, abort_invalid=True)


def template_text() -> str:
    """The template as it should be; the creation date of the one on disk is kept (it changes
    nothing a translator needs, and would make every run a change)."""
    fresh = extract()
    if TEMPLATE.exists():
        fresh.creation_date = read(TEMPLATE).creation_date
    return render(fresh)


def placeholders(text: str) -> list[str]:
    """The placeholders of a message as a translation must keep them, sorted: each named {field}
    once, and every %-field (argparse's messages). Raises ValueError for unbalanced braces."""
    fields = {field for _text, field, _spec, _conversion in string.Formatter().parse(text) if field is not None}
    return sorted(f"{{{field}}}" for field in fields) + sorted(PERCENT_FIELD.findall(text))


def translation_problems(template: Catalog, translated: Catalog) -> list[str]:
    """What keeps a language's catalogue from being complete: each message of the template that is
    missing, empty, fuzzy, or whose placeholders differ from the English; [] when complete."""
    problems = []
    for message in template:
        if not message.id:
            continue
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        shown = english[0]
        found = translated.get(message.id)
        if found is None:
            problems.append(f"missing: {shown!r}")
            continue
        strings = found.string if isinstance(found.string, tuple) else (found.string,)
        if found.fuzzy:
            problems.append(f"fuzzy (review it, then remove the fuzzy flag): {shown!r}")
        if not all(strings):
            problems.append(f"not translated: {shown!r}")
            continue
        try:
            wanted = placeholders(english[-1])
            for text in strings:
                if placeholders(text) != wanted:
                    problems.append(f"placeholders differ from the English ({' '.join(wanted)}): {shown!r} -> "
                                    f"{text!r}")
        except ValueError as error:
            problems.append(f"unbalanced braces ({error}): {shown!r}")
    return problems


def check() -> list[str]:
    """Every reason the catalogues are not in step with the code; [] when they are."""
    problems = []
    current = TEMPLATE.read_text(encoding="utf-8") if TEMPLATE.exists() else ""
    if current != template_text():
        problems.append(f"{TEMPLATE} is out of date with the code: run python scripts/message_catalogue.py")
    template = extract()
    for language, po in i18n.catalogue_sources().items():
        problems += [f"{po}: {problem}" for problem in translation_problems(template, read(po, language))]
    return problems


def update() -> None:
    """Write the template and merge it into every language's .po."""
    TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
    TEMPLATE.write_text(template_text(), encoding="utf-8")
    print(f"wrote {TEMPLATE}")
    template = read(TEMPLATE)
    for language, po in i18n.catalogue_sources().items():
        translated = read(po, language)
        translated.update(template)
        po.write_text(render(translated), encoding="utf-8")
        left = translation_problems(template, translated)
        print(f"merged {po}" + (f": {len(left)} to translate or review" if left else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the catalogues are in step")
    args = parser.parse_args()
    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main())

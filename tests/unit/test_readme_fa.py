"""The README's Persian quick start: the technician's steps of the English sections, rendered
right to left as a code host renders it.

The README is rendered with markdown-it-py (CommonMark, raw HTML and tables on, as GitHub's
cmark-gfm reads them): the Persian section must sit in a `<div dir="rtl">` with its steps as real
lists, every code block in a `<div dir="ltr">`, and every command of the English technician
sections must appear in the Persian one too.
"""

from __future__ import annotations

import re
import shlex

import lxml.html
import pytest
from markdown_it import MarkdownIt

from unitctl.paths import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
PERSIAN_TITLE = "راهنمای سریع برای کارشناسان واحد"
# The English sections a unit technician works from, and where only part of a section is theirs,
# the bullet that is (the rest of "Staff, access and audit" is the centre's: ARA, the collector).
TECHNICIAN_SECTIONS = {
    "The two commands": None,
    "For a unit technician": None,
    "Tags: one role, one job, or everything but one": None,
    "Staff, access and audit": "- **Appointments**",
}
PROGRAMS = {"unitctl", "ansible-playbook", "pytest", "source", "eval"}
PROGRAM_PREFIXES = ("./scripts/", ".venv/bin/")
# Words that stand for a value in a usage line (ID, FILE, [UNIT], ...): any value matches them.
PLACEHOLDER = re.compile(r"^(\[.*\]|\.\.\.|[A-Z][A-Z_]*)$")
# Short options that unitctl and ansible-playbook both take as aliases of the long ones.
ALIASES = {"-i": "--inventory", "-l": "--limit"}
PERSIAN_LETTER = re.compile(r"[\u0600-\u06FF]")
FAKE_LIST_ITEM = re.compile(r"^\s*[0-9۰-۹]+[.)]\s")


def sections(text: str) -> dict[str, str]:
    """`## ` heading -> the text under it, up to the next `## ` heading (headings in fenced code
    are not headings)."""
    found, title, lines, fenced = {}, None, [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            if title is not None:
                found[title] = "\n".join(lines)
            title, lines = line[3:].strip(), []
        elif title is not None:
            lines.append(line)
    if title is not None:
        found[title] = "\n".join(lines)
    return found


def bullet(text: str, start: str) -> str:
    """The list item of `text` that begins with `start`, with its continuation lines."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    end = next((i for i in range(first + 1, len(lines)) if not lines[i].startswith(" ")), len(lines))
    return "\n".join(lines[first:end])


def commands(markdown: str) -> list[str]:
    """Every command shown in `markdown`: each line of its fenced code blocks (without comments)
    and each inline code span, that starts with one of the toolkit's programs."""
    found, fenced, prose = [], False, []
    for line in markdown.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            text = re.sub(r"\s+#.*$", "", stripped)
            if text and not text.startswith("#"):
                found.append(text)
        else:
            prose.append(line)
    found += [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", "\n".join(prose))]
    # A program named alone (`unitctl`) is a mention, not a command.
    return [text for text in found if text.startswith(PROGRAM_PREFIXES)
            or (text.split()[0] in PROGRAMS and len(text.split()) > 1)]


def words(command: str) -> list[str]:
    """The command's words as the shell splits them, short option aliases spelt long."""
    try:
        split = shlex.split(command)
    except ValueError:
        split = command.split()
    return [ALIASES.get(word, word) for word in split]


def covered(english: str, persian: list[str]) -> bool:
    """Whether some Persian command holds every word of the English one (placeholders aside;
    order aside, so an option added on either side, such as --inventory, does not matter)."""
    needed = [word for word in words(english) if not PLACEHOLDER.match(word)]
    return any(not [word for word in needed if word not in words(other)] for other in persian)


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rendered(readme):
    """The README as HTML (lxml tree) and the `<div dir="rtl">` holding the Persian quick start."""
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(readme)
    tree = lxml.html.fromstring(f"<html><body>{html}</body></html>")
    heading = next(h for h in tree.iter("h2") if h.text_content().strip() == PERSIAN_TITLE)
    return tree, heading


def test_every_english_technician_command_is_in_the_persian_quick_start(readme):
    found = sections(readme)
    persian = commands(found[PERSIAN_TITLE])
    english = []
    for title, part in TECHNICIAN_SECTIONS.items():
        text = found[title] if part is None else bullet(found[title], part)
        english += commands(text)
    assert len(english) >= 15, f"too few English commands found, the extraction is broken: {english}"
    missing = [command for command in english if not covered(command, persian)]
    assert not missing, f"in the English technician sections but not in the Persian quick start: {missing}"


def test_the_persian_quick_start_is_one_right_to_left_block(rendered):
    tree, heading = rendered
    block = heading.getparent()
    assert block.tag == "div" and block.get("dir") == "rtl", "the heading is not inside <div dir=\"rtl\">"
    following = block.getnext()
    assert following is None or following.tag == "h2", "some of the section is outside the rtl block"
    text = block.text_content()
    assert len(PERSIAN_LETTER.findall(text)) > 1000, "the section is not written in Persian"


def test_the_steps_render_as_lists_and_the_commands_left_to_right(rendered):
    tree, heading = rendered
    block = heading.getparent()
    items = block.xpath(".//ol/li")
    assert len(items) >= 15, f"only {len(items)} numbered steps render as list items"
    for paragraph in block.xpath(".//p"):
        assert not FAKE_LIST_ITEM.match(paragraph.text_content()), (
            f"a step that renders as a paragraph, not a list item: {paragraph.text_content()[:60]!r}")
    blocks = block.xpath(".//pre")
    assert len(blocks) >= 15
    for pre in blocks:
        nearest = next(a for a in pre.iterancestors() if a.tag == "div")
        assert nearest.get("dir") == "ltr", f"a code block that renders right to left: {pre.text_content()[:60]!r}"
    assert block.xpath(".//table"), "the tag tables are missing"


def test_inline_code_that_bidi_would_reorder_is_isolated(rendered):
    # In right-to-left text a span such as `--strict` or `/var/cache` shows as `strict--`,
    # `var/cache/`: <span dir="ltr"> isolates it (the HTML user agent style gives [dir] isolation).
    tree, heading = rendered
    for code in heading.getparent().xpath(".//code[not(ancestor::pre)]"):
        text = code.text_content().strip()
        if not (text[:1].isalnum() and text[-1:].isalnum()):
            assert any(a.tag == "span" and a.get("dir") == "ltr" for a in code.iterancestors()), (
                f"`{text}` is not isolated with <span dir=\"ltr\">")

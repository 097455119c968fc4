"""Every role README keeps its English and ends with a Persian summary of what the role promises.

Each README is rendered with markdown-it-py (CommonMark with raw HTML and tables, as a code host
renders it): the `## خلاصه به فارسی` heading and its text must sit in a `<div dir="rtl">`, be
written in Persian, list the promises as a real list, and name every compliance check the
English "what the checks prove" table lists.
"""

from __future__ import annotations

import re

import lxml.html
import pytest
from markdown_it import MarkdownIt

from unitctl.paths import PROJECT_ROOT

ROLES = sorted(path for path in (PROJECT_ROOT / "roles").iterdir() if path.is_dir())
TITLE = "خلاصه به فارسی"
PERSIAN_LETTER = re.compile(r"[\u0600-\u06FF]")
CHECK_ID = re.compile(r"\b[A-Z]+-\d{3}\b")
# The first cell of a table row, in a table whose header names checks ("| check |", "| proof |").
TABLE_HEADER = re.compile(r"^\|\s*(check|proof)\s*\|", re.I)


def render(markdown: str):
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    return lxml.html.fromstring(f"<html><body>{html}</body></html>")


def english_check_ids(readme: str) -> set[str]:
    """The check ids in the first column of the README's check tables (before the Persian part)."""
    english = readme.split(f"## {TITLE}")[0]
    ids, in_table = set(), False
    for line in english.splitlines():
        if TABLE_HEADER.match(line):
            in_table = True
        elif in_table and line.startswith("|"):
            ids |= set(CHECK_ID.findall(line.split("|")[1]))
        else:
            in_table = False
    return ids


@pytest.fixture(params=ROLES, ids=[role.name for role in ROLES])
def role(request):
    return request.param


def persian_block(role):
    """The rendered <div dir="rtl"> holding the role README's Persian summary, and its text."""
    tree = render((role / "README.md").read_text(encoding="utf-8"))
    headings = [h for h in tree.iter("h2") if h.text_content().strip() == TITLE]
    assert len(headings) == 1, f"{role.name}: {len(headings)} '## {TITLE}' headings"
    block = headings[0].getparent()
    assert block.tag == "div" and block.get("dir") == "rtl", f"{role.name}: the summary is not inside <div dir=\"rtl\">"
    return block


def test_every_role_has_a_readme_with_english_and_a_persian_summary(role):
    readme = (role / "README.md").read_text(encoding="utf-8")
    english = readme.split(f"## {TITLE}")[0]
    assert english.startswith(f"# {role.name}\n"), "the README starts with the role's English title"
    assert len(english.split()) > 50, "the English README is kept"
    block = persian_block(role)
    summary = block.text_content().replace(TITLE, "", 1)
    assert len(PERSIAN_LETTER.findall(summary)) >= 120, "the summary is too short or not in Persian"
    assert len(block.xpath(".//ul/li")) >= 2, "the promises are not a list"
    assert block.getnext() is None or block.getnext().tag == "h2", "text after the rtl block continues the summary"


def test_the_summary_names_every_check_of_the_english_tables(role):
    readme = (role / "README.md").read_text(encoding="utf-8")
    summary = persian_block(role).text_content()
    missing = english_check_ids(readme) - set(CHECK_ID.findall(summary))
    assert not missing, f"checks in the English tables but not in the Persian summary: {sorted(missing)}"


def test_inline_code_that_bidi_would_reorder_is_isolated(role):
    # `/etc` or `--tags` in right-to-left text shows as `etc/`, `tags--`: <span dir="ltr"> isolates it.
    for code in persian_block(role).xpath(".//code[not(ancestor::pre)]"):
        text = code.text_content().strip()
        if not (text[:1].isalnum() and text[-1:].isalnum()):
            assert any(a.tag == "span" and a.get("dir") == "ltr" for a in code.iterancestors()), (
                f"`{text}` is not isolated with <span dir=\"ltr\">")


def test_the_english_check_ids_are_found_where_tables_list_them():
    # The extraction itself: a role whose README has a check table yields its ids.
    time_ids = english_check_ids((PROJECT_ROOT / "roles" / "time" / "README.md").read_text(encoding="utf-8"))
    assert {"TIME-001", "TIME-002", "TIME-003", "TIME-004", "WS-005"} == time_ids

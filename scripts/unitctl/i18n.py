"""The language of what unitctl tells a person: English in the code, other languages from gettext
catalogues, chosen by the locale.

Writing a message: English inside `_()` (`ngettext()` where English has a singular and a plural),
values as named placeholders filled by `.format()` after the translation, so that a translation may
put them in any order: `_("{unit} is not in {inventory}").format(unit=..., inventory=...)`. Text
defined before any language is known (a module constant) is marked with `N_()`, which changes
nothing, and translated with `_()` where it is used. Never an f-string inside `_()`: the
catalogue would not find it (tests/unit/test_messages.py refuses it).

Choosing the language: Python's gettext reads LANGUAGE, LC_ALL, LC_MESSAGES and LANG, the first
one that is set, from the environment alone, so `LANG=fa_IR.UTF-8 unitctl ...` speaks Persian even
on a machine where that locale was never generated. A message a catalogue lacks stays English; no
catalogue at all is English throughout.

Catalogues: the sources are `locale/LANG/LC_MESSAGES/unitctl.po` beside this module, translated
from the template `locale/unitctl.pot` that `scripts/message_catalogue.py` extracts from the code.
On first use after a `.po` changed, Babel compiles it into the user's cache (one folder per
content digest), so neither a fresh clone nor a `git pull` needs a build step.

Numbers (`number()`): a Persian message writes the numbers the toolkit states itself (counts,
limits, sizes) in Persian digits, as the council's report does (unitctl.report.evaluation.fa_number).
Values quoted from the technician's files or to be typed again (file names and lines, YAML paths,
addresses, VLAN ids, port names, dates, commands) stay exactly as written, Latin digits and all:
they are what the technician searches the file for. No bidi control characters are added: many
terminals draw them as boxes or nothing, and they would be copied along into a command line.
"""

from __future__ import annotations

import functools
import gettext
import hashlib
import locale
import os
import sys
from pathlib import Path

DOMAIN = "unitctl"
# locale/unitctl.pot (the template) and locale/LANG/LC_MESSAGES/unitctl.po (each language)
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

# How each language writes numbers, where not as English does: its digits, decimal and thousands
# separators and minus sign (Persian: U+066B, U+066C, U+2212; the report writes them so).
NUMERALS = {"fa": str.maketrans({**dict(zip("0123456789", "۰۱۲۳۴۵۶۷۸۹")), ".": "\u066b", ",": "\u066c",
                                 "-": "\u2212"})}


def N_(message: str) -> str:  # noqa: N802  (gettext's own name for the marker)
    """Marks `message` for the catalogue without translating it (module constants); `_()` it where
    it is shown."""
    return message


def _(message: str) -> str:
    """`message` in the language of the environment; the English itself when the catalogue lacks it."""
    return translations().gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a message for `count` things (English: singular for 1), in the environment's
    language. The caller fills `{count}` with number(count)."""
    return translations().ngettext(singular, plural, count)


def word(words: dict, key: object) -> str:
    """The entry `key` of a table of N_()-marked English words, in the environment's language;
    str(key) itself when the table lacks it."""
    english = words.get(key)
    return _(english) if english is not None else str(key)


def number(value: object) -> str:
    """A number the toolkit states (a count, a limit, a score such as 97.5, +1.2 or 100,000, given
    as a number or as English writes it) as the message's language writes it: in Persian its digits,
    separators and minus sign; str(value) in English. Never for values quoted from a file (see the
    module's docstring)."""
    text = str(value)
    numerals = NUMERALS.get(language())
    return text.translate(numerals) if numerals else text


def language() -> str:
    """The language of the catalogue in use ("fa"), or "en" when messages are in English."""
    return str(translations().info().get("language") or "en").split("_")[0]


@functools.cache
def translations() -> gettext.NullTranslations:
    """The catalogue of the language the environment asks for (read once per process; tests call
    translations.cache_clear() after changing the environment). English (NullTranslations) when
    no catalogue matches, or when the catalogues cannot be compiled: then one line on stderr says
    why, if a language that has a catalogue was asked for."""
    if not requested_catalogues():
        return gettext.NullTranslations()
    try:
        localedir = compiled_catalogues()
    except (OSError, RuntimeError, ImportError, ValueError) as error:  # RuntimeError: no home folder
        print(f"unitctl: messages stay in English: the message catalogues could not be compiled ({error})",
              file=sys.stderr)
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir, fallback=True)


def catalogue_sources(source: Path = LOCALE_DIR) -> dict[str, Path]:
    """The .po file of each language there is a catalogue for, by language code ("fa")."""
    return {po.parent.parent.name: po for po in sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))}


def requested_catalogues(environ: dict[str, str] | None = None) -> list[str]:
    """The languages with a catalogue among those the environment asks for, in its order. Only
    decides whether compiling is worth it: gettext itself then chooses, from the same variables."""
    environ = os.environ if environ is None else environ
    wanted = next((environ[name].split(":") for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
                   if environ.get(name)), [])
    codes = [locale.normalize(entry).split(".")[0].split("@")[0].split("_")[0] for entry in wanted if entry]
    available = catalogue_sources()
    return [code for code in dict.fromkeys(codes) if code in available]


def cache_dir() -> Path:
    """Where compiled catalogues go: $XDG_CACHE_HOME/unitctl/locale, else ~/.cache/unitctl/locale."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "unitctl" / "locale"


def compiled_catalogues(source: Path = LOCALE_DIR, cache: Path | None = None) -> Path:
    """The folder gettext reads (LANG/LC_MESSAGES/unitctl.mo), compiled from the .po sources with
    Babel when they changed since the last compile. Fuzzy entries are left out (English).

    Raises OSError when the cache cannot be written (RuntimeError: no home folder), ImportError
    without Babel, ValueError for a .po Babel cannot read."""
    sources = catalogue_sources(source)
    digest = hashlib.sha256()
    for code, po in sources.items():
        digest.update(code.encode() + b"\0" + po.read_bytes() + b"\0")
    target = (cache or cache_dir()) / digest.hexdigest()[:16]
    for code, po in sources.items():
        mo = target / code / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if not mo.exists():
            _compile(po, mo)
    return target


def _compile(po: Path, mo: Path) -> None:
    from babel.messages.mofile import write_mo  # noqa: PLC0415  (only when a catalogue changed)
    from babel.messages.pofile import read_po  # noqa: PLC0415

    with po.open("rb") as stream:
        catalog = read_po(stream, abort_invalid=True)
    mo.parent.mkdir(parents=True, exist_ok=True)
    partial = mo.with_name(f".{mo.name}.{os.getpid()}")
    with partial.open("wb") as stream:
        write_mo(stream, catalog, use_fuzzy=False)
    partial.replace(mo)  # whole or not at all: another unitctl may be reading it


# The locale every Debian 12 system has (glibc's built-in C.UTF-8), for programs that need one.
FALLBACK_LOCALE = "C.UTF-8"
LOCALE_CATEGORIES = ("LC_ALL", "LC_CTYPE", "LC_COLLATE", "LC_MESSAGES", "LC_MONETARY", "LC_NUMERIC", "LC_TIME",
                     "LANG")


def locale_exists(name: str) -> bool:
    """Whether the C library can use the locale `name` ("fa_IR.UTF-8"): only a generated locale can.
    The process's own locale is left as it was."""
    saved = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, name)
    except locale.Error:
        return False
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)
    return True


def usable_locale_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The variables to change so that programs that need a working locale run: `{}` when every
    locale the environment names is generated on this machine.

    gettext reads only the variables, so LANG=fa_IR.UTF-8 gives Persian messages where fa_IR was
    never generated; Ansible instead refuses to start ("could not initialize the preferred locale"),
    in ansible-playbook and wherever its CLI code is imported (unitctl net). Then the answer is
    LC_ALL=C.UTF-8, which Ansible accepts, and LANGUAGE set to the language asked for (unless it
    is set already), so that messages keep their language: gettext reads LANGUAGE first."""
    environ = os.environ if environ is None else environ
    named = {environ[name] for name in LOCALE_CATEGORIES if environ.get(name)}
    if all(locale_exists(name) for name in named) or not locale_exists(FALLBACK_LOCALE):
        return {}
    changes = {"LC_ALL": FALLBACK_LOCALE}
    if not environ.get("LANGUAGE"):
        wanted = next((environ[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(name)), "")
        if wanted:
            changes["LANGUAGE"] = wanted
    return changes


def translate_argparse() -> None:
    """argparse's own words (usage:, options, its errors) from unitctl's catalogue: argparse asks
    gettext's global domain, which this makes unitctl's. For the command's process only (main)."""
    localedir = None
    if requested_catalogues():
        try:
            localedir = compiled_catalogues()
        except (OSError, RuntimeError, ImportError, ValueError):
            return  # translations() has said why
    if localedir is not None:
        gettext.bindtextdomain(DOMAIN, str(localedir))
        gettext.textdomain(DOMAIN)

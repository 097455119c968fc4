"""unitctl speaks the language of the locale (unitctl.i18n): Persian with LANG=fa_IR.UTF-8, English
with C.UTF-8 or en_US.UTF-8 and for anything the catalogue lacks. The catalogues stay in step with
the code (scripts/message_catalogue.py). The commands run as a technician runs them, in a
subprocess; the fa_IR locale need not be generated on the machine (gettext reads the variables)."""

from __future__ import annotations

import ast
import gettext
import importlib.util
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from unitctl import compliance_progress, i18n
from unitctl.cli import evaluate, main
from unitctl.paths import PROJECT_ROOT

from fake_compliance_suite import conftest_text
from fixture_province import copy_fixture_province

SCRIPTS = PROJECT_ROOT / "scripts"
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def load_catalogue_script():
    spec = importlib.util.spec_from_file_location("message_catalogue", SCRIPTS / "message_catalogue.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


catalogue = load_catalogue_script()


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """One compiled-catalogue cache for the module's runs (the first run compiles, the others reuse)."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture
def broken(tmp_path) -> Path:
    """The fixture province with three problems in court's hosts.yml; returns the folder above it."""
    root = copy_fixture_province(tmp_path / "inventory")
    hosts = root / "units" / "court" / "hosts.yml"
    hosts.write_text(hosts.read_text(encoding="utf-8").replace("vlan: 10", "vlan: 40")
                     .replace("10.99.18.20", "10.99.18.300"), encoding="utf-8")
    return tmp_path


def unitctl(cwd: Path, cache: Path, *argv: str, **variables: str) -> subprocess.CompletedProcess:
    """`python -m unitctl ARGV` with only the given locale variables set (none inherited)."""
    env = {name: value for name, value in os.environ.items() if name not in LOCALE_VARIABLES}
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(SCRIPTS), os.environ.get("PYTHONPATH")])),
               PYTHONDONTWRITEBYTECODE="1", XDG_CACHE_HOME=str(cache), **variables)
    return subprocess.run([sys.executable, "-m", "unitctl", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture
def speak(monkeypatch, cache):
    """In-process: speak(LANG) switches unitctl's language for this test."""
    def use(lang: str) -> None:
        for name in LOCALE_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("LANG", lang)
        monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
        i18n.translations.cache_clear()
    yield use
    i18n.translations.cache_clear()  # the next test reads its own environment
    gettext.textdomain("messages")


# --- the commands in Persian and in English -------------------------------------------------------

def source_of(folder: Path) -> Path:
    """The fixture province's inventory source as unitctl prints it (outside the checkout: absolute)."""
    return (folder / "province.unitctl.yml").resolve()


def test_validate_speaks_persian_with_a_persian_locale(broken, cache):
    done = unitctl(broken, cache, "validate", "inventory", LANG="fa_IR.UTF-8")
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "inventory/units/court/hosts.yml:6: hosts[0].vlan: VLAN 40 در addressing.yml این واحد تعریف نشده است",
        "inventory/units/court/hosts.yml:16: hosts[2].address: «10.99.18.300» نشانی IPv4 نیست: چهار عدد از ۰ تا "
        "۲۵۵ بنویسید که با نقطه جدا شده‌اند، مانند 10.25.16.10",
        "inventory/units/court/hosts.yml:26: hosts[3].ports[0].vlan: VLAN 40 در addressing.yml این واحد تعریف "
        "نشده است",
    ]
    # The counts the toolkit states are in Persian digits; the command to run again stays as typed.
    assert done.stderr == ("inventory/units: ۳ اشکال در ۱ پرونده؛ همه را رفع کنید و سپس دوباره "
                           f"`unitctl validate {source_of(broken / 'inventory')}` را اجرا کنید\n")


@pytest.mark.parametrize("lang", ["C.UTF-8", "en_US.UTF-8"])
def test_validate_speaks_english_with_an_english_or_c_locale(broken, cache, lang):
    done = unitctl(broken, cache, "validate", "inventory", LANG=lang)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == ("inventory/units/court/hosts.yml:6: hosts[0].vlan: VLAN 40 is not "
                                           "defined in this unit's addressing.yml")
    assert done.stderr == ("inventory/units: 3 problems in 1 file; fix them all, then run "
                           f"`unitctl validate {source_of(broken / 'inventory')}` again\n")


def test_a_valid_province_is_summed_up_in_persian(broken, cache):
    copy_fixture_province(broken / "valid")
    done = unitctl(broken, cache, "validate", "valid", LANG="fa_IR.UTF-8")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "سیاهه درست است: ۲ واحد، ۵ میزبان (valid/units)"


@pytest.mark.parametrize("variables, persian", [
    ({"LANGUAGE": "fa", "LANG": "C.UTF-8"}, True),          # gettext reads LANGUAGE first
    ({"LC_ALL": "fa_IR.UTF-8", "LANG": "en_US.UTF-8"}, True),
    ({"LC_MESSAGES": "fa_IR.UTF-8"}, True),
    ({"LANGUAGE": "en", "LANG": "fa_IR.UTF-8"}, False),
    ({}, False),                                           # no locale at all
])
def test_the_language_follows_the_variables_gettext_reads(broken, cache, variables, persian):
    done = unitctl(broken, cache, "validate", "inventory/nowhere", **variables)
    assert done.returncode == 2
    assert done.stderr == ("unitctl: inventory/nowhere وجود ندارد\n" if persian
                           else "unitctl: inventory/nowhere does not exist\n")


def test_room_limits_are_refused_in_persian(broken, cache):
    province = copy_fixture_province(broken / "rooms")
    rooms = province / "units" / "court" / "rooms.yml"
    rooms.write_text(rooms.read_text(encoding="utf-8").replace(
        "temperature_c: {min: 18, max: 27}", "temperature_c: {min: 18, max: 270}\n    humidity_pct: {min: 60, max: 40}"
    ), encoding="utf-8")
    done = unitctl(broken, cache, "validate", "rooms", LANG="fa_IR.UTF-8")
    assert done.returncode == 1
    # The limits the toolkit sets in Persian digits; the values written in the file as written there.
    assert done.stdout.splitlines() == [
        "rooms/units/court/rooms.yml:6: rooms.server_room.temperature_c.max: باید میان ۰ و ۵۰ درجهٔ سلسیوس "
        "(حد اتاق سرور) باشد، اما 270 است",
        "rooms/units/court/rooms.yml:7: rooms.server_room.humidity_pct: کمترین رطوبت (60) باید پایین‌تر از "
        "بیشترین رطوبت (40) باشد",
    ]


def test_help_and_its_exit_statuses_in_persian(broken, cache):
    done = unitctl(broken, cache, "validate", "--help", LANG="fa_IR.UTF-8")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0] == "کاربرد: unitctl validate [-h] [--strict] [--vault-id UNIT] [path]"  # argparse's own words too
    assert "گزینه‌ها:" in lines and "وضعیت خروج:" in lines
    statuses = lines[lines.index("وضعیت خروج:") + 1:]
    assert statuses[0] == "  0    درست است (نشانه‌های TODO فهرست می‌شوند و فقط با --strict رد می‌شوند)"
    assert statuses[1] == "  1    اشکالی هست: هر یک فهرست می‌شود (پرونده، سطر، مسیر، علت)"
    assert statuses[2].startswith("  2    کاربرد نادرست، یا رد پیش از انجام هر کاری")


def test_a_refusal_in_persian(broken, cache):
    done = unitctl(broken, cache, "check", "court", "--inventory", "inventory/province.unitctl.yml",
                   LANG="fa_IR.UTF-8")
    assert done.returncode == 2
    assert done.stderr.startswith("unitctl: سیاههٔ inventory/province.unitctl.yml درست نیست؛ هیچ کاری انجام نشد. "
                                  "این اشکال‌ها را رفع کنید و سپس `unitctl validate inventory/province.unitctl.yml` "
                                  "را اجرا کنید:\ninventory/units/court/hosts.yml:6: hosts[0].vlan: VLAN 40 در")
    usage = unitctl(broken, cache, "new-unit", "x", LANG="fa_IR.UTF-8")
    assert usage.returncode == 2
    assert usage.stderr.splitlines()[-1] == ("unitctl new-unit: خطا: این آرگومان‌ها لازم‌اند: --kind, --name-fa, "
                                             "--name-en")


def test_unitctl_use_and_the_inventory_in_use_in_persian(broken, cache, fresh_inventory_choice):
    valid = copy_fixture_province(broken / "valid")
    settings = fresh_inventory_choice  # UNITCTL_LOCAL_SETTINGS, inherited by the commands run here
    shown = unitctl(broken, cache, "use", LANG="fa_IR.UTF-8")
    assert (shown.returncode, shown.stdout) == (0, "inventory/lab.unitctl.yml: سیاههٔ آزمایشگاه، پیش‌فرض "
                                                   "(چیزی تعیین نشده است؛ `unitctl use SOURCE` سیاههٔ دیگری "
                                                   "تعیین می‌کند)\n")
    set_ = unitctl(broken, cache, "use", "valid/province.unitctl.yml", LANG="fa_IR.UTF-8")
    assert (set_.returncode, set_.stdout) == (0, f"این نسخهٔ مخزن اکنون روی {source_of(valid)} کار می‌کند (در "
                                                 f"{settings} نگه داشته شد)؛ --inventory و UNITCTL_INVENTORY همچنان "
                                                 "مقدم‌اند\n")
    # Every command without --inventory now says, in one line, which inventory it acts on.
    validated = unitctl(broken, cache, "validate", LANG="fa_IR.UTF-8")
    assert validated.returncode == 0, validated.stderr
    assert validated.stderr == f"unitctl: سیاههٔ {source_of(valid)} (از {settings})\n"
    assert validated.stdout.splitlines()[-1] == "سیاهه درست است: ۲ واحد، ۵ میزبان (valid/units)"
    both = unitctl(broken, cache, "use", "valid/province.unitctl.yml", "--clear", LANG="fa_IR.UTF-8")
    assert (both.returncode, both.stderr) == (2, "unitctl: یا SOURCE را برای به کار بردن نام ببرید یا --clear "
                                                 "را، نه هر دو\n")
    cleared = unitctl(broken, cache, "use", "--clear", LANG="fa_IR.UTF-8")
    assert cleared.returncode == 0 and not settings.exists()
    assert cleared.stdout.splitlines()[0] == (f"{settings} برداشته شد: فرمان‌ها دوباره روی سیاههٔ پیش‌فرض خود "
                                              "(سیاههٔ آزمایشگاه) کار می‌کنند")


def test_a_bad_inventory_variable_is_refused_in_persian(broken, cache):
    done = unitctl(broken, cache, "check", "court", LANG="fa_IR.UTF-8", UNITCTL_INVENTORY="nowhere.unitctl.yml")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "unitctl check: خطا: UNITCTL_INVENTORY=nowhere.unitctl.yml وجود ندارد؛ منبع سیاهه پرونده‌ای است مانند "
        "inventory/qom.unitctl.yml (UNITCTL_INVENTORY را برابر یک منبع سیاهه بگذارید، یا آن را بردارید)")


def test_a_unit_missing_from_the_inventory_is_looked_for_in_persian(broken, cache):
    valid = copy_fixture_province(broken / "valid")
    typo = unitctl(broken, cache, "check", "cort", "--inventory", "valid/province.unitctl.yml", LANG="fa_IR.UTF-8")
    assert typo.returncode == evaluate.evaluation.EXIT_NOT_EVALUATED
    assert typo.stderr == f"unitctl: واحد cort در {source_of(valid)} (--inventory) نیست. cort: منظورتان court بود؟\n"
    elsewhere = unitctl(broken, cache, "provision", "qom-court", "-i", "valid/province.unitctl.yml",
                        LANG="fa_IR.UTF-8")
    assert elsewhere.returncode == 2 and elsewhere.stdout == ""  # refused: no `running:` line
    assert elsewhere.stderr == (
        f"unitctl: واحد qom-court در {source_of(valid)} (--inventory) نیست. qom-court در inventory/qom.unitctl.yml "
        "است: --inventory inventory/qom.unitctl.yml را به کار ببرید یا UNITCTL_INVENTORY را تعیین کنید "
        "(`unitctl use inventory/qom.unitctl.yml` آن را برای این نسخهٔ مخزن تعیین می‌کند)\n")


def test_ansible_runs_under_the_persian_locale_the_readme_gives(cache, lab_vault_args):
    # LANG=fa_IR.UTF-8 where fa_IR was never generated: Ansible refuses such a locale, in
    # ansible-playbook (provision) and in its CLI code that `net` imports, unless unitctl hands it
    # C.UTF-8; the messages stay Persian.
    rendered = unitctl(PROJECT_ROOT, cache, "net", "render", "-i", "inventory/lab.unitctl.yml", "-l", "court-sw1",
                       LANG="fa_IR.UTF-8")
    assert rendered.returncode == 0, rendered.stderr
    assert "hostname court-sw1" in rendered.stdout.splitlines()
    listed = unitctl(PROJECT_ROOT, cache, "provision", "lab-court", "--", "--syntax-check", LANG="fa_IR.UTF-8")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("اجرا: ansible-playbook -i inventory/lab.unitctl.yml playbooks/site.yml "
                                    f"--limit unit_lab_court {' '.join([*lab_vault_args('lab-court'), ''])}"
                                    "--syntax-check\n")
    assert "could not initialize the preferred locale" not in listed.stdout + listed.stderr


def test_a_locale_that_is_not_generated_is_replaced_for_ansible_keeping_the_language():
    assert i18n.usable_locale_environment({"LANG": "fa_ZZ.UTF-8"}) == {"LC_ALL": "C.UTF-8", "LANGUAGE": "fa_ZZ.UTF-8"}
    assert i18n.usable_locale_environment({"LC_ALL": "fa_ZZ.UTF-8", "LANG": "C.UTF-8"}) == {
        "LC_ALL": "C.UTF-8", "LANGUAGE": "fa_ZZ.UTF-8"}
    # LANGUAGE already says the language: only the locale changes.
    assert i18n.usable_locale_environment({"LANGUAGE": "fa", "LANG": "fa_ZZ.UTF-8"}) == {"LC_ALL": "C.UTF-8"}
    assert i18n.usable_locale_environment({"LANG": "C.UTF-8", "LANGUAGE": "fa"}) == {}
    assert i18n.usable_locale_environment({}) == {}
    assert not i18n.locale_exists("fa_ZZ.UTF-8") and i18n.locale_exists("C.UTF-8")


def test_without_a_cache_to_compile_into_messages_stay_english_and_say_why(broken, tmp_path):
    not_a_folder = tmp_path / "cache-is-a-file"
    not_a_folder.write_text("", encoding="utf-8")
    done = unitctl(broken, not_a_folder, "validate", "inventory/nowhere", LANG="fa_IR.UTF-8")
    assert done.returncode == 2
    why, refusal = done.stderr.splitlines()
    assert why.startswith("unitctl: messages stay in English: the message catalogues could not be compiled (")
    assert refusal == "unitctl: inventory/nowhere does not exist"


# --- what the code does with the catalogue --------------------------------------------------------

ROOM_TASK = "bring the server room back within its limits: check its air conditioning and ventilation"
ROOM_TASK_FA = "دما و رطوبت اتاق سرور را به حدود تعیین‌شده برگردانید: سرمایش و تهویهٔ اتاق را بررسی کنید"


def test_the_summary_of_a_check_in_persian(speak, capsys):
    speak("fa_IR.UTF-8")
    fix = "ansible-playbook -i inventory/qom.unitctl.yml playbooks/servers.yml --limit court-srv"
    report = {"status": "non_compliant", "units": {"court": {
        "score": 87.5, "trend": -2.5, "counts": {"pass": 7, "fail": 2, "error": 0, "unreachable": 0},
        "failures": [{"severity": "critical", "check_id": "SSH-002", "host": "court-srv", "title_en": "SSH root login",
                      "title_fa": "ورود root با SSH", "fix": "playbooks/servers.yml", "fix_fa": "",
                      "fix_command": fix},
                     {"severity": "high", "check_id": "PWR-008", "host": "court-srv",
                      "title_en": "The server room is within its limits", "title_fa": "اتاق سرور در حدود خود است",
                      "fix": ROOM_TASK, "fix_fa": ROOM_TASK_FA, "fix_command": None},
                     {"severity": "medium", "check_id": "SSH-004", "host": "court-ws1", "outcome": "error",
                      "title_en": "SSH limits", "title_fa": "محدودیت‌های SSH", "fix": "playbooks/site.yml",
                      "fix_fa": "", "fix_command": fix}],
        "unreachable_hosts": [], "evaluated": "all"}}}
    evaluate.print_summary(report)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["واحد", "امتیاز", "روند", "قبول", "رد", "خطا", "بی‌پاسخ"]
    assert lines[2].split() == ["court", "۸۷٫۵٪", "\u2212۲٫۵", "۷", "۲", "۰", "۰"]
    # A command to copy stays as it is typed; a person's task is read, so it is in Persian.
    assert lines[3] == f"  [بحرانی] SSH-002 court-srv: ورود root با SSH  -> رفع: {fix}"
    assert lines[4] == f"  [زیاد] PWR-008 court-srv: اتاق سرور در حدود خود است  -> رفع: {ROOM_TASK_FA}"
    # A check in error did not fail (the fail column does not count it): it says so.
    assert lines[5] == f"  [متوسط، خطا] SSH-004 court-ws1: محدودیت‌های SSH  -> رفع: {fix}"
    assert lines[-1] == "وضعیت: نامنطبق"
    speak("C.UTF-8")
    evaluate.print_summary(report)
    english = capsys.readouterr().out.splitlines()
    assert f"  [high] PWR-008 court-srv: The server room is within its limits  -> fix: {ROOM_TASK}" in english
    assert f"  [medium, error] SSH-004 court-ws1: SSH limits  -> fix: {fix}" in english


def test_check_says_what_it_checks_in_persian(speak, capsys, monkeypatch, tmp_path):
    speak("fa_IR.UTF-8")
    monkeypatch.setattr(evaluate, "run_suite", lambda *args, **kwargs: {"checks": {}, "results": []})
    assert main(["check", "qom-court", "-i", "inventory/qom.unitctl.yml", "--workers", "2",
                 "--output", str(tmp_path / "out")]) == evaluate.evaluation.EXIT_NOT_EVALUATED  # nothing ran
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "بررسی qom-court از inventory/qom.unitctl.yml، ۲ میزبان هم‌زمان"
    speak("C.UTF-8")
    assert main(["evaluate", "-i", "inventory/qom.unitctl.yml", "--workers", "1",
                 "--output", str(tmp_path / "all")]) == evaluate.evaluation.EXIT_NOT_EVALUATED
    assert capsys.readouterr().out.splitlines()[0] == "checking every unit of inventory/qom.unitctl.yml, 1 host at once"


def test_the_progress_lines_in_persian(speak):
    speak("fa_IR.UTF-8")
    lines, clock = [], iter([100.0, 164.9, 164.9, 164.9, 164.9]).__next__
    reporter = compliance_progress.ProgressReporter(lines.append, clock)
    expected = {"court-srv": {"unit_id": "lab-court", "checks": 2}, "court-ws2": {"unit_id": "lab-court", "checks": 2}}
    reporter.pytest_runtest_logreport(SimpleNamespace(user_properties=[(compliance_progress.EXPECTED, expected)]))
    for host, outcome in (("court-srv", "pass"), ("court-srv", "fail"), ("court-ws2", "unreachable"),
                          ("court-ws2", "unreachable")):
        reporter.record("lab-court", host, outcome)
    assert lines == ["  ۱:۰۴  ۱/۲  lab-court  court-srv: ۱ قبول، ۱ رد",
                     "  ۱:۰۴  ۲/۲  lab-court  court-ws2: بی‌پاسخ (۲ بررسی اجرا نشد)",
                     "  ۱:۰۴       lab-court  هر ۲ میزبان بررسی شد: ۱ قبول، ۱ رد، ۲ بی‌پاسخ"]
    assert compliance_progress.counts_text(Counter({"pass": 212, "error": 1, "skipped": 2, "not_applicable": 41})) \
        == "۲۱۲ قبول، ۱ خطا، ۲ ردشده، ۴۱ نامرتبط"


def test_the_suite_prints_its_progress_in_the_language_of_unitctl(tmp_path, capfd, monkeypatch, cache):
    """check and evaluate run the suite in a pytest process of its own: it speaks the same language."""
    for name in LOCALE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "fa_IR.UTF-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(PROGRESS_CONFTEST, encoding="utf-8")
    (suite / "test_checks.py").write_text("def test_one(host):\n    assert host != 'court-ws1'\n", encoding="utf-8")
    evaluate.run_suite(tmp_path / "none.unitctl.yml", [], 1, None, suite=suite)
    out = capfd.readouterr().out
    assert "court-srv: ۱ قبول" in out and "court-ws1: ۰ قبول، ۱ رد" in out
    assert "court  هر ۲ میزبان بررسی شد: ۱ قبول، ۱ رد" in out


# A two-host suite that reports its checks as tests/compliance/conftest.py does.
PROGRESS_CONFTEST = conftest_text({"court-srv": "court", "court-ws1": "court"})


def test_numbers_the_toolkit_states_follow_the_language(speak):
    speak("fa_IR.UTF-8")
    assert i18n.language() == "fa"
    assert [i18n.number(3), i18n.number("97.5"), i18n.number("+1.2"), i18n.number("100,000")] == \
        ["۳", "۹۷٫۵", "+۱٫۲", "۱۰۰٬۰۰۰"]
    speak("C.UTF-8")
    assert i18n.language() == "en"
    assert [i18n.number(3), i18n.number("97.5")] == ["3", "97.5"]


def write_catalogue(path: Path, translations: dict[str, str]) -> None:
    catalog = Catalog(locale="fa", domain=i18n.DOMAIN)
    for english, persian in translations.items():
        catalog.add(english, persian)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        write_po(stream, catalog)


def test_a_message_the_catalogue_lacks_stays_english(tmp_path):
    source = tmp_path / "locale"
    write_catalogue(source / "fa" / "LC_MESSAGES" / "unitctl.po", {"in sync": "هماهنگ است"})
    localedir = i18n.compiled_catalogues(source, tmp_path / "cache")
    persian = gettext.translation(i18n.DOMAIN, localedir, languages=["fa"])
    assert persian.gettext("in sync") == "هماهنگ است"
    assert persian.gettext("not in the catalogue {unit}") == "not in the catalogue {unit}"


def test_a_catalogue_is_compiled_once_and_again_when_it_changes(tmp_path):
    source, cache = tmp_path / "locale", tmp_path / "cache"
    po = source / "fa" / "LC_MESSAGES" / "unitctl.po"
    write_catalogue(po, {"in sync": "هماهنگ است"})
    first = i18n.compiled_catalogues(source, cache)
    mo = first / "fa" / "LC_MESSAGES" / "unitctl.mo"
    compiled_at = mo.stat().st_mtime_ns
    assert i18n.compiled_catalogues(source, cache) == first and mo.stat().st_mtime_ns == compiled_at
    write_catalogue(po, {"in sync": "همگام است"})
    second = i18n.compiled_catalogues(source, cache)
    assert second != first
    assert gettext.translation(i18n.DOMAIN, second, languages=["fa"]).gettext("in sync") == "همگام است"


def test_only_languages_with_a_catalogue_are_compiled_for():
    assert i18n.requested_catalogues({"LANG": "fa_IR.UTF-8"}) == ["fa"]
    assert i18n.requested_catalogues({"LANGUAGE": "de:fa", "LANG": "C.UTF-8"}) == ["fa"]
    assert i18n.requested_catalogues({"LANG": "C.UTF-8"}) == []
    assert i18n.requested_catalogues({}) == []


# --- the catalogues stay in step with the code ----------------------------------------------------

def test_the_template_and_the_persian_catalogue_are_in_step_with_the_code():
    """Every _() string is in the .pot; every message of the .pot has a Persian translation in the
    .po, none fuzzy, with the English's placeholders. Fix with python scripts/message_catalogue.py."""
    assert catalogue.check() == []


def test_the_catalogue_check_names_each_kind_of_gap():
    template = Catalog(domain=i18n.DOMAIN)
    for english in ("done", "in sync", "wrote {path}", "no unit {unit} in {inventory}", "argument %(name)s: %s",
                    "fine {count}", "left out"):
        template.add(english)
    translated = Catalog(locale="fa", domain=i18n.DOMAIN)
    translated.add("done", "")                                              # not translated
    translated.add("in sync", "هماهنگ است", flags=["fuzzy"])               # fuzzy
    translated.add("wrote {path}", "{file} نوشته شد")                      # a placeholder renamed
    translated.add("no unit {unit} in {inventory}", "واحد {unit} نیست")     # a placeholder dropped
    translated.add("argument %(name)s: %s", "آرگومان %(name)s")            # argparse's %-fields
    translated.add("fine {count}", "درست {count}")
    problems = catalogue.translation_problems(template, translated)
    assert problems == [  # every gap, in the template's order; "fine {count}" is complete
        "not translated: 'done'",
        "fuzzy (review it, then remove the fuzzy flag): 'in sync'",
        "placeholders differ from the English ({path}): 'wrote {path}' -> '{file} نوشته شد'",
        "placeholders differ from the English ({inventory} {unit}): 'no unit {unit} in {inventory}' -> "
        "'واحد {unit} نیست'",
        "placeholders differ from the English (%(name)s %s): 'argument %(name)s: %s' -> 'آرگومان %(name)s'",
        "missing: 'left out'",
    ]


def test_a_stale_template_is_reported(tmp_path, monkeypatch):
    stale = tmp_path / "unitctl.pot"
    text = catalogue.TEMPLATE.read_text(encoding="utf-8")
    stale.write_text(text.replace('msgid "in sync"\nmsgstr ""\n\n', ""), encoding="utf-8")
    assert stale.read_text(encoding="utf-8") != text
    monkeypatch.setattr(catalogue, "TEMPLATE", stale)
    assert catalogue.check()[0] == f"{stale} is out of date with the code: run python scripts/message_catalogue.py"


def test_every_message_is_a_literal_or_a_marked_constant():
    """_("...") with a literal (never an f-string or a sum: the catalogue would not find it), or
    _(name) for text marked with N_() where it was defined."""
    wrong = []
    for path in sorted((SCRIPTS / "unitctl").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("_", "N_", "ngettext"):
                literal_only = node.func.id != "_"
                for argument in node.args[:2 if node.func.id == "ngettext" else 1]:
                    literal = isinstance(argument, ast.Constant) and isinstance(argument.value, str)
                    named = isinstance(argument, (ast.Name, ast.Attribute))
                    if not (literal or named and not literal_only):
                        wrong.append(f"{path.relative_to(SCRIPTS)}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert wrong == []

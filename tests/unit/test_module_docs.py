"""The toolkit's own Ansible modules document themselves fully, as `ansible-doc` reads them.

Every module the project ships (the `library` path of ansible.cfg, each role's `library/`, any
`plugins/modules/`) is read by `ansible-doc -j`, once for all, and held against the module itself:
its ARGUMENT_SPEC (every option documented, with the same type, default and sub-options, and
nothing documented that the module does not take), what it hands to `exit_json`/`fail_json`
(RETURN), whether it supports check mode and returns a diff (`attributes`), and its EXAMPLES
(YAML tasks that give only documented options, every required one, values of the right type).
A description cut short by YAML (a `, ` in a flow mapping, a `: ` in a plain scalar) shows as a
description that does not end its sentence, or as an unknown key.
"""

from __future__ import annotations

import ast
import configparser
import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.playbook.task import Task

from unitctl.paths import PROJECT_ROOT

# The keys a module's documentation may give an option or a return value (ansible-core's own
# modules use these); anything else is a key YAML made out of a broken description.
OPTION_KEYS = {"description", "type", "required", "default", "elements", "choices", "suboptions", "aliases",
               "version_added"}
RETURN_KEYS = {"description", "type", "returned", "sample", "elements", "contains", "version_added"}
# Ansible's common return values: every module may return them without documenting them.
COMMON_RETURNS = {"changed", "failed", "msg", "diff", "rc", "stdout", "stderr", "stdout_lines", "stderr_lines",
                  "warnings", "deprecations", "invocation", "skipped", "results", "backup_file"}
SUPPORT_LEVELS = {"full", "partial", "none"}


def module_folders() -> list[Path]:
    """Every folder of the project that holds Ansible modules: ansible.cfg's `library` (a
    colon-separated list, relative to the project), each role's `library/`, and any
    `plugins/modules/`. Sorted, each once."""
    config = configparser.ConfigParser()
    config.read(PROJECT_ROOT / "ansible.cfg")
    folders = {PROJECT_ROOT / part.strip() for part in config.get("defaults", "library", fallback="").split(":")
               if part.strip()}
    folders |= {path for path in PROJECT_ROOT.glob("roles/*/library") if path.is_dir()}
    folders |= {path for path in PROJECT_ROOT.glob("**/plugins/modules")
                if path.is_dir() and ".venv" not in path.parts}
    return sorted(folders)


def module_files() -> dict[str, Path]:
    """Module name -> its file, for every module of module_folders()."""
    files = {}
    for folder in module_folders():
        for path in sorted(folder.glob("*.py")):
            if path.name != "__init__.py":
                assert path.stem not in files, f"two modules named {path.stem}: {files[path.stem]} and {path}"
                files[path.stem] = path
    return files


MODULES = module_files()


def load(path: Path):
    """The module file imported as a Python module (its main() is not run)."""
    spec = importlib.util.spec_from_file_location(f"unitctl_module_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    """ansible-doc's JSON of every module (name -> {"doc", "examples", "return", ...}), read in one run."""
    ansible_doc = Path(sys.executable).with_name("ansible-doc")
    search_path = ":".join(str(folder) for folder in module_folders())
    result = subprocess.run([sys.executable, str(ansible_doc), "-M", search_path, "-j", *MODULES],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "[ERROR]" not in result.stderr and "[WARNING]" not in result.stderr, result.stderr
    return json.loads(result.stdout)


def paragraphs(text) -> list[str]:
    return [text] if isinstance(text, str) else list(text)


def walk(entries: dict, children: str, prefix: str = ""):
    """(dotted name, entry) of every option (children "suboptions") or return value ("contains"), nested ones too."""
    for name, entry in entries.items():
        yield prefix + name, entry
        yield from walk(entry.get(children) or {}, children, f"{prefix}{name}.")


def test_every_module_of_the_toolkit_is_found():
    # Discovery must not come back empty: these three are the modules the playbooks and roles call.
    assert {"unit_network", "cups_queue", "security_upgrade"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_ansible_doc_reads_the_whole_documentation(docs, name):
    assert name in docs, f"ansible-doc did not read {name}"
    doc = docs[name]["doc"]
    assert doc["module"] == name
    assert doc["short_description"].strip()
    assert all(text.strip() for text in paragraphs(doc["description"]))
    assert doc["options"], "no option documented"
    assert docs[name]["examples"].strip(), "no EXAMPLES"
    assert docs[name]["return"], "no RETURN"


@pytest.mark.parametrize("name", MODULES)
def test_every_description_is_whole(docs, name):
    doc = docs[name]["doc"]
    described = [("module", doc["description"])]
    for dotted, option in walk(doc["options"], "suboptions"):
        assert not set(option) - OPTION_KEYS, f"option {dotted}: unknown keys {set(option) - OPTION_KEYS}"
        described.append((f"option {dotted}", option.get("description")))
    for dotted, value in walk(docs[name]["return"], "contains"):
        assert not set(value) - RETURN_KEYS, f"return {dotted}: unknown keys {set(value) - RETURN_KEYS}"
        described.append((f"return {dotted}", value.get("description")))
    for what, description in described:
        assert description, f"{what} has no description"
        for text in paragraphs(description):
            assert isinstance(text, str), f"{what}: {text!r} is not text"
            assert text.rstrip().endswith("."), f"{what}: description cut short or unfinished: {text!r}"


def compare_options(documented: dict, spec: dict, where: str) -> None:
    assert set(documented) == set(spec), (
        f"{where}: documented but not taken {sorted(set(documented) - set(spec))}, "
        f"taken but not documented {sorted(set(spec) - set(documented))}")
    for option, argument in spec.items():
        doc = documented[option]
        label = f"{where}{option}"
        assert doc.get("type", "str") == argument.get("type", "str"), f"{label}: type"
        assert bool(doc.get("required", False)) == bool(argument.get("required", False)), f"{label}: required"
        assert doc.get("default") == argument.get("default"), f"{label}: default"
        assert doc.get("elements") == argument.get("elements"), f"{label}: elements"
        assert doc.get("choices") == argument.get("choices"), f"{label}: choices"
        compare_options(doc.get("suboptions") or {}, argument.get("options") or {}, f"{label}.")


@pytest.mark.parametrize("name", MODULES)
def test_documented_options_are_the_argument_spec(docs, name):
    spec = getattr(load(MODULES[name]), "ARGUMENT_SPEC", None)
    assert spec is not None, f"{name} keeps its options in a module-level ARGUMENT_SPEC, so they can be compared"
    compare_options(docs[name]["doc"]["options"], spec, "")


def module_tasks(examples: str, name: str) -> list[tuple[str, dict]]:
    """(task name, module arguments) of each EXAMPLES task that calls module `name`; every task
    must be made of Ansible's task keywords and one module."""
    tasks = yaml.safe_load(examples)
    assert isinstance(tasks, list) and tasks, "EXAMPLES is not a list of tasks"
    keywords = set(Task.fattributes)
    calls = []
    for task in tasks:
        modules = [key for key in task if key not in keywords]
        assert len(modules) == 1, f"task {task.get('name')!r}: not one module ({modules})"
        if modules[0] in (name, f"ansible.legacy.{name}"):
            calls.append((task.get("name", "?"), task[modules[0]] or {}))
    return calls


def templated(value) -> bool:
    return isinstance(value, str) and "{{" in value


@pytest.mark.parametrize("name", MODULES)
def test_examples_use_only_documented_options(docs, name):
    options = docs[name]["doc"]["options"]
    spec = load(MODULES[name]).ARGUMENT_SPEC
    calls = module_tasks(docs[name]["examples"], name)
    assert calls, f"no example calls {name}"
    required = {option for option, doc in options.items() if doc.get("required")}
    for task, arguments in calls:
        assert isinstance(arguments, dict), f"{task}: arguments as key: value, not a string"
        assert not set(arguments) - set(options), f"{task}: undocumented {sorted(set(arguments) - set(options))}"
        assert required <= set(arguments), f"{task}: missing required {sorted(required - set(arguments))}"
        for option, value in arguments.items():
            suboptions = options[option].get("suboptions")
            if suboptions and isinstance(value, dict):
                assert not set(value) - set(suboptions), f"{task}: {option} has undocumented {set(value) - set(suboptions)}"
        # Literal values (a template is only known at run time) pass the module's own validation.
        literal = {option: value for option, value in arguments.items() if not templated(value)}
        # A deep copy: validation fills a dict default in place, which would leak into the next task.
        optional = {option: {**argument, "required": False} for option, argument in copy.deepcopy(spec).items()}
        result = ArgumentSpecValidator(optional).validate(literal)
        assert not result.error_messages, f"{task}: {result.error_messages}"


def source_tree(name: str) -> ast.Module:
    return ast.parse(MODULES[name].read_text(encoding="utf-8"))


def supports_check_mode(tree: ast.Module) -> bool:
    """Whether the module builds its AnsibleModule with supports_check_mode=True."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "AnsibleModule":
            return any(keyword.arg == "supports_check_mode" and getattr(keyword.value, "value", False) is True
                       for keyword in node.keywords)
    raise AssertionError("no AnsibleModule(...) call")


def returned_keys(tree: ast.Module) -> set[str]:
    """Every key the module hands to exit_json or fail_json: their keyword arguments, and the keys
    of a dict passed as **name (its literal keys and each name["key"] = ... assignment)."""
    dict_keys: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and isinstance(node.value, ast.Dict):
                dict_keys.setdefault(target.id, set()).update(
                    key.value for key in node.value.keys if isinstance(key, ast.Constant))
            elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                    and isinstance(target.slice, ast.Constant):
                dict_keys.setdefault(target.value.id, set()).add(target.slice.value)
    keys = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in ("exit_json", "fail_json"):
            for keyword in node.keywords:
                if keyword.arg is not None:
                    keys.add(keyword.arg)
                elif isinstance(keyword.value, ast.Name):
                    keys |= dict_keys.get(keyword.value.id, set())
    return keys


@pytest.mark.parametrize("name", MODULES)
def test_return_documents_what_the_module_returns(docs, name):
    returned = returned_keys(source_tree(name))
    documented = set(docs[name]["return"])
    assert not (returned - COMMON_RETURNS) - documented, f"returned but not documented: {(returned - COMMON_RETURNS) - documented}"
    assert not documented - returned, f"documented but never returned: {documented - returned}"


@pytest.mark.parametrize("name", MODULES)
def test_attributes_declare_check_mode_and_diff_mode(docs, name):
    attributes = docs[name]["doc"].get("attributes") or {}
    tree = source_tree(name)
    for attribute in ("check_mode", "diff_mode"):
        assert attribute in attributes, f"attributes lack {attribute}"
        declared = attributes[attribute]
        assert declared.get("support") in SUPPORT_LEVELS, f"{attribute}: support {declared.get('support')!r}"
        assert declared.get("description"), f"{attribute}: no description (action_common_attributes gives it)"
        if declared["support"] == "partial":
            assert declared.get("details"), f"{attribute}: partial support says what is missing (details)"
    # What is declared is what the module does.
    assert (attributes["check_mode"]["support"] != "none") == supports_check_mode(tree)
    assert (attributes["diff_mode"]["support"] != "none") == ("diff" in returned_keys(tree))

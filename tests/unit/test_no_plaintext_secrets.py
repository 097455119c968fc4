"""No plaintext secret is committed: every file git tracks is scanned for private keys, access tokens
and password-like values outside ansible-vault files (DESIGN: "Secrets live only in ansible-vault
files. No plaintext secret is committed, sample inventories included").

What counts:
- a private key: a PEM/OpenSSH/PuTTY/PGP private key block with key material under its header;
- an access token of a well-known shape (AWS, GitHub, GitLab, Slack);
- a password-like value: a key naming a password, secret, passphrase, token or API key assigned a
  literal value (YAML, INI, shell, templates; in Python a quoted literal) that is not a Jinja or
  shell reference, a vault value, a boolean, empty, a lock marker or a masked value;
- a file named like a vault file that is not encrypted.
Vault files (content starting with $ANSIBLE_VAULT) are skipped. Prose (Markdown) is scanned for keys
and tokens only. The few dummy values tests need (a wrong password for a failure test, the input of
the masking test, the credential of a switch emulator a benchmark starts) are listed in ALLOWED,
each with its file: the same value anywhere else fails.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----\s*\n(?:[\w-]+: .*\n|\s*\n)*\s*[A-Za-z0-9+/=]{40,}"
    r"|PuTTY-User-Key-File-\d+:"
    r"|b3BlbnNzaC1rZXktdjE[A-Za-z0-9+/=]{20,}")  # base64 of "openssh-key-v1": an OpenSSH private key
TOKENS = re.compile(r"\b(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36}|glpat-[A-Za-z0-9_-]{20}"
                    r"|xox[abprs]-[A-Za-z0-9-]{10,})\b")
ASSIGNMENT = re.compile(
    r"""(?P<key>[A-Za-z0-9_.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key)[A-Za-z0-9_.-]*)"""
    r"""["']?\s*(?::|=)\s*(?P<value>"[^"]*"|'[^']*'|[^,}\]\s]*)""", re.IGNORECASE)
# Keys that name where a secret is, not the secret.
NOT_A_SECRET_KEY = re.compile(r"(?:_file|_files|_path|_dir|_lock|_authentication|_length|_var|_vars|_id)$|nopasswd",
                              re.IGNORECASE)
HARMLESS = {"", "!", "*", "!!", "x", "none", "null", "~", "true", "false", "yes", "no", "{}", "[]", "<masked>",
            "masked", ">-", "|", ">", "|-", "omit"}

# Dummy values tests need, each with the only file it may appear in and why.
ALLOWED = {
    ("tests/integration/test_network.py", "wrong"): "a wrong password, to show a refused login is reported",
    ("tests/unit/test_network_render.py", "S3cret!"): "input of the secret-masking test",
    ("tests/unit/test_network_render.py", "En4ble"): "input of the secret-masking test",
    ("tests/unit/test_network_render.py", "a b"): "input of the secret-masking test",
    ("tests/benchmarks/bench_network_backup.py", "bench"): "credential of the switch emulator the benchmark starts",
    ("tests/benchmarks/bench_network_backup.py", "bench-password"): "the same emulator's password",
    ("roles/login_policy/templates/pam-unitctl-pwhistory.j2", "Primary"): "pam-auth-update's Password-Type field",
    ("roles/login_policy/templates/pam-unitctl-unix.j2", "Primary"): "pam-auth-update's Password-Type field",
}


def literal(value: str, python: bool) -> str | None:
    """The literal secret a value assigns, or None when it is a reference, an expression or harmless."""
    value = value.strip()
    if "{{" in value or "{%" in value or "!vault" in value or "lookup(" in value:
        return None
    quoted = re.match(r"""^[rbu]?(["'])(.*?)\1""", value)
    if python:
        if not quoted:
            return None  # an expression: a variable, a call, None
        text = quoted.group(2)
        if re.match(r"^f", value) and "{" in text:
            return None
    else:
        if value.startswith("$") or value.startswith("%"):
            return None  # a shell variable or a printf format
        text = quoted.group(2) if quoted else re.split(r"[\s,;#]", value, maxsplit=1)[0]
        if text.startswith("$"):
            return None
    text = text.strip()
    if not quoted and text[:1] in "({[":
        return None  # a flow collection (its own keys are scanned on their own) or an expression
    if text.lower() in HARMLESS or len(text) < 3:
        return None
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\[\]'\"]*\(.*", text):
        return None
    return text


def findings(path: str, text: str) -> list[str]:
    found = []
    if text.startswith("$ANSIBLE_VAULT"):
        return found
    for match in PRIVATE_KEY.finditer(text):
        found.append(f"{path}:{text.count(chr(10), 0, match.start()) + 1}: a private key")
    for match in TOKENS.finditer(text):
        found.append(f"{path}:{text.count(chr(10), 0, match.start()) + 1}: an access token ({match.group()[:6]}…)")
    name = Path(path).name
    if re.fullmatch(r"(?:.*[._-])?vault(?:[._-].*)?\.ya?ml", name):
        found.append(f"{path}: named as a vault file but not encrypted with ansible-vault")
    if path.endswith((".md", ".txt", ".rst")):
        return found
    python = path.endswith(".py")
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(("#", "//")) or (python and stripped.startswith(('"""', "'''"))):
            continue
        for match in ASSIGNMENT.finditer(line):
            if NOT_A_SECRET_KEY.search(match.group("key")):
                continue
            secret = literal(match.group("value"), python)
            if secret is not None and (path, secret) not in ALLOWED:
                found.append(f"{path}:{number}: '{match.group('key')}' holds a plaintext value; "
                             "move it into an ansible-vault file and refer to it as {{ vault_... }}")
    return found


def tracked_files() -> list[str]:
    result = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in result.stdout.decode().split("\0") if name]


def test_repository_has_no_plaintext_secrets():
    problems = []
    for name in tracked_files():
        path = ROOT / name
        if not path.is_file():
            continue  # deleted in the work tree
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        problems += findings(name, data.decode("utf-8", "replace"))
    assert not problems, "plaintext secrets in the repository:\n" + "\n".join(problems)


# The scanner itself: it must find what it is for and pass what is fine. The cases are written with
# '@@' inside their key words (removed before scanning), so that this file passes its own scan.
KEY_MATERIAL = "b3BlbnNzaC1r@@ZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"


@pytest.mark.parametrize("path, text", [
    ("inventory/units/x/staff.yml", f"-----BEGIN OPENSSH PRIVATE@@ KEY-----\n{KEY_MATERIAL}\n-----END OPENSSH PRIVATE@@ KEY-----\n"),
    ("keys/id_rsa", "-----BEGIN RSA PRIVATE@@ KEY-----\nProc-Type: 4,ENCRYPTED\n\n" + "A" * 64 + "\n"),
    ("notes.md", "the deploy key is " + KEY_MATERIAL),
    ("inventory/group_vars/all/network.yml", "network_pass@@word: hunter2\n"),
    ("inventory/group_vars/all/network.yml", 'network_enable_sec@@ret: "En4ble-me"\n'),
    ("roles/x/defaults/main.yml", "x_api@@_key: 'abcd1234'\n"),
    ("scripts/setup.sh", "DB_PASSWORD=s3cr3t ./run\n"),
    ("scripts/unitctl/thing.py", 'connect(pass@@word="s3cr3t-pass")\n'),
    ("scripts/unitctl/thing.py", 'SETTINGS = {"enable_sec@@ret": "cisco123"}\n'),
    ("ansible.cfg", "[x]\nbecome_pass@@word = letmein\n"),
    ("inventory/group_vars/lab/vault.yml", "vault_x: 1\n"),
    ("scripts/ci.yml", "tok@@en: ghp_" + "a" * 36 + "\n"),
    ("roles/x/meta/argument_specs.yml", "x_opts: {user: admin, pass@@word: hunter22}\n"),
])
def test_scanner_finds(path, text):
    assert findings(path, text.replace("@@", ""))


@pytest.mark.parametrize("path, text", [
    ("inventory/group_vars/all/network.yml", 'network_pass@@word: "{{ vault_network_pass@@word }}"\n'),
    ("inventory/group_vars/lab/vault.yml", "$ANSIBLE_VAULT;1.1;AES256\n6533\n"),
    ("inventory/group_vars/all/ssh.yml", "province_ssh_pass@@word_authentication: false\n"),
    ("roles/backup/defaults/main.yml", 'backup_pass@@word: ""\n'),
    ("roles/archive_share/defaults/main.yml", "archive_share_pass@@words: {}\n"),
    ("roles/backup_target/tasks/main.yml", '    pass@@word: "!"\n'),
    ("roles/power/templates/upsd.users.j2", "  pass@@word = {{ power_monitor_pass@@word }}\n"),
    ("ansible.cfg", "vault_pass@@word_file = scripts/vault-pass@@word.sh\n"),
    ("scripts/unitctl/thing.py", 'key = load_pem_private@@_key(data, pass@@word=None)\n'),
    ("scripts/unitctl/thing.py", 'session(pass@@word=settings["pass@@word"])\n'),
    ("scripts/unitctl/thing.py", 'token = f"unitctl-e2e-{uuid.uuid4().hex}"\n'),
    ("tests/unit/test_validate.py", '("pasted", "-----BEGIN OPENSSH PRIVATE@@ KEY-----"),\n'),
    ("README.md", "| unreachable device, wrong pass@@word: reported |\n"),
    ("tests/unit/golden/x.cfg", "add name=<masked> group=full pass@@word=<masked>\n"),
    ("roles/x/templates/y.j2", 'export RESTIC_PASSWORD_FILE="{{ d }}/pass@@word"\n'),
    ("roles/x/meta/argument_specs.yml", '  x_pass@@word: {type: str, required: true, no_log: true}\n'),
    ("inventory/group_vars/all/access.yml", "      'pass@@word': (vault_x | default({})).get(person.username)}] -%}\n"),
])
def test_scanner_passes(path, text):
    assert not findings(path, text.replace("@@", ""))


def test_allowed_dummies_only_in_their_file():
    line = 'settings = {"pass@@word": "S3cret!"}\n'.replace("@@", "")
    assert findings("tests/unit/test_other.py", line)
    assert not findings("tests/unit/test_network_render.py", line)

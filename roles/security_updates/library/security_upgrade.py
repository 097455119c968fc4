#!/usr/bin/python3
"""Ansible module of the security_updates role, and APT's hook recording pending security updates.

As a module: apply the pending security updates with Debian's own unattended-upgrade, then restart
the services still running replaced libraries with needrestart, and say what was upgraded
(package, old -> new) and restarted. As a script (`security_upgrade.py --record FILE`, run by
APT after every successful refresh of the package lists): record since when each security update
has been pending, for the compliance check UPD-001.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: security_upgrade
short_description: Apply pending security updates (unattended-upgrade), restart services (needrestart), report both
description:
  - Lists the installed packages whose candidate version comes from a C(-security) suite
    (python3-apt). A package a technician holds (C(apt-mark hold)) is not counted.
  - In check mode reports them (RV(would_upgrade)) and changes nothing.
  - Otherwise runs C(unattended-upgrade), limited to the security suite by its own configuration,
    with C(NEEDRESTART_SUSPEND) set so that needrestart does not restart services after each of its
    steps (Debian bug 1100685), then C(needrestart -r a) once, and reports the packages whose
    version changed and the services restarted or deferred.
  - Runs unattended-upgrade also when nothing is pending but its log is missing or older than a
    day, so that its last successful run is recent (check UPD-002); that changes no package and is
    not reported as a change.
  - Records, for every pending security update, since when it has been pending (O(state_file)),
    which check UPD-001 reads. The same file run as a script (C(security_upgrade.py --record FILE))
    is APT's hook that keeps the record after every refresh of the package lists.
  - A security update still pending after unattended-upgrade (held back, a configuration file
    question) is a warning naming it, not a failure (its log says why); it is returned in
    RV(still_pending). Fails when python3-apt or unattended-upgrade is missing, or when
    unattended-upgrade fails.
extends_documentation_fragment:
  - action_common_attributes
attributes:
  check_mode:
    support: full
    details: Lists what would be upgraded and reports changed when anything would be; runs nothing and writes no record.
  diff_mode:
    support: none
  platform:
    platforms: debian
    details: Debian with python3-apt, unattended-upgrades and (for the restarts) needrestart.
options:
  state_file:
    description:
      - The record of pending security updates (JSON), each with the time it was first seen against the installed version.
    type: path
    required: true
  apply:
    description:
      - Apply the updates. With C(false) they are only listed and recorded.
    type: bool
    default: true
  restart_services:
    description:
      - Run needrestart in automatic mode (C(needrestart -r a)) after upgrading.
    type: bool
    default: true
  lock_timeout:
    description:
      - Seconds to wait for another package manager (apt-daily-upgrade, a technician's apt) to finish.
    type: int
    default: 300
  unattended_upgrade_log:
    description:
      - unattended-upgrade's log, whose age decides a run when nothing is pending.
    type: path
    default: /var/log/unattended-upgrades/unattended-upgrades.log
"""

EXAMPLES = r"""
- name: Apply the pending security updates and restart what uses replaced libraries
  security_upgrade:
    state_file: /var/lib/unitctl/security-updates/pending.json
  register: security_updates_result

- name: Say what was upgraded and restarted
  ansible.builtin.debug:
    msg: "{{ security_updates_result.msg }}"
  when: security_updates_result is changed

- name: Only list and record the pending security updates, a technician applies them
  security_upgrade:
    state_file: /var/lib/unitctl/security-updates/pending.json
    apply: false

- name: Upgrade on a busy host, leaving service restarts to a technician
  security_upgrade:
    state_file: /var/lib/unitctl/security-updates/pending.json
    restart_services: false
    lock_timeout: 900
"""

RETURN = r"""
upgraded:
  description:
    - The packages whose version changed.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description:
        - The package's name.
      type: str
    arch:
      description:
        - Its architecture.
      type: str
    old:
      description:
        - The version before (null for a package newly installed).
      type: str
    new:
      description:
        - The version after.
      type: str
  sample: [{name: openssl, arch: amd64, old: 3.0.15-1~deb12u1, new: 3.0.16-1~deb12u1}]
would_upgrade:
  description:
    - The pending security updates found before upgrading.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description:
        - The package's name.
      type: str
    arch:
      description:
        - Its architecture.
      type: str
    installed:
      description:
        - The installed version.
      type: str
    candidate:
      description:
        - The version the security suite offers.
      type: str
still_pending:
  description:
    - The security updates unattended-upgrade left pending, as in RV(would_upgrade).
  type: list
  elements: dict
  returned: when some are left after an upgrade
restarted:
  description:
    - The services needrestart restarted.
  type: list
  elements: str
  returned: always
  sample: [cron.service, ssh.service]
deferred:
  description:
    - The services needrestart would not restart on its own (dbus, systemd-logind, user managers); a reboot or a technician restarts them.
  type: list
  elements: str
  returned: always
msg:
  description:
    - One line saying what was (or would be) upgraded and restarted.
  type: str
  returned: always
  sample: "upgraded: openssl 3.0.15-1~deb12u1 -> 3.0.16-1~deb12u1; restarted: ssh.service"
"""

import json
import os
import subprocess
import sys
import tempfile
import time

try:
    from ansible.module_utils.basic import AnsibleModule
except ImportError:  # run as APT's hook (--record), outside Ansible
    AnsibleModule = None

UNATTENDED_UPGRADE = "/usr/bin/unattended-upgrade"
NEEDRESTART = "/usr/sbin/needrestart"
LOCK_RETRY_S = 10
RERUN_AFTER_S = 86400
ENVIRONMENT = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive"}


# --- pure functions (tests/unit/test_security_updates.py) ---------------------------------------

def is_security(files: list[dict]) -> bool:
    """A version is a security update when one of its package files is a Debian `-security` suite."""
    return any(str(f.get("archive", "")).endswith("-security") or str(f.get("codename", "")).endswith("-security")
               for f in files)


def key_of(name: str, arch: str) -> str:
    return f"{name}:{arch}"


def merge_record(previous: dict, pending: list[dict], now: int) -> dict:
    """The new record: each pending update keeps its first-seen time while the installed version is
    the one it was first seen against (a newer candidate for the same installed version does not
    restart the clock); anything no longer pending is dropped."""
    known = previous.get("packages", {}) if isinstance(previous, dict) else {}
    packages = {}
    for update in pending:
        key = key_of(update["name"], update["arch"])
        before = known.get(key)
        first_seen = now
        if isinstance(before, dict) and before.get("installed") == update["installed"] \
                and isinstance(before.get("first_seen"), int):
            first_seen = min(before["first_seen"], now)
        packages[key] = {**update, "first_seen": first_seen}
    return {"schema": "unitctl-security-pending/1", "updated": now, "packages": packages}


def version_changes(before: dict[str, str], after: dict[str, str]) -> list[dict]:
    """Packages upgraded (or newly installed, old None) between two {name:arch: version} maps."""
    changes = []
    for key in sorted(after):
        if before.get(key) != after[key]:
            name, _, arch = key.rpartition(":")
            changes.append({"name": name, "arch": arch, "old": before.get(key), "new": after[key]})
    return changes


def parse_needrestart(output: str) -> tuple[list[str], list[str]]:
    """(restarted, deferred) services from `needrestart -r a` (stdio interface, C locale)."""
    restarted, deferred, section = [], [], None
    for line in output.splitlines():
        text = line.strip()
        if not text:
            continue
        if text.startswith("Restarting services"):
            section = restarted
        elif text.startswith("Service restarts being"):  # ... deferred: / ... refused by systemd:
            section = deferred
        elif line.startswith(" "):  # its commands, one space in: " systemctl restart a.service b.service"
            if section is not None and text.startswith("systemctl restart "):
                section.extend(text.split()[2:])
        else:
            section = None
    return sorted(set(restarted)), sorted(set(deferred))


def summary(upgraded: list[dict], restarted: list[str], deferred: list[str], check_mode: bool,
            pending: list[dict]) -> str:
    if check_mode:
        if not pending:
            return "no security update pending"
        return "would upgrade: " + ", ".join(f"{u['name']} {u['installed']} -> {u['candidate']}" for u in pending)
    if not upgraded:
        return "no security update pending"
    text = "upgraded: " + ", ".join(f"{u['name']} {u['old'] or '(new)'} -> {u['new']}" for u in upgraded)
    text += "; restarted: " + (", ".join(restarted) if restarted else "none")
    if deferred:
        text += "; not restarted (needrestart defers them; a reboot or a technician restarts them): " + ", ".join(deferred)
    return text


# --- APT ----------------------------------------------------------------------------------------

def _apt():
    import apt_pkg  # noqa: PLC0415  (python3-apt, on the managed host only)

    apt_pkg.init()
    return apt_pkg


def _files_of(version) -> list[dict]:
    return [{"archive": f.archive, "codename": f.codename, "origin": f.origin, "label": f.label}
            for f, _ in version.file_list]


def pending_security() -> list[dict]:
    """Installed packages whose candidate is newer and comes from a security suite."""
    apt_pkg = _apt()
    cache = apt_pkg.Cache(None)
    depcache = apt_pkg.DepCache(cache)
    pending = []
    for package in cache.packages:
        installed = package.current_ver
        # A package a technician holds (apt-mark hold) is theirs to upgrade: not counted as pending.
        if not installed or package.selected_state == apt_pkg.SELSTATE_HOLD:
            continue
        candidate = depcache.get_candidate_ver(package)
        if not candidate or apt_pkg.version_compare(candidate.ver_str, installed.ver_str) <= 0:
            continue
        if is_security(_files_of(candidate)):
            pending.append({"name": package.name, "arch": candidate.arch,
                            "installed": installed.ver_str, "candidate": candidate.ver_str})
    return sorted(pending, key=lambda u: (u["name"], u["arch"]))


def installed_versions() -> dict[str, str]:
    apt_pkg = _apt()
    cache = apt_pkg.Cache(None)
    return {key_of(p.name, p.current_ver.arch): p.current_ver.ver_str for p in cache.packages if p.current_ver}


def write_record(path: str, pending: list[dict], now: int | None = None) -> dict:
    """Merge PENDING into the record at PATH (written atomically) and return it."""
    try:
        with open(path, encoding="utf-8") as handle:
            previous = json.load(handle)
    except (OSError, ValueError):
        previous = {}
    record = merge_record(previous, pending, int(time.time()) if now is None else now)
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".pending.")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=1, sort_keys=True)
        handle.write("\n")
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
    return record


# The module's options; DOCUMENTATION describes each (tests/unit/test_module_docs.py keeps them equal).
ARGUMENT_SPEC = {
    "state_file": {"type": "path", "required": True},
    "apply": {"type": "bool", "default": True},
    "restart_services": {"type": "bool", "default": True},
    "lock_timeout": {"type": "int", "default": 300},
    "unattended_upgrade_log": {"type": "path", "default": "/var/log/unattended-upgrades/unattended-upgrades.log"},
}


# --- the module ---------------------------------------------------------------------------------

def run_unattended_upgrade(module, lock_timeout: int) -> None:
    deadline = time.monotonic() + lock_timeout
    environment = dict(os.environ, NEEDRESTART_SUSPEND="1", **ENVIRONMENT)
    while True:
        result = subprocess.run([UNATTENDED_UPGRADE], env=environment, capture_output=True, text=True, check=False)
        output = (result.stdout + result.stderr).strip()
        if result.returncode == 0:
            return
        if "Lock could not be acquired" in output and time.monotonic() < deadline:
            time.sleep(LOCK_RETRY_S)  # apt-daily-upgrade or a technician's apt is running
            continue
        module.fail_json(msg=f"unattended-upgrade failed ({result.returncode}): {output[-2000:]}")


def run_needrestart() -> tuple[list[str], list[str]]:
    if not os.path.exists(NEEDRESTART):
        return [], []
    result = subprocess.run([NEEDRESTART, "-r", "a"], env=dict(os.environ, **ENVIRONMENT),
                            capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    return parse_needrestart(result.stdout + result.stderr)


def log_is_stale(path: str) -> bool:
    try:
        return time.time() - os.stat(path).st_mtime > RERUN_AFTER_S
    except OSError:
        return True


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    try:
        pending = pending_security()
    except ImportError:
        module.fail_json(msg="python3-apt is not installed: cannot list the pending security updates")
    result = {"would_upgrade": pending, "upgraded": [], "restarted": [], "deferred": []}
    if module.check_mode or not params["apply"]:
        if not module.check_mode:
            write_record(params["state_file"], pending)
        module.exit_json(changed=bool(pending) and params["apply"],
                         msg=summary([], [], [], True, pending), **result)
    if not os.path.exists(UNATTENDED_UPGRADE):
        module.fail_json(msg=f"{UNATTENDED_UPGRADE} is missing: install unattended-upgrades")
    if pending or log_is_stale(params["unattended_upgrade_log"]):
        before = installed_versions()
        run_unattended_upgrade(module, params["lock_timeout"])
        result["upgraded"] = version_changes(before, installed_versions())
        if result["upgraded"] and params["restart_services"]:
            result["restarted"], result["deferred"] = run_needrestart()
    still = pending_security()
    write_record(params["state_file"], still)
    result["msg"] = summary(result["upgraded"], result["restarted"], result["deferred"], False, pending)
    if still:
        # Said loudly, but the run goes on: one stuck package must not keep the SSH, firewall and
        # login settings that come after this role from the host. UPD-001 fails once it has been
        # pending longer than the province allows.
        module.warn("unattended-upgrade left security updates pending (its log, "
                    f"{params['unattended_upgrade_log']}, says why): "
                    + ", ".join(f"{u['name']} {u['installed']} -> {u['candidate']}" for u in still))
        result["still_pending"] = still
    module.exit_json(changed=bool(result["upgraded"]), **result)


def record_main(argv: list[str]) -> int:
    """APT::Update::Post-Invoke-Success: record the pending security updates; never fails apt."""
    try:
        write_record(argv[0], pending_security())
    except Exception as error:  # noqa: BLE001  (a hook must not break `apt-get update`)
        print(f"unitctl: could not record the pending security updates: {error}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--record"] and len(sys.argv) == 3:
        sys.exit(record_main(sys.argv[2:]))
    main()

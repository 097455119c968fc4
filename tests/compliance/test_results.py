"""The units' compliance results reach the centre (roles/results_sender on the unit servers,
roles/results_intake at the centre): the transport of `unitctl evaluate --collect`."""

from __future__ import annotations

import shlex

import pytest
from server_facts import CENTRE, UNIT_SERVERS, root_run
from unit_facts import province_of

from unitctl.compliance import check
from unitctl.inventory.derived import centre_host, province_vars
from unitctl.unit_results import DEFAULT_MAX_AGE_HOURS, MAX_AGE_POLICY

FIX = "playbooks/servers.yml"
POLICY = "roles/results_sender, roles/results_intake (playbooks/servers.yml)"
CONFIG_DIR = "/etc/unitctl/results"  # results_sender_config_dir
SPOOL = "/var/spool/unitctl/results"  # results_sender_spool_dir
TIMER = "unitctl-send-results.timer"
INTAKE = "/usr/local/sbin/unitctl-results-intake"  # results_intake_script
HOMES = "/var/lib/unitctl/results-accounts"  # results_intake_home_root
DROP = "/var/lib/unitctl/collected"  # results_intake_drop_dir
ACCOUNT_PREFIX = "results-"
# The intake's answers (sysexits.h): a command other than `put NAME`, a file it refuses.
EX_USAGE, EX_DATAERR = 64, 65
# A name no run has (1970): the probe's file is refused for its content before anything is written.
PROBE_NAME = "19700101T000000Z.json"


def stat(host, path: str) -> tuple[str, int, str] | None:
    """(owner, mode, kind) of PATH as root sees it (a symbolic link itself, never followed; kind as
    stat(1) names it: "directory", "regular file", "symbolic link"), or None when it is missing."""
    found = root_run(host, f"stat -c '%U %a %F' {shlex.quote(path)}")
    if found.rc != 0:
        return None
    user, mode, kind = found.stdout.strip().split(" ", 2)
    return user, int(mode, 8), kind


def owned_by(found: tuple[str, int, str] | None, owner: str, kind: str, closed: int) -> bool:
    """PATH (`stat`'s answer) is a KIND of OWNER's with none of the CLOSED mode bits."""
    return found is not None and found[0] == owner and found[2] == kind and not found[1] & closed


@check(id="RES-001", title_en="The compliance results sender is set up: its key root's only, the centre's host key recorded, "
                              "the spool root's only, its timer enabled",
       title_fa="فرستندهٔ نتایج انطباق برپاست: کلید آن فقط از آنِ root، کلید میزبان مرکز ثبت‌شده، صف فقط برای root و "
                "زمان‌بند آن فعال",
       severity="high", applies_to=UNIT_SERVERS, policy=POLICY, fix=FIX)
def test_results_sender_set_up(host, inventory_host):
    problems = []
    spool = f"{SPOOL}/{inventory_host.unit_id}"
    for path, kind, closed in ((CONFIG_DIR, "directory", 0o077), (f"{CONFIG_DIR}/id_ed25519", "regular file", 0o077),
                               (f"{CONFIG_DIR}/known_hosts", "regular file", 0o022),
                               (f"{CONFIG_DIR}/sender.conf", "regular file", 0o022),
                               (SPOOL, "directory", 0o077), (spool, "directory", 0o077)):
        found = stat(host, path)
        if not owned_by(found, "root", kind, closed):
            seen = "missing" if found is None else f"{found[2]} of {found[0]}, mode {found[1]:o}"
            wanted = "root's alone" if closed == 0o077 else "that only root may change"
            problems.append(f"{path}: {seen} (a {kind} {wanted} is required)")
    known = root_run(host, f"grep -c '^[^#]' {CONFIG_DIR}/known_hosts")
    if known.rc != 0 or known.stdout.strip() == "0":
        problems.append("no host key of the centre is recorded: the sender cannot verify it")
    if host.run(f"systemctl is-enabled {TIMER}").stdout.strip() != "enabled":
        problems.append(f"{TIMER} is not enabled: results left in the spool are never sent again")
    elif host.run(f"systemctl is-active {TIMER}").stdout.strip() != "active":
        problems.append(f"{TIMER} is not active")
    assert not problems, "; ".join(problems)


# Two tries with the sender's own key, host key and account, against the centre the inventory names
# (not what the server's settings say): `id` (a shell would run it; the intake answers 64), and a
# file that is not results (the intake reads it and answers 65, storing nothing).
PROBES = """
ssh_try() {{ ssh -i {config}/id_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes \\
  -o UserKnownHostsFile={config}/known_hosts -o ConnectTimeout=10 -o LogLevel=ERROR -p {port} {target} "$@"; }}
said=$(ssh_try id </dev/null 2>&1 >/dev/null); echo "shell $? $(printf '%s\\n' "$said" | tail -n 1)"
said=$(echo '{{}}' | ssh_try put {name} 2>&1 >/dev/null); echo "put $? $(printf '%s\\n' "$said" | tail -n 1)"
"""


@check(id="RES-002", title_en="The unit server's results key reaches the centre's intake of its own unit, and nothing else",
       title_fa="کلید نتایج سرور واحد به پذیرش نتایج همان واحد در مرکز استان می‌رسد و به هیچ چیز دیگر نه",
       severity="high", applies_to=UNIT_SERVERS, policy=POLICY, fix=FIX)
def test_results_key_runs_the_intake_only(host, inventory_host, policy):
    """The effect, not the files: with the sender's key the centre answers as its intake does. A
    shell's `id` is refused as a usage error (64), and a file that is not this unit's results is
    refused (65): the key cannot get a shell, and the intake reads what it is sent."""
    centre = policy["province_centre"]
    if not centre:
        pytest.skip("not applicable: the inventory names no provincial centre")
    target = f"{ACCOUNT_PREFIX}{inventory_host.unit_id}@{centre['address']}"
    found = root_run(host, PROBES.format(config=CONFIG_DIR, port=int(policy["province_ssh_port"]),
                                         target=shlex.quote(target), name=PROBE_NAME))
    answers = {line.split(" ", 1)[0]: line.split(" ", 2)[1:] for line in found.stdout.splitlines() if line.strip()}
    shell = answers.get("shell", ["?", ""])
    put = answers.get("put", ["?", ""])
    assert shell[0] != "255", f"the centre cannot be reached as {target} with the results key: {' '.join(shell[1:])}"
    assert shell[0] == str(EX_USAGE) and "unitctl-results-intake" in " ".join(shell[1:]), (
        f"`id` as {target} ended with {shell[0]} ({' '.join(shell[1:]) or 'no message'}), not the intake's refusal "
        f"({EX_USAGE}): the key is not confined to the intake")
    assert put[0] == str(EX_DATAERR), (
        f"a file that is not results ended with {put[0]} ({' '.join(put[1:]) or 'no message'}), not the intake's "
        f"refusal ({EX_DATAERR})")


@check(id="RES-003", title_en="No compliance results wait in the spool longer than the evaluation counts them, and none was refused",
       title_fa="هیچ نتیجهٔ انطباقی بیش از مهلتی که ارزیابی آن را می‌شمارد در صف نمانده و هیچ کدام پس زده نشده است",
       severity="medium", applies_to=UNIT_SERVERS,
       policy=f"inventory/group_vars/all/evaluation.yml ({MAX_AGE_POLICY}); roles/results_sender", fix=FIX)
def test_results_do_not_wait(host, inventory_host, policy):
    hours = float(policy.get(MAX_AGE_POLICY, DEFAULT_MAX_AGE_HOURS))
    spool = shlex.quote(f"{SPOOL}/{inventory_host.unit_id}")
    found = root_run(host, f"test -d {spool} || exit 3; "
                           f"find {spool} -maxdepth 1 -type f -name '*.json' ! -name '.*' -mmin +{int(hours * 60)} -printf 'waits %f\\n'; "
                           f"find {spool}/refused -maxdepth 1 -type f -printf 'refused %f\\n' 2>/dev/null; true")
    assert found.rc != 3, f"there is no spool ({SPOOL}/{inventory_host.unit_id})"
    waiting = sorted(line.split(" ", 1)[1] for line in found.stdout.splitlines() if line.startswith("waits "))
    refused = sorted(line.split(" ", 1)[1] for line in found.stdout.splitlines() if line.startswith("refused "))
    problems = []
    if waiting:
        problems.append(f"{len(waiting)} results file(s) older than {hours:g} hours still wait for the centre "
                        f"({', '.join(waiting[:3])}): `journalctl -u unitctl-send-results` says why")
    if refused:
        problems.append(f"the centre refused {', '.join(refused[:3])} (kept in {SPOOL}/{inventory_host.unit_id}/refused/; "
                        "the reason is in `journalctl -u unitctl-send-results`; remove it once dealt with)")
    assert not problems, "; ".join(problems)


@check(id="RES-004", title_en="Each unit's results account at the centre runs its unit's intake only, and only it writes its drop folder",
       title_fa="حساب نتایج هر واحد در مرکز استان فقط پذیرش نتایج همان واحد را اجرا می‌کند و فقط خودش در پوشهٔ تحویل آن می‌نویسد",
       severity="high", applies_to=CENTRE, policy="roles/results_intake", fix=FIX)
def test_results_accounts_confined(host, inventory_host, request):
    province = province_of(request.config)
    centre = centre_host(province)
    if centre and centre[1]["name"] != inventory_host.name:
        pytest.skip(f"not applicable: the units send their results to {centre[1]['name']}, the province's centre")
    units = [client["name"] for client in province_vars(province)["province_results_clients"]]
    problems = []
    if not owned_by(stat(host, INTAKE), "root", "regular file", 0o022):
        problems.append(f"{INTAKE} is missing or others than root could change what the keys run")
    if not owned_by(stat(host, DROP), "root", "directory", 0o022):
        problems.append(f"{DROP} is missing or not a folder only root may change")
    for unit in units:
        account = f"{ACCOUNT_PREFIX}{unit}"
        for path, kind in ((f"{HOMES}/{unit}", "directory"), (f"{HOMES}/{unit}/.ssh", "directory"),
                           (f"{HOMES}/{unit}/.ssh/authorized_keys", "regular file")):
            if not owned_by(stat(host, path), "root", kind, 0o022):
                problems.append(f"{unit}: {path} is missing or not root's alone: the account could change its own keys")
        keys = root_run(host, f"cat {shlex.quote(f'{HOMES}/{unit}/.ssh/authorized_keys')}")
        lines = [line for line in keys.stdout.splitlines() if line.strip() and not line.startswith("#")]
        if keys.rc == 0 and not lines:
            problems.append(f"{unit}: no key is authorised (its unit server has not been provisioned since)")
        expected = f'restrict,command="{INTAKE} {unit}" '
        problems += [f"{unit}: a key is not confined to its intake: {line[:70]}" for line in lines
                     if not line.startswith(expected)]
        if not owned_by(stat(host, f"{DROP}/{unit}"), account, "directory", 0o022):
            problems.append(f"{unit}: {DROP}/{unit} is missing, or not a folder that only {account} may write")
    assert not problems, "; ".join(problems)

"""Login and PAM (roles/login_policy, roles/login_banner) on the converged lab, by behaviour.

On a CMS workstation of the court, a test account with a password (the province's staff have none:
SSH keys only, so the rules bind accounts such as root's console password): a weak new password
is refused, a strong one accepted, an earlier one refused (pwquality, pwhistory); after the
policy's number of wrong passwords the right one is refused too, until `faillock --reset`
(pam_faillock through the `login` service, as the console asks). The lab's checks BANNER-* and
LOGIN-* passing on provisioned hosts and failing on bare ones are test_converge's proofs. The
test account, its password history, its failure records and pamtester (when the test installed
it) are removed at the end.
"""

from __future__ import annotations

import secrets
import shlex

import pytest

from lab_helpers import AUTOMATION_USER, MACHINES, hosts_of, login_works, sudo_on
from unitctl.inventory.policy import load_policy
from unitctl.inventory.load import load_source
from unitctl.paths import LAB_INVENTORY

pytestmark = pytest.mark.lab
WORKSTATION = hosts_of("cms_client", "lab-court")[-1]
USER = "t.logintest"


def _strong() -> str:
    # Four classes, no dictionary word, no long sequence or repeat: pwquality accepts it.
    return f"Kq{secrets.randbelow(90) + 10}#{secrets.token_hex(5)}!Zw{secrets.randbelow(9)}"


def _root(command: str, timeout: float = 60) -> tuple[int, str]:
    return sudo_on(MACHINES[WORKSTATION], command, timeout)


def _hash() -> str:
    return _root(f"getent shadow {USER} | cut -d: -f2")[1]


@pytest.fixture(scope="module")
def policy():
    source = load_source(str(LAB_INVENTORY))
    return load_policy(source.root, source.province, lab=source.lab)


@pytest.fixture
def test_account(converged):
    """A local account with a strong password and pamtester; all of it removed afterwards."""
    status, output = _root("dpkg-query -W -f='${Status}' pamtester 2>/dev/null | grep -q 'install ok installed'; echo $?")
    installed_by_us = output.strip().endswith("1")
    if installed_by_us:
        status, output = _root("DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends pamtester",
                               timeout=120)
        assert status == 0, output
    password = _strong()
    status, output = _root(f"useradd -m -s /bin/bash {USER} && printf '%s:%s\\n' {USER} {shlex.quote(password)} | chpasswd "
                           f"&& chage --mindays 0 {USER}")
    try:
        assert status == 0, output
        yield password
    finally:
        cleanup = (f"faillock --user {USER} --reset; userdel -r {USER} 2>/dev/null; rm -f /var/run/faillock/{USER}; "
                   f"sed -i '/^{USER}:/d' /etc/security/opasswd")
        if installed_by_us:
            cleanup += "; DEBIAN_FRONTEND=noninteractive apt-get purge -y -q pamtester >/dev/null"
        # The account came and went outside the toolkit: /etc/passwd and /etc/shadow were rewritten.
        # The file integrity baseline takes them back as a provisioning run would (no daily check ran).
        cleanup += "; /usr/local/sbin/unitctl-file-integrity baseline >/dev/null"
        status, output = _root(cleanup, timeout=180)
        assert status == 0, f"the test account's clean-up failed: {output}"


def _passwd_as_user(old: str, new: str) -> bool:
    """The user changes their own password with passwd(1) (PAM's password stack); whether it succeeded."""
    answers = shlex.quote(f"{old}\n{new}\n{new}\n")
    return _root(f"printf %s {answers} | runuser -u {USER} -- passwd >/dev/null 2>&1; echo $?")[1].strip().splitlines()[-1:] == ["0"]


def test_weak_and_reused_passwords_are_refused(test_account):
    first, second = test_account, _strong()
    before = _hash()
    assert not _passwd_as_user(first, "Password12345!"), "a dictionary password was accepted"
    assert not _passwd_as_user(first, "Qm-7x!ab"), "a password shorter than the policy was accepted"
    assert _hash() == before, "the password changed although every try was refused"
    assert _passwd_as_user(first, second), "a strong new password was refused"
    assert _hash() != before
    assert not _passwd_as_user(second, first), "the previous password was accepted again (pam_pwhistory)"
    # root is bound too (enforce_for_root): chpasswd goes through PAM's password stack.
    status, _ = _root(f"printf '%s:%s\\n' {USER} 'short1A!' | chpasswd")
    assert status != 0, "root set a password shorter than the policy"


def test_failed_passwords_lock_the_account_until_reset(test_account, policy):
    deny = policy["province_login_lockout"]["deny"]
    tries = "; ".join(f"echo wrong-{i} | pamtester login {USER} authenticate >/dev/null 2>&1" for i in range(deny))
    right = f"printf '%s\\n' {shlex.quote(test_account)} | pamtester login {USER} authenticate >/dev/null 2>&1; echo $?"
    status, output = _root(f"{right}; {tries}; {right}; faillock --user {USER} --reset; {right}")
    assert status == 0, output
    before, locked, after = output.split()[-3:]
    assert before == "0", "the right password was refused before any failure"
    assert locked != "0", f"the right password was accepted after {deny} failures: the account was not locked"
    assert after == "0", "faillock --reset did not unlock the account"


def test_automation_account_still_logs_in_and_uses_sudo(converged):
    # Key logins go through PAM's account stack (pam_faillock) and sudo through its own: both still work.
    assert login_works(WORKSTATION, AUTOMATION_USER)
    status, output = _root("id -u")
    assert status == 0 and output.strip() == "0", output

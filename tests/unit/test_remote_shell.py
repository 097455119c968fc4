"""The compliance suite's remote shell loop (unitctl.remote_shell), run for real on this machine:
the same program the hosts run, its stdin and stdout on one end of a socket pair (what an SSH
channel is to it), the RemoteShell on the other. The lab tests run it over SSH on the hosts."""

from __future__ import annotations

import os
import pwd
import shlex
import socket
import subprocess

import pytest

from unitctl import remote_shell


@pytest.fixture
def loop():
    """A RemoteShell talking to a local loop started by the same command line the hosts get
    (without sudo: the tests do not run as root)."""
    shell, process = start_loop("/bin/sh")
    assert shell is not None, "the loop did not say it was ready"
    yield shell
    shell.close()
    process.wait(timeout=10)


def test_a_command_gives_its_status_and_both_outputs_apart(loop):
    assert loop.run(b"echo out; echo err >&2; exit 3") == (3, b"out\n", b"err\n")


def test_outputs_are_bytes_as_the_command_wrote_them(loop):
    status, stdout, stderr = loop.run(b"printf '\\377\\000\\r\\n'")
    assert (status, stdout, stderr) == (0, b"\xff\x00\r\n", b"")


def test_a_large_output_arrives_whole(loop):
    status, stdout, _ = loop.run(b"head -c 3000000 /dev/zero")
    assert status == 0 and stdout == bytes(3_000_000)


def test_commands_run_one_after_another_on_the_same_loop(loop):
    answers = [loop.run(f"echo {number}".encode()) for number in range(50)]
    assert answers == [(0, f"{number}\n".encode(), b"") for number in range(50)]


def test_a_command_killed_by_a_signal_reads_as_ssh_reports_it(loop):
    # sshd sends exit-signal, not a status, and paramiko's recv_exit_status() gives -1 then.
    assert loop.run(b"kill -TERM $$")[0] == -1


def test_a_command_gets_an_empty_stdin_not_the_channel(loop):
    # A command reading stdin must not swallow the next frames: it reads end-of-file at once.
    assert loop.run(b"cat; echo done") == (0, b"done\n", b"")
    assert loop.run(b"echo still here") == (0, b"still here\n", b"")


def start_loop(shell):
    ours, theirs = socket.socketpair()
    process = subprocess.Popen(["/bin/sh", "-c", remote_shell.loop_command(shell, as_root=False)],
                               stdin=theirs, stdout=theirs)
    theirs.close()
    return remote_shell.RemoteShell.greeted(ours), process


@pytest.mark.parametrize("shell", ["/bin/sh", None])
def test_commands_run_in_the_shell_sshd_or_sudo_would_use(shell):
    """As root, `/bin/sh -c` (what `sudo -n /bin/sh -c` ran); as the account, its login shell (what
    sshd runs a command with)."""
    loop, process = start_loop(shell)
    try:
        assert loop.run(b"echo $0") == (0, f"{shell or pwd.getpwuid(os.getuid()).pw_shell}\n".encode(), b"")
    finally:
        loop.close()
        process.wait(timeout=10)


def test_a_loop_that_never_says_ready_is_refused():
    ours, theirs = socket.socketpair()
    process = subprocess.Popen(["/bin/sh", "-c", "echo 'sudo: a password is required' >&2; exit 1"],
                               stdin=theirs, stdout=theirs, stderr=subprocess.DEVNULL)
    theirs.close()
    assert remote_shell.RemoteShell.greeted(ours) is None
    process.wait(timeout=10)


def test_a_loop_that_dies_mid_command_is_reported_closed(loop):
    with pytest.raises(remote_shell.RemoteShellClosed):
        loop.run(b"kill -KILL $PPID; sleep 5")


def test_the_root_loop_starts_through_sudo_without_a_password_prompt():
    command = remote_shell.loop_command("/bin/sh", as_root=True)
    argv = shlex.split(command)
    assert argv[:4] == ["sudo", "-n", "/bin/sh", "-c"]
    assert shlex.split(argv[4])[0] == "python3"

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


def start_loop(shell, env=None):
    ours, theirs = socket.socketpair()
    process = subprocess.Popen(["/bin/sh", "-c", remote_shell.loop_command(shell, as_root=False)],
                               stdin=theirs, stdout=theirs, env=env)
    theirs.close()
    return remote_shell.RemoteShell.greeted(ours), process


@pytest.mark.parametrize("shell", ["/bin/sh", None])
def test_commands_run_in_the_shell_sshd_or_sudo_would_use(shell):
    """As root, `/bin/sh -c` (what `sudo -n /bin/sh -c` ran, $0 as given); as the account, its login
    shell (what sshd runs a command with, $0 its file name alone, as its error messages show it)."""
    loop, process = start_loop(shell)
    name = shell or os.path.basename(pwd.getpwuid(os.getuid()).pw_shell)
    try:
        assert loop.run(b"echo $0") == (0, f"{name}\n".encode(), b"")
        status, _, stderr = loop.run(b"no-such-command-here")
        assert status == 127 and stderr.startswith(f"{name}: ".encode())
    finally:
        loop.close()
        process.wait(timeout=10)


@pytest.mark.parametrize("lang", ["C", None])
def test_a_c_locale_reaches_the_commands_as_it_is(lang):
    # python3 under the C locale sets LC_CTYPE=C.UTF-8 for its children (PEP 538) unless told not to:
    # sshd or sudo would have run the command with no LC_CTYPE at all.
    env = {"PATH": "/usr/bin:/bin", "HOME": "/"} | ({"LANG": lang} if lang else {})
    loop, process = start_loop("/bin/sh", env)
    try:
        assert loop.run(b'echo "${LC_CTYPE-unset} ${PYTHONCOERCECLOCALE-unset} ${LANG-unset}"') == (
            0, f"unset unset {lang or 'unset'}\n".encode(), b"")
    finally:
        loop.close()
        process.wait(timeout=10)


def test_an_interrupted_reply_is_never_read_as_the_next_commands(loop, monkeypatch):
    # Ctrl-C (or a timeout's exception) while a reply is on its way: the next command must not read it.
    real_recv = remote_shell._recv_exactly

    def interrupted(channel, size):
        raise KeyboardInterrupt

    monkeypatch.setattr(remote_shell, "_recv_exactly", interrupted)
    with pytest.raises(KeyboardInterrupt):
        loop.run(b"echo first")
    monkeypatch.setattr(remote_shell, "_recv_exactly", real_recv)
    with pytest.raises(remote_shell.RemoteShellClosed):
        loop.run(b"echo second")


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
    assert shlex.split(argv[4])[:3] == ["env", "PYTHONCOERCECLOCALE=0", "python3"]


class FakeTransport:
    def __init__(self, username):
        self.username = username

    def get_username(self):
        return self.username


class FakeClient:
    """A connection as route_testinfra_backend sees it (RemoteShell.start is replaced)."""

    def __init__(self, username="unitctl"):
        self.transport = FakeTransport(username)

    def get_transport(self):
        return self.transport


class FakeBackend:
    """The parts of testinfra's paramiko backend that route_testinfra_backend uses."""

    sudo = False

    def __init__(self, client):
        self.client = client
        self.exec_commands = []

    def encode(self, command):
        return command.encode()

    def get_command(self, command, *args):
        return command % tuple(shlex.quote(arg) for arg in args) if args else command

    def result(self, status, command, stdout, stderr):
        return status, command, stdout, stderr

    def _exec_command(self, command):
        self.exec_commands.append(command)
        return 0, b"by exec\n", b""


class FakeLoop:
    def __init__(self, client, as_root):
        self.client, self.as_root, self.closed = client, as_root, False

    def run(self, command):
        if self.closed:
            raise remote_shell.RemoteShellClosed("closed")
        return 0, b"by loop\n", b""

    def close(self):
        self.closed = True


@pytest.fixture
def started(monkeypatch):
    """Every loop route_testinfra_backend starts, as (client, as_root); a client whose transport is
    marked dead refuses, as RemoteShell.start does."""
    loops = []

    def start(client, as_root=False):
        if getattr(client, "dead", False):
            raise remote_shell.paramiko.SSHException("not connected")
        loops.append(FakeLoop(client, as_root))
        return loops[-1]

    monkeypatch.setattr(remote_shell.RemoteShell, "start", staticmethod(start))
    return loops


def test_a_new_connection_gets_its_own_loops(started):
    # The host fixture replaces backend.client after a reboot or a dropped link: root's loop, never
    # started on the old connection, must start on the new one, and the account's loop again too.
    first = FakeClient()
    backend = FakeBackend(first)
    remote_shell.route_testinfra_backend(backend)
    assert backend.run("id")[2] == b"by loop\n"
    first.dead = True
    second = FakeClient()
    backend.client = second
    assert backend.run_as_root("id")[2] == b"by loop\n"
    assert backend.run("id")[2] == b"by loop\n"
    assert [(loop.client, loop.as_root) for loop in started] == [(first, False), (second, True), (second, False)]
    assert started[0].closed and backend.exec_commands == []


def test_a_dead_connection_falls_back_to_a_channel_per_command(started):
    # The command's own channel then raises testinfra's error (here the fake answers).
    client = FakeClient()
    client.dead = True
    backend = FakeBackend(client)
    remote_shell.route_testinfra_backend(backend)
    assert backend.run_as_root("id")[2] == b"by exec\n"
    assert backend.exec_commands == [b"sudo -n /bin/sh -c id"]


def test_root_is_asked_of_the_current_connection(started):
    backend = FakeBackend(FakeClient("unitctl"))
    remote_shell.route_testinfra_backend(backend)
    backend.run_as_root("id")
    backend.client = FakeClient("root")  # a bare host, reached as root on the fallback account
    backend.run_as_root("id")
    assert [loop.as_root for loop in started] == [True, False]

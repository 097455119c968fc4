"""One long-lived shell process per host and account for the compliance suite's commands.

testinfra's paramiko backend opens an SSH channel per command: sshd forks a session and starts the
account's login shell, and a command run as root starts sudo as well (PAM, the sudo log line and,
under the province's sudo policy, a pseudo-terminal). That is tens of milliseconds per command,
and a host's checks run a few hundred commands. A `RemoteShell` starts one small Python loop on the
host over a single channel (`python3 -c`, through `sudo -n` once for root) and hands it each
command; the loop runs it exactly as sshd or sudo would have (the account's login shell, or
`/bin/sh` as root, stdin empty) and sends back the exit status and both outputs. Every check keeps
its command, verdict and evidence (tests/integration/test_converge.py compares both ways check
by check).

Frames on the channel, all integers big-endian:
    request:  u32 length, the command's bytes
    reply:    i32 exit status, u32 stdout length, u32 stderr length, stdout, stderr
    the loop says b"ready\\n" once when it starts; the channel closing ends it.

sudo logs the root loop's start (`... python3 -c ... unitctl-compliance-shell`); the loop writes
each root command to the journal (authpriv, tag unitctl-compliance, "<account> : USER=root ;
COMMAND=<command>"), so the host's record of what ran as root is as complete as before.

A host without python3, or an account sudo refuses without a password, gets no loop: its
commands go one channel each as before (`RemoteShell.start` returns None), so a refusal reads the
same as it always did.
"""

from __future__ import annotations

import base64
import shlex
import struct
import threading

import paramiko

# The loop run on the host. SHELL is the program that runs each command ("-c" follows): given
# (sudo's /bin/sh), it is also the command's $0, as sudo passes it; None, the account's login
# shell, whose $0 sshd makes the file name alone ("bash"), which also starts its error messages.
# PYTHONCOERCECLOCALE (see loop_command) is the starter's, not the host's: dropped before any command.
# AUDIT (the root loop): each command goes to the journal first (authpriv, tag unitctl-compliance),
# as sudo logged each one when it ran them one by one; sudo itself logs the loop's start.
_LOOP = r"""
import os, pwd, struct, subprocess, sys, syslog
os.environ.pop("PYTHONCOERCECLOCALE", None)
if AUDIT:
    syslog.openlog("unitctl-compliance", 0, syslog.LOG_AUTHPRIV)
read, write = sys.stdin.buffer.read, sys.stdout.buffer
shell = SHELL or pwd.getpwuid(os.getuid()).pw_shell or "/bin/sh"
argv0 = SHELL or os.path.basename(shell)
def exactly(size):
    data = b""
    while len(data) < size:
        chunk = read(size - len(data))
        if not chunk:
            sys.exit(0)
        data += chunk
    return data
write.write(b"ready\n"); write.flush()
while True:
    (size,) = struct.unpack(">I", exactly(4))
    command = exactly(size)
    if AUDIT:
        syslog.syslog(syslog.LOG_INFO, "%s : USER=root ; COMMAND=%s" % (os.environ.get("SUDO_USER", "?"),
                                                                     command.decode("utf-8", "replace")))
    done = subprocess.run([argv0, "-c", command], executable=shell, stdin=subprocess.DEVNULL, capture_output=True)
    status = done.returncode if done.returncode >= 0 else -1
    write.write(struct.pack(">iII", status, len(done.stdout), len(done.stderr)) + done.stdout + done.stderr)
    write.flush()
"""

READY = b"ready\n"
# How long a loop may take to say it is ready (python3's start-up, sudo's PAM session), in seconds.
START_TIMEOUT_S = 30.0


def sudo_command(command: str) -> str:
    """COMMAND as root through passwordless sudo, as the suite has always run it: `sudo -n` never
    waits for a password, and `/bin/sh -c` runs it whatever the account's login shell."""
    return "sudo -n /bin/sh -c " + shlex.quote(command)


def loop_command(shell: str | None, as_root: bool) -> str:
    """The command line that starts the loop on the host (shell None: the account's login shell)."""
    source = _LOOP.replace("SHELL", repr(shell)).replace("AUDIT", repr(as_root))
    encoded = base64.b64encode(source.encode()).decode()
    # PYTHONCOERCECLOCALE=0: under the C locale (no LANG, or LANG=C, as on a host never given one)
    # python3 would set LC_CTYPE=C.UTF-8 in its environment (PEP 538) and every command would
    # inherit it; `env` sets it in any login shell, and the loop drops it again.
    python = f"env PYTHONCOERCECLOCALE=0 python3 -c 'import base64; exec(base64.b64decode(\"{encoded}\"))' unitctl-compliance-shell"
    return sudo_command(python) if as_root else python


class RemoteShellClosed(paramiko.SSHException):
    """The loop's channel closed in the middle of a command (the host went away, the loop was killed)."""


class RemoteShell:
    """A command loop on one host over one SSH channel; `run` is safe to call from several threads
    (one command at a time)."""

    def __init__(self, channel):
        self.channel = channel
        self._lock = threading.Lock()
        self._broken = False

    @classmethod
    def start(cls, client: paramiko.SSHClient, as_root: bool = False) -> RemoteShell | None:
        """The loop started on CLIENT's host, as the connected account or (as_root) through
        `sudo -n`; None when it could not start (no python3, sudo wants a password): the caller
        then runs each command on a channel of its own. Raises paramiko.SSHException when the
        connection itself fails."""
        transport = client.get_transport()
        if transport is None or not transport.is_active():
            raise paramiko.SSHException("not connected")
        channel = transport.open_session()
        channel.exec_command(loop_command("/bin/sh" if as_root else None, as_root))
        return cls.greeted(channel)

    @classmethod
    def greeted(cls, channel) -> RemoteShell | None:
        """A RemoteShell over CHANNEL (anything with paramiko.Channel's settimeout, recv, sendall
        and close) once its loop has said it is ready, within START_TIMEOUT_S; None, with the
        channel closed, when it did not."""
        channel.settimeout(START_TIMEOUT_S)
        try:
            greeting = _recv_exactly(channel, len(READY))
        except (OSError, RemoteShellClosed):
            greeting = b""
        if greeting != READY:
            channel.close()
            return None
        channel.settimeout(None)  # a command may take as long as it takes, as on a channel of its own
        return cls(channel)

    def run(self, command: bytes) -> tuple[int, bytes, bytes]:
        """(exit status, stdout, stderr) of COMMAND run by the loop's shell; -1 when a signal ended it.
        Raises RemoteShellClosed when the channel closes before the reply, and from then on; any
        exception while a reply is awaited (KeyboardInterrupt too) closes the channel for good."""
        with self._lock:
            if self._broken:
                raise RemoteShellClosed("the remote shell was closed after an interrupted command")
            try:
                self.channel.sendall(struct.pack(">I", len(command)) + command)
                status, out_size, err_size = struct.unpack(">iII", _recv_exactly(self.channel, 12))
                output = _recv_exactly(self.channel, out_size + err_size)
            except BaseException:
                # A reply left half read (Ctrl-C, a timeout's exception, the channel closing) would be
                # read as the next command's: the channel is never used again.
                self._broken = True
                self.channel.close()
                raise
        return status, output[:out_size], output[out_size:]

    def close(self) -> None:
        self.channel.close()


def _recv_exactly(channel: paramiko.Channel, size: int) -> bytes:
    parts, received = [], 0
    while received < size:
        chunk = channel.recv(min(size - received, 1 << 20))
        if not chunk:
            raise RemoteShellClosed(f"the remote shell closed after {received} of {size} bytes")
        parts.append(chunk)
        received += len(chunk)
    return b"".join(parts)


def route_testinfra_backend(backend) -> None:
    """Send a connected testinfra paramiko backend's commands through remote shells.

    After this, `backend.run(command, *args)` goes through one loop as the connected account and
    `backend.run_as_root(command)` through one loop as root (the account itself when it is root;
    else `sudo -n`, started on first use). Either falls back to a channel per command when its
    loop cannot start or has closed, so errors read as testinfra's own, until the host fixture
    connects anew (backend.client replaced), whose loops start afresh. Calling it again on the
    same backend does nothing."""
    if getattr(backend, "run_as_root", None) is not None:
        return
    # The loops belong to the connection they were started on: the host fixture replaces
    # backend.client when a host comes back (a reboot, a dropped link), and the new connection
    # starts its own loops.
    shells: dict[bool, RemoteShell | None] = {}
    started_on = None  # the client the loops in `shells` run over
    lock = threading.Lock()

    def shell_for(as_root: bool) -> RemoteShell | None:
        nonlocal started_on
        with lock:
            client = backend.client
            if client is not started_on:
                for shell in shells.values():
                    if shell is not None:
                        shell.close()
                shells.clear()
                started_on = client
            if as_root not in shells:
                try:
                    shells[as_root] = RemoteShell.start(client, as_root=as_root)
                except paramiko.SSHException:
                    return None  # the connection is down: the command's own channel reports it, as testinfra's
            return shells[as_root]

    def through(as_root: bool, command: str):
        shell = shell_for(as_root)
        encoded = backend.encode(command)
        if shell is not None:
            try:
                status, stdout, stderr = shell.run(encoded)
                return backend.result(status, encoded, stdout, stderr)
            except (RemoteShellClosed, OSError):
                with lock:
                    if shells.get(as_root) is shell:
                        shells[as_root] = None  # the host went away or the loop died: a channel per command now
        if as_root:
            encoded = backend.encode(sudo_command(command))
        status, stdout, stderr = backend._exec_command(encoded)
        return backend.result(status, encoded, stdout, stderr)

    def run_as_user(command: str, *args: str, **kwargs):
        return through(False, backend.get_command(command, *args))

    def run_as_root(command: str):
        transport = backend.client.get_transport()
        is_root = transport is not None and transport.get_username() == "root"
        return through(not (is_root or backend.sudo), backend.get_command(command) if backend.sudo else command)

    backend.run = run_as_user
    backend.run_as_root = run_as_root


"""What a host's running sshd offers and accepts, asked over the network with paramiko.

`sshd -T` says what sshd would read from its files; a daemon that was not restarted after a change
still runs with the old settings. These probes ask the daemon itself: the login methods it offers
and the banner it shows before login (RFC 4252, the "none" request), and whether it agrees to a
handshake when offered only algorithms outside the province's lists, or only compression (RFC 4253
key exchange negotiation). They send no credential and do not check the host key: nothing is
learnt or given but what the server offers anyone. `forwardings_granted` is the exception: it asks
over a connection the suite has already authenticated (and checked) for every kind of forwarding.
"""

from __future__ import annotations

import logging
import socket

import paramiko
from paramiko.common import cMSG_CHANNEL_REQUEST
from paramiko.message import Message

TIMEOUT_S = 10
PROBE_USER = "unitctl-probe"
# A refused handshake is the answer sought, not an error to print: the probes log to a quiet channel.
LOG_CHANNEL = "unitctl.ssh_probe"
logging.getLogger(LOG_CHANNEL).setLevel(logging.CRITICAL + 1)
logging.getLogger(LOG_CHANNEL).propagate = False


def _transport(address: str, port: int) -> paramiko.Transport:
    transport = paramiko.Transport(socket.create_connection((address, port), timeout=TIMEOUT_S))
    transport.set_log_channel(LOG_CHANNEL)
    return transport


def greeting(address: str, port: int = 22) -> tuple[list[str], str]:
    """What sshd shows anyone before login: the authentication methods it offers (sorted names, e.g.
    ["publickey"]) and its banner (Banner; "" when none).

    Raises OSError or paramiko.SSHException when sshd cannot be reached or talked to."""
    transport = _transport(address, port)
    try:
        transport.start_client(timeout=TIMEOUT_S)
        try:
            transport.auth_none(PROBE_USER)
            methods = ["none"]
        except paramiko.BadAuthenticationType as refused:
            methods = sorted(refused.allowed_types)
        banner = transport.get_banner()  # sent before the answer to the "none" request
        return methods, (banner or b"").decode("utf-8", "replace")
    finally:
        transport.close()


def login_methods(address: str, port: int = 22) -> list[str]:
    """The authentication methods sshd offers (sorted names, e.g. ["publickey"])."""
    return greeting(address, port)[0]


def outside_policy(kind: str, allowed: list[str]) -> list[str]:
    """The algorithms of `kind` ("ciphers" or "kex") that paramiko can offer and the policy does not allow."""
    transport = paramiko.Transport(socket.socket())  # never connected: only its defaults are read
    try:
        return [name for name in getattr(transport.get_security_options(), kind) if name not in allowed]
    finally:
        transport.close()


def agrees_to(address: str, kind: str, offered: list[str], port: int = 22) -> str | None:
    """Offer sshd only `offered` algorithms of `kind` ("ciphers", "kex" or "compression").

    Returns None when sshd refuses the handshake (no algorithm in common), else what it agreed to
    (the cipher's or compression's name, or "a key exchange"). Raises OSError when sshd cannot be reached."""
    transport = _transport(address, port)
    try:
        setattr(transport.get_security_options(), kind, tuple(offered))
        try:
            transport.start_client(timeout=TIMEOUT_S)
        except (paramiko.SSHException, EOFError):
            return None
        return {"ciphers": transport.local_cipher, "compression": transport.local_compression}.get(kind, "a key exchange")
    finally:
        transport.close()


def _channel_request(channel: paramiko.Channel, request: str, *fields) -> bool:
    """Send a channel request wanting a reply (RFC 4254 5.4); True when the server grants it.

    paramiko's own request_forward_agent wants no reply, so the answer could not be known."""
    message = Message()
    message.add_byte(cMSG_CHANNEL_REQUEST)
    message.add_int(channel.remote_chanid)
    message.add_string(request)
    message.add_boolean(True)
    for field in fields:
        if isinstance(field, bool):
            message.add_boolean(field)
        elif isinstance(field, int):
            message.add_int(field)
        else:
            message.add_string(field)
    channel._event_pending()  # noqa: SLF001  (what paramiko's own requests do before sending)
    channel.transport._send_user_message(message)  # noqa: SLF001
    try:
        channel._wait_for_event()  # noqa: SLF001  (a refusal closes the channel: SSHException)
    except paramiko.SSHException:
        return False
    return True


def forwardings_granted(transport: paramiko.Transport) -> list[str]:
    """Ask an authenticated connection for each kind of forwarding; the ones sshd granted.

    A local port forward (`ssh -L`, `-W`: a direct-tcpip channel to the host's own sshd), a remote
    one (`ssh -R`: tcpip-forward on a free loopback port, cancelled at once), agent forwarding and
    X11 forwarding (requests on a session channel that runs nothing)."""
    granted = []
    try:
        channel = transport.open_channel("direct-tcpip", ("127.0.0.1", 22), ("127.0.0.1", 0), timeout=TIMEOUT_S)
    except (paramiko.ChannelException, paramiko.SSHException):
        pass
    else:
        channel.close()
        granted.append("a local port forward (direct-tcpip)")
    try:
        port = transport.request_port_forward("127.0.0.1", 0)
    except paramiko.SSHException:
        pass
    else:
        transport.cancel_port_forward("127.0.0.1", port)
        granted.append("a remote port forward (tcpip-forward)")
    session = transport.open_session(timeout=TIMEOUT_S)
    try:
        if _channel_request(session, "auth-agent-req@openssh.com"):
            granted.append("agent forwarding")
    finally:
        session.close()
    session = transport.open_session(timeout=TIMEOUT_S)
    try:
        if _channel_request(session, "x11-req", False, "MIT-MAGIC-COOKIE-1", "00" * 16, 0):
            granted.append("X11 forwarding")
    finally:
        session.close()
    return granted

"""What a host's running sshd offers and accepts, asked over the network with paramiko.

`sshd -T` says what sshd would read from its files; a daemon that was not restarted after a change
still runs with the old settings. These probes ask the daemon itself: the login methods it offers
(RFC 4252, the "none" request), and whether it agrees to a handshake when offered only algorithms
outside the province's lists (RFC 4253 key exchange negotiation). They send no credential and do
not check the host key: nothing is learnt or given but what the server offers anyone.
"""

from __future__ import annotations

import logging
import socket

import paramiko

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


def login_methods(address: str, port: int = 22) -> list[str]:
    """The authentication methods sshd offers (sorted names, e.g. ["publickey"]).

    Raises OSError or paramiko.SSHException when sshd cannot be reached or talked to."""
    transport = _transport(address, port)
    try:
        transport.start_client(timeout=TIMEOUT_S)
        try:
            transport.auth_none(PROBE_USER)
        except paramiko.BadAuthenticationType as refused:
            return sorted(refused.allowed_types)
        return ["none"]
    finally:
        transport.close()


def outside_policy(kind: str, allowed: list[str]) -> list[str]:
    """The algorithms of `kind` ("ciphers" or "kex") that paramiko can offer and the policy does not allow."""
    transport = paramiko.Transport(socket.socket())  # never connected: only its defaults are read
    try:
        return [name for name in getattr(transport.get_security_options(), kind) if name not in allowed]
    finally:
        transport.close()


def agrees_to(address: str, kind: str, offered: list[str], port: int = 22) -> str | None:
    """Offer sshd only `offered` algorithms of `kind` ("ciphers" or "kex").

    Returns None when sshd refuses the handshake (no algorithm in common), else what it agreed to
    (the cipher's name, or "a key exchange"). Raises OSError when sshd cannot be reached."""
    transport = _transport(address, port)
    try:
        setattr(transport.get_security_options(), kind, tuple(offered))
        try:
            transport.start_client(timeout=TIMEOUT_S)
        except (paramiko.SSHException, EOFError):
            return None
        return transport.local_cipher if kind == "ciphers" else "a key exchange"
    finally:
        transport.close()

"""An SMB2 NEGOTIATE probe (Python's standard library only) that checks run on the server itself:
what the server demands before anyone logs in, with no Samba client needed and no account.

The server's NEGOTIATE answer carries its security mode (SMB2_NEGOTIATE_SIGNING_REQUIRED, 0x02) and
its capabilities (SMB2_GLOBAL_CAP_ENCRYPTION, 0x40) ([MS-SMB2] 2.2.4). Offered only SMB 2.x
dialects, which cannot encrypt, a server that requires SMB3 answers with an error or closes the
connection. Encryption being *required* shows only after a login (the session's ENCRYPT_DATA flag):
smbstatus shows it for the sessions that are open, and the lab test logs in.
"""

from __future__ import annotations

import shlex

# Prints two lines: "smb3 dialect=0x0302 signing_required=1 encryption=1" (or "smb3 error ...")
# and "smb2 closed" / "smb2 status=0x..." (refused) or "smb2 dialect=0x0210 ..." (accepted).
NEGOTIATE = r"""
import socket, struct, sys
def negotiate(host, dialects):
    header = b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ16s", 64, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, b"")
    body = struct.pack("<HHHHI16sQ", 36, len(dialects), 1, 0, 0x40, b"unitctl-check-00", 0)
    message = header + body + struct.pack("<%dH" % len(dialects), *dialects)
    with socket.create_connection((host, 445), timeout=5) as conn:
        conn.sendall(struct.pack(">I", len(message)) + message)
        data = b""
        while len(data) < 4 or len(data) < 4 + (struct.unpack(">I", data[:4])[0] & 0xFFFFFF):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    if len(data) < 4 + 64 + 32:
        return "closed"
    status = struct.unpack("<I", data[12:16])[0]
    if status:
        return "status=0x%08x" % status
    mode, dialect = struct.unpack("<HH", data[70:74])
    caps = struct.unpack("<I", data[92:96])[0]
    return "dialect=0x%04x signing_required=%d encryption=%d" % (dialect, bool(mode & 2), bool(caps & 0x40))
for name, dialects in (("smb3", [0x0300, 0x0302]), ("smb2", [0x0202, 0x0210])):
    try:
        print(name, negotiate(sys.argv[1], dialects))
    except OSError as error:
        print(name, "error", error)
"""


def negotiate_command(server: str) -> str:
    return f"python3 -c {shlex.quote(NEGOTIATE)} {shlex.quote(server)}"


def parse(output: str) -> dict[str, dict[str, str] | str]:
    """{'smb3': {'dialect': ..., 'signing_required': '1', ...} or 'closed'/'error ...', 'smb2': ...}"""
    found: dict[str, dict[str, str] | str] = {}
    for line in output.splitlines():
        name, _, rest = line.partition(" ")
        if "=" in rest and not rest.startswith(("status=", "error")):
            found[name] = dict(item.split("=", 1) for item in rest.split())
        else:
            found[name] = rest
    return found

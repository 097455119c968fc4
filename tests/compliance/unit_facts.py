"""The inventory's facts about a unit, for checks that compare a host with its unit's data.

Also a tiny DNS client (Python's standard library only) that checks run on the host itself, so
no DNS tool has to be installed on a server just to be checked.
"""

from __future__ import annotations

import functools
import shlex
from pathlib import Path


from unitctl.inventory.load import load_source


@functools.lru_cache(maxsize=8)
def _province(inventory: str):
    source = Path(inventory).resolve()
    return load_source(source).province


def unit_of(config, unit_id: str):
    """The unit (unitctl.inventory.load.Unit) a host belongs to."""
    for unit in _province(config.option.inventory).units:
        if unit.id == unit_id:
            return unit
    raise LookupError(unit_id)


def province_of(config):
    return _province(config.option.inventory)


# Sends one query to SERVER and prints the answers' data (A: addresses, PTR: names), one a line;
# exit status 3 when the server answers with an error code, 4 when it does not answer.
DNS_QUERY = r"""
import random, socket, struct, sys
server, name, qtype = sys.argv[1], sys.argv[2], {'A': 1, 'PTR': 12}[sys.argv[3]]
ident = random.randrange(65536)
question = b''.join(bytes([len(p)]) + p.encode() for p in name.rstrip('.').split('.')) + b'\0'
packet = struct.pack('>HHHHHH', ident, 0x0100, 1, 0, 0, 0) + question + struct.pack('>HH', qtype, 1)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); sock.settimeout(3)
try:
    # connected, so a closed port's ICMP refusal ends the wait at once instead of after the timeout
    sock.connect((server, 53)); sock.send(packet); data = sock.recv(4096)
except OSError:
    sys.exit(4)
def read_name(offset):
    labels = []
    while True:
        length = data[offset]
        if length & 0xC0 == 0xC0:
            return labels + read_name(((length & 0x3F) << 8) | data[offset + 1])[0], offset + 2
        if length == 0:
            return labels, offset + 1
        labels.append(data[offset + 1:offset + 1 + length].decode()); offset += 1 + length
def skip(offset):
    return read_name(offset)[1]
flags, qd, an = struct.unpack('>HHH', data[2:8])[0], *struct.unpack('>HH', data[4:8])
if flags & 0xF:
    sys.exit(3)
offset = 12
for _ in range(qd):
    offset = skip(offset) + 4
for _ in range(an):
    offset = skip(offset)
    rtype, _, _, length = struct.unpack('>HHIH', data[offset:offset + 10]); offset += 10
    if rtype == 1:
        print(socket.inet_ntoa(data[offset:offset + 4]))
    elif rtype == 12:
        print('.'.join(read_name(offset)[0]))
    offset += length
"""


def dns_query_command(server: str, name: str, qtype: str = "A") -> str:
    return "python3 -c " + " ".join(shlex.quote(part) for part in (DNS_QUERY, server, name, qtype))


def reverse_name(address: str) -> str:
    return ".".join(reversed(address.split("."))) + ".in-addr.arpa"

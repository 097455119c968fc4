"""Writing a file so that a reader sees the old one or the new one whole, never half of it."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def write_atomic(target: Path, data: bytes, mode: int | None = None) -> Path:
    """Write `data` to `target` through a temporary file in the same folder, synced, given `mode`,
    then renamed over `target` (rename(2) replaces a name in one step); the folder is synced too,
    so the new name survives a power cut. A reader (a web server publishing the latest report, the
    centre reading a unit's results) never sees a partly written file. The temporary file is named
    `.<name>.<random>.tmp` and is removed on any failure. `mode` None: the mode the file has now,
    else what the process's umask gives a new file (0640 under the CIS umask 027), as open() would.
    Returns `target`; raises OSError."""
    target = Path(target)
    if mode is None:
        mode = _current_or_default_mode(target)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return target


def _current_or_default_mode(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask

"""Writing a file so that a reader sees the old one or the new one whole, never half of it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(target: Path, data: bytes, mode: int = 0o644) -> Path:
    """Write `data` to `target` through a temporary file in the same folder, synced, given `mode`,
    then renamed over `target` (rename(2) replaces a name in one step); the folder is synced too,
    so the new name survives a power cut. A reader (a web server publishing the latest report, the
    centre reading a unit's results) never sees a partly written file. The temporary file is named
    `.<name>.<random>.tmp` and is removed on any failure. Returns `target`; raises OSError."""
    target = Path(target)
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

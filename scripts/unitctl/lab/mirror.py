"""The lab's package mirror: a private apt-cacher-ng instance on the lab bridge address.

It stands in for the provincial package mirror. It has its own configuration (copied from the
system's, with a Debian backend that resolves here), its own cache under the lab cache (so
packages survive `lab down`) and its own socket, log and pid file under the lab state, so the
system's apt-cacher-ng instance is never touched.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from unitctl import paths
from unitctl.lab.net import MIRROR_ADDRESS, MIRROR_PORT
from unitctl.lab.proc import LabError, LabProcess, spawn, stop

SYSTEM_CONFIG = Path("/etc/apt-cacher-ng")
PORT = MIRROR_PORT
DEBIAN_BACKEND = "http://deb.debian.org/debian/\n"


def state_dir() -> Path:
    return paths.LAB_STATE_DIR / "mirror"


def pid_file() -> Path:
    return state_dir() / "apt-cacher-ng.pid"


def _write_config() -> Path:
    config = state_dir() / "conf"
    if config.exists():
        shutil.rmtree(config)
    shutil.copytree(SYSTEM_CONFIG, config)
    (config / "backends_debian").write_text(DEBIAN_BACKEND)
    cache = paths.LAB_CACHE_DIR / "apt-cacher-ng"
    logs = state_dir() / "log"
    for directory in (cache, logs):
        directory.mkdir(parents=True, exist_ok=True)
    # Read last, so these win over the copied defaults.
    (config / "zzzz_unitlab.conf").write_text(
        f"CacheDir: {cache}\nLogDir: {logs}\nPidFile: {pid_file()}\n"
        f"SocketPath: {state_dir() / 'socket'}\nBindAddress: {MIRROR_ADDRESS}\nPort: {PORT}\n"
        "ForeGround: 1\n"
    )
    return config


def start(timeout: float = 15) -> LabProcess:
    """Start the mirror and wait until it listens (apt-cacher-ng stays up even when it cannot
    bind its port, so listening is checked, not just being alive)."""
    config = _write_config()
    process = spawn(["apt-cacher-ng", "-c", str(config)], state_dir() / "apt-cacher-ng.out")
    deadline = time.monotonic() + timeout
    while not listening(process):
        if not process.alive() or time.monotonic() > deadline:
            stop([process], grace_s=2)
            raise LabError(f"apt-cacher-ng could not listen on {MIRROR_ADDRESS}:{PORT}; "
                           f"see {state_dir()}")
        time.sleep(0.1)
    return process


def listening(process: LabProcess) -> bool:
    return process.alive() and process.listens_on(MIRROR_ADDRESS, PORT)


def orphan() -> LabProcess | None:
    """Our instance from a run whose state file was lost: found by its pid file, checked by
    its command line naming our configuration, so no other apt-cacher-ng is ever picked."""
    try:
        pid = int(pid_file().read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError, IndexError):
        return None
    if str(state_dir() / "conf") not in cmdline:
        return None
    return LabProcess.of(pid)

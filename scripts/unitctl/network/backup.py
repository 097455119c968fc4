"""Running configs, versioned in a git repository (as Oxidized does): one folder per unit.

What is stored has its volatile lines stripped (so a new commit means a real change) and its
secrets masked (so the repository can be read by anyone who may read configs). One commit per
run names the units and the devices that changed; a run that changed nothing commits nothing.
Several runs (Ansible forks) may commit at once: commits are serialised with a file lock.
"""

from __future__ import annotations

import fcntl
import subprocess
from collections import defaultdict
from pathlib import Path

from unitctl.network.platforms import Platform, mask_secrets, strip_volatile

GIT_IDENTITY = ["-c", "user.name=unitctl", "-c", "user.email=unitctl@localhost"]


def backup_text(platform: Platform, running: str) -> str:
    return mask_secrets(platform, strip_volatile(platform, running))


class BackupRepository:
    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()

    def _git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *GIT_IDENTITY, "-C", str(self.path), *args], capture_output=True,
                              text=True, check=check, timeout=60)

    def ensure(self) -> "BackupRepository":
        if not (self.path / ".git").exists():
            self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._git("init", "-q", "-b", "main")
        return self

    def file(self, unit_id: str, device: str) -> Path:
        return self.path / unit_id / f"{device}.cfg"

    def store(self, unit_id: str, device: str, text: str) -> bool:
        """Write one device's backup; True when it differs from the last one stored."""
        path = self.file(unit_id, device)
        if path.exists() and path.read_text() == text:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return True

    def commit(self, what: str, devices: list[tuple[str, str]]) -> str | None:
        """Commit the given (unit, device) files; None when none of them changed."""
        if not devices:
            return None
        with open(self.path / ".git" / "unitctl.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            files = [str(self.file(unit, device).relative_to(self.path)) for unit, device in devices]
            self._git("add", "--", *files)
            if self._git("diff", "--cached", "--quiet", "--", *files, check=False).returncode == 0:
                return None
            by_unit: dict[str, list[str]] = defaultdict(list)
            for unit, device in sorted(devices):
                by_unit[unit].append(device)
            summary = "; ".join(f"{unit}: {', '.join(names)}" for unit, names in by_unit.items())
            self._git("commit", "-q", "-m", f"{what}: {summary}", "--", *files)
            return self._git("rev-parse", "HEAD").stdout.strip()

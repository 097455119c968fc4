"""The lab's base root filesystems: a bare Debian "province machine" per release (12 bookworm,
13 trixie), each built once, when a lab host first needs it, and cached.

Every lab host boots an overlay of its release's directory, so it is never written after it is built.
The build happens in a temporary directory renamed into place at the very end: an interrupted
build leaves only a `*.partial` directory, which the next build deletes, never a half cache.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from unitctl import paths
from unitctl.lab.net import MIRROR_ADDRESS, MIRROR_PORT
from unitctl.lab.proc import LabError, run
from unitctl.releases import DEBIAN_RELEASES

# A lab host's release when the lab inventory names none (as province_debian_release_default).
DEFAULT_RELEASE = 12

UPSTREAM_MIRROR = "http://deb.debian.org/debian"
UPSTREAM_SECURITY = "http://deb.debian.org/debian-security"
# python3-apt: Ansible's apt module needs it, in check mode too; a Debian server install has it.
PACKAGES = "systemd,systemd-sysv,dbus,openssh-server,python3,python3-apt,sudo,iproute2"
# Bump when the customisation below changes, so an older cached base is not reused.
BASE_REVISION = 4
DEBOOTSTRAP_ATTEMPTS = 3
DEBOOTSTRAP_TIMEOUT_S = 1200
UPDATE_TIMEOUT_S = 900


def installer_sources(suite: str) -> str:
    """What the Debian installer sets up with a network mirror (apt-setup: security and updates),
    and so what a freshly installed server has applied at first boot: the base gets the same, once."""
    return (f"deb {UPSTREAM_MIRROR} {suite} main\n"
            f"deb {UPSTREAM_MIRROR} {suite}-updates main\n"
            f"deb {UPSTREAM_SECURITY} {suite}-security main\n")


# Services must not start inside the build (invoke-rc.d asks this; 101: action not allowed).
NO_SERVICE_STARTS = "#!/bin/sh\nexit 101\n"

LAB_MIRROR_URL = f"http://{MIRROR_ADDRESS}:{MIRROR_PORT}"


def apt_sources(suite: str) -> str:
    """A bare machine's sources: the provincial package mirror (in the lab: apt-cacher-ng on the
    lab bridge), as a unit's installer would have been pointed at it."""
    return ("# The provincial package mirror (in the lab: apt-cacher-ng on the lab bridge).\n"
            f"deb {LAB_MIRROR_URL}/debian {suite} main\n"
            f"deb {LAB_MIRROR_URL}/debian {suite}-updates main\n"
            f"deb {LAB_MIRROR_URL}/debian-security {suite}-security main\n")


NO_DNS = "# No DNS server in the lab: hosts are reached by address.\n"
# Lab only: dpkg skips its fsync of every unpacked file (2-3x faster installs here, where seven
# hosts install at once on two cores). A crash can leave a half-written package; a lab host is
# rebuilt from this base instead. The toolkit never sets this on a real host.
DPKG_LAB_SPEED = """\
# Lab stand-in only (unitctl.lab.base): no fsync per unpacked file; a lab host is disposable.
force-unsafe-io
"""


def base_dir(release: int = DEFAULT_RELEASE) -> Path:
    """Where the base of a Debian major release is cached. Raises KeyError for a release the
    toolkit does not support (unitctl.releases.DEBIAN_RELEASES)."""
    return paths.LAB_CACHE_DIR / f"base-{DEBIAN_RELEASES[release]}-r{BASE_REVISION}"


def ensure_base(progress=print, release: int = DEFAULT_RELEASE) -> Path:
    """The cached base root filesystem of `release` (12, 13), built first if there is none."""
    suite = DEBIAN_RELEASES[release]
    base = base_dir(release)
    if base.is_dir():
        return base
    base.parent.mkdir(parents=True, exist_ok=True)
    for stale in base.parent.glob(f"{base.name}.partial*"):
        shutil.rmtree(stale)
    partial = base.parent / f"{base.name}.partial"
    started = time.monotonic()
    progress(f"building the base root filesystem in {base} (once; takes about a minute)")
    _debootstrap(partial, suite, progress)
    _apply_installer_updates(partial, suite, progress)
    make_province_machine(partial, suite)
    partial.rename(base)
    progress(f"base root filesystem ready in {time.monotonic() - started:.0f} s")
    return base


def _debootstrap(target: Path, suite: str, progress) -> None:
    """Run debootstrap, retrying network failures; downloaded packages survive the retries."""
    package_cache = paths.LAB_CACHE_DIR / "debootstrap-debs"
    package_cache.mkdir(parents=True, exist_ok=True)
    cmd = ["debootstrap", "--variant=minbase", f"--include={PACKAGES}",
           f"--cache-dir={package_cache}", suite, str(target), UPSTREAM_MIRROR]
    for attempt in range(1, DEBOOTSTRAP_ATTEMPTS + 1):
        try:
            run(cmd, timeout=DEBOOTSTRAP_TIMEOUT_S)
            return
        except LabError as error:
            if attempt == DEBOOTSTRAP_ATTEMPTS:
                raise
            progress(f"debootstrap attempt {attempt} failed, retrying: {str(error)[-300:]}")
            shutil.rmtree(target, ignore_errors=True)
            time.sleep(5 * attempt)


def _apply_installer_updates(root: Path, suite: str, progress) -> None:
    """The day's security and stable updates, applied as the Debian installer applies them during an
    install from a network mirror: a lab host then starts as a freshly installed server does, and
    only updates published after the base was built are pending when the toolkit first runs
    (roles/security_updates applies those). Runs the tree's own apt in systemd-nspawn (the build
    machine's network, no services started); retried like debootstrap.
    Raises LabError when apt fails every attempt."""
    sources = root / "etc/apt/sources.list"
    sources.write_text(installer_sources(suite))
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text(NO_SERVICE_STARTS)
    policy.chmod(0o755)
    command = ("apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -q -y "
               "-o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-unsafe-io upgrade && apt-get clean")
    try:
        for attempt in range(1, DEBOOTSTRAP_ATTEMPTS + 1):
            try:
                run(["systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--settings=no",
                     "--resolv-conf=copy-host", "--as-pid2",
                     "-D", str(root), "sh", "-c", command], timeout=UPDATE_TIMEOUT_S)
                return
            except LabError as error:
                if attempt == DEBOOTSTRAP_ATTEMPTS:
                    raise
                progress(f"applying the updates, attempt {attempt} failed, retrying: {str(error)[-300:]}")
                time.sleep(5 * attempt)
    finally:
        policy.unlink(missing_ok=True)


def make_province_machine(root: Path, suite: str) -> None:
    """Turn a fresh debootstrap into a bare machine of the province, as a unit would get it."""
    (root / "etc/apt/sources.list").write_text(apt_sources(suite))
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()  # each lab host gets its own keys
    resolv = root / "etc/resolv.conf"
    resolv.unlink(missing_ok=True)  # debootstrap copied the build machine's
    resolv.write_text(NO_DNS)
    (root / "etc/dpkg/dpkg.cfg.d/unitctl-lab-unsafe-io").write_text(DPKG_LAB_SPEED)
    # Identity comes per host (written into each host's overlay).
    (root / "etc/hostname").unlink(missing_ok=True)
    (root / "etc/machine-id").write_text("")
    for deb in (root / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()

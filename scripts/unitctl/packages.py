"""Which of a role's packages a run still has to hand to apt (the `packages_to_install` filter).

A rerun used to open apt's cache once per role only to learn that everything was installed. The
run now reads the host's package list once (playbooks/connect.yml: dpkg-query, the packages whose
status is "installed", as "name:architecture"), and each role's install task runs only when
something it names is missing from that list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# What apt may be given besides a plain name, and which only apt can judge against the host:
# a version ("name=1.2*"), a release ("name/bookworm-backports"), a pattern, a .deb file.
_APT_DECIDES = ("=", "/", "*", "?", "[")


def packages_to_install(names: str | Iterable[str], installed: Iterable[str] | None,
                        package_list_read: bool = False) -> list[str]:
    """The names among NAMES that apt must still be asked about, in their order.

    names: a package name or a list of them as the apt module takes them ("chrony",
        "libc6:i386", "firefox-esr=115*", "./local.deb").
    installed: the host's installed packages as "name:architecture" ("chrony:amd64",
        "tzdata:all"), as connect.yml reads them; None or empty when the list was not read.
    package_list_read: whether the list was read during this run (connect.yml says so; a role
        that removed packages says it no longer holds). Without it every name is returned and apt
        decides.

    A plain name is returned when no architecture of it is installed; "name:arch" when that
    architecture is not; a name with a version, release or pattern, or a file, is always returned
    (only apt can compare it with the host). Raises TypeError for a name that is not a string."""
    wanted = [names] if isinstance(names, str) else list(names)
    for name in wanted:
        if not isinstance(name, str):
            raise TypeError(f"a package name must be a string, not {name!r}")
    if not package_list_read or not installed:
        return wanted
    architectures: dict[str, set[str]] = {}
    for entry in installed:
        package, _, arch = str(entry).partition(":")
        architectures.setdefault(package, set()).add(arch)
    return [name for name in wanted if not _installed(name, architectures)]


def _installed(name: str, architectures: Mapping[str, set[str]]) -> bool:
    if name.endswith(".deb") or any(mark in name for mark in _APT_DECIDES):
        return False
    package, _, arch = name.partition(":")
    return package in architectures and (not arch or arch in architectures[package])

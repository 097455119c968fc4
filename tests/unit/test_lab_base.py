"""The lab's bare "province machine" made from a debootstrap (unitctl.lab.base), on a fake tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from unitctl.lab import base


def fake_debootstrap(root: Path) -> Path:
    for folder in ("etc/apt", "etc/ssh", "etc/dpkg/dpkg.cfg.d", "var/cache/apt/archives"):
        (root / folder).mkdir(parents=True)
    (root / "etc/ssh/ssh_host_ed25519_key").write_text("builder's key")
    (root / "etc/resolv.conf").write_text("nameserver 192.0.2.1\n")
    (root / "etc/hostname").write_text("builder\n")
    (root / "etc/machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    (root / "var/cache/apt/archives/sudo_1.9.13p3-1+deb12u1_amd64.deb").write_bytes(b"!<arch>")
    return root


@pytest.mark.parametrize("suite", ["bookworm", "trixie"])
def test_the_province_machine_has_the_lab_mirror_and_nothing_of_the_builder(tmp_path, suite):
    root = fake_debootstrap(tmp_path / "root")
    base.make_province_machine(root, suite)
    sources = (root / "etc/apt/sources.list").read_text()
    assert f"deb {base.LAB_MIRROR_URL}/debian-security {suite}-security main" in sources
    assert f"deb {base.LAB_MIRROR_URL}/debian {suite}-updates main" in sources
    assert not list((root / "etc/ssh").glob("ssh_host_*")), "every lab host makes its own host keys"
    assert "192.0.2.1" not in (root / "etc/resolv.conf").read_text()
    assert not (root / "etc/hostname").exists() and (root / "etc/machine-id").read_text() == ""
    assert not list((root / "var/cache/apt/archives").glob("*.deb"))


def test_dpkg_skips_fsync_only_in_the_lab_base(tmp_path):
    root = fake_debootstrap(tmp_path / "root")
    base.make_province_machine(root, "bookworm")
    speed = (root / "etc/dpkg/dpkg.cfg.d/unitctl-lab-unsafe-io").read_text().splitlines()
    assert "force-unsafe-io" in speed
    # A base made before this setting must not be reused: the revision is part of its folder name.
    assert base.base_dir().name == f"base-bookworm-r{base.BASE_REVISION}" and base.BASE_REVISION >= 4
    # Each release has its own cached base, side by side.
    assert base.base_dir(13).name == f"base-trixie-r{base.BASE_REVISION}"
    with pytest.raises(KeyError):
        base.base_dir(11)


def test_the_base_gets_the_installers_updates_and_no_service_starts_are_left_behind(tmp_path, monkeypatch):
    """As the Debian installer with a network mirror: security and stable updates applied once in the
    build, with services kept from starting; the policy-rc.d that keeps them is gone afterwards, even
    when every attempt failed (the next build starts again from debootstrap)."""
    root = fake_debootstrap(tmp_path / "root")
    (root / "usr/sbin").mkdir(parents=True)
    commands = []

    def apt_in_the_tree(cmd, timeout):
        assert (root / "usr/sbin/policy-rc.d").read_text() == base.NO_SERVICE_STARTS
        commands.append(cmd)
        raise base.LabError("apt-get update failed (100): temporary failure")

    monkeypatch.setattr(base, "run", apt_in_the_tree)
    monkeypatch.setattr(base.time, "sleep", lambda seconds: None)
    with pytest.raises(base.LabError):  # a build whose updates failed does not go on
        base._apply_installer_updates(root, "bookworm", lambda message: None)
    assert len(commands) == base.DEBOOTSTRAP_ATTEMPTS
    assert "upgrade" in commands[0][-1] and "--force-confold" in commands[0][-1]
    assert not (root / "usr/sbin/policy-rc.d").exists()
    sources = (root / "etc/apt/sources.list").read_text()
    assert f"deb {base.UPSTREAM_SECURITY} bookworm-security main" in sources
    assert f"deb {base.UPSTREAM_MIRROR} bookworm-updates main" in sources
    base.make_province_machine(root, "bookworm")  # then the lab mirror only, as before
    assert base.UPSTREAM_MIRROR not in (root / "etc/apt/sources.list").read_text()

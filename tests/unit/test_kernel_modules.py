"""Kernel modules and parameters, offline: the policy decision (unitctl.kernel_policy), the role's
modprobe.d file judged by the real modprobe against a fake module tree (what the lab's containers,
which have no module tree and share the host's kernel, cannot show), and roles/base's sysctl
baseline against the benchmark's values, applied by the real sysctl in a throwaway network namespace."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml

from unitctl import kernel_policy
from unitctl.paths import PROJECT_ROOT

KERNEL_POLICY = yaml.safe_load((PROJECT_ROOT / "inventory/group_vars/all/kernel.yml").read_text(encoding="utf-8"))
UNUSED = KERNEL_POLICY["province_kernel_modules_unused"]
REMOVABLE = KERNEL_POLICY["province_removable_media_modules"]
MODPROBE = shutil.which("modprobe") or "/usr/sbin/modprobe"
DEPMOD = shutil.which("depmod") or "/usr/sbin/depmod"
SYSCTL = shutil.which("sysctl") or "/usr/sbin/sysctl"
VERSION = "6.1.0-99-unitctl-test"
# The modalias a USB stick announces (interface class 8 mass storage, subclass 6 SCSI, protocol
# 0x50 bulk-only), as udev hands it to modprobe when the stick is plugged in.
USB_STICK = "usb:v0781p5567d0100dc00dsc00dp00ic08isc06ip50in00"


def decide(host="court-ws1", profile="branch_clerk", hosts=(), profiles=()):
    return kernel_policy.unavailable_modules(host, profile, UNUSED, REMOVABLE, list(hosts), list(profiles),
                                             ["registry_office", "branch_clerk", "scanning_station"])


def test_every_host_loses_the_unused_modules_and_removable_media_unless_allowed():
    assert decide() == UNUSED + REMOVABLE
    assert decide(host="court-srv", profile=None) == UNUSED + REMOVABLE  # a server has no profile
    assert decide(hosts=["court-ws1"]) == UNUSED
    assert decide(profiles=["branch_clerk"]) == UNUSED
    assert decide(profiles=["scanning_station"]) == UNUSED + REMOVABLE
    assert decide(host="court-srv", profile=None, profiles=["branch_clerk"]) == UNUSED + REMOVABLE


def test_a_module_named_twice_or_with_dash_and_underscore_is_listed_once():
    assert kernel_policy.unavailable_modules("h", None, ["usb-storage", "sctp"], ["usb_storage", "uas"], [], []) \
        == ["usb-storage", "sctp", "uas"]


@pytest.mark.parametrize("bad", [["usb-storage /bin/true"], ["../x"], ["Cramfs"], "cramfs", [3]])
def test_a_value_that_is_not_a_module_name_is_refused(bad):
    with pytest.raises(ValueError, match="province_kernel_modules_unused"):
        kernel_policy.unavailable_modules("h", None, bad, [], [], [])


def test_an_allowed_profile_that_does_not_exist_is_refused():
    with pytest.raises(ValueError, match="branch_clerck"):
        decide(profiles=["branch_clerck"])


def fake_module(name: str, aliases: tuple[str, ...] = ()) -> bytes:
    """A kernel module file as depmod reads it: an ELF object whose .modinfo has name= and alias=."""
    info = b"".join(f"{key}={value}".encode() + b"\0" for key, value in [("name", name)] + [("alias", a) for a in aliases])
    names = b"\0.modinfo\0.shstrtab\0"
    info_at, names_at = 64, 64 + len(info)
    headers_at = (names_at + len(names) + 7) & ~7
    elf = struct.pack("<4s5B7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, bytes(7),
                      1, 62, 1, 0, 0, headers_at, 0, 64, 0, 0, 64, 3, 2) + info + names
    section = struct.Struct("<IIQQQQIIQQ")
    return (elf + bytes(headers_at - len(elf)) + section.pack(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            + section.pack(1, 1, 2, 0, info_at, len(info), 0, 0, 1, 0)
            + section.pack(10, 3, 0, 0, names_at, len(names), 0, 0, 1, 0))


@pytest.fixture(scope="module")
def module_tree(tmp_path_factory) -> Path:
    """/lib/modules/<version> with every module of the policy (fs-<name> aliases for the file
    systems, usb-storage's mass-storage alias), indexed by the real depmod."""
    if not (Path(MODPROBE).exists() and Path(DEPMOD).exists()):
        pytest.skip("kmod (modprobe, depmod) is not installed here")
    root = tmp_path_factory.mktemp("modules")
    folder = root / "lib" / "modules" / VERSION / "kernel"
    folder.mkdir(parents=True)
    for module in UNUSED + REMOVABLE:
        name = kernel_policy.canonical(module)
        aliases = (f"fs-{module}",) + (("usb:v*p*d*dc*dsc*dp*ic08isc06ip50in*",) if name == "usb_storage" else ())
        (folder / f"{module}.ko").write_bytes(fake_module(name, aliases))
    subprocess.run([DEPMOD, "-b", str(root), VERSION], check=True, capture_output=True)
    return root


def render_role_file(tmp_path: Path, modules: list[str]) -> Path:
    templates = PROJECT_ROOT / "roles" / "kernel_modules" / "templates"
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), undefined=jinja2.StrictUndefined)
    folder = tmp_path / "modprobe.d"
    folder.mkdir()
    (folder / "unitctl-unavailable.conf").write_text(environment.get_template("unavailable.conf.j2").render(
        ansible_managed="test", kernel_modules_unavailable=modules))
    return folder


def modprobe(tree: Path, config: Path, *args: str) -> str:
    """What modprobe would do (-n -v), with only this configuration and this module tree."""
    result = subprocess.run([MODPROBE, "-C", str(config), "-d", str(tree), "-S", VERSION, "-n", "-v", *args],
                            capture_output=True, text=True, check=False)
    return (result.stdout + result.stderr).strip()


def test_a_forbidding_host_runs_bin_false_for_every_module_and_ignores_a_plugged_stick(module_tree, tmp_path):
    config = render_role_file(tmp_path, decide())
    for module in UNUSED + REMOVABLE:
        assert modprobe(module_tree, config, module) == "install /bin/false", module
    # The kernel asks for a file system by alias when something mounts it (fs-cramfs), and udev
    # asks for the driver of a plugged device by its modalias (with -b): the blacklist leaves
    # modprobe nothing to do for either.
    assert modprobe(module_tree, config, "fs-cramfs") == ""
    assert modprobe(module_tree, config, "-b", USB_STICK) == ""


def test_an_allowed_host_loads_usb_storage_for_a_stick_and_still_blocks_the_rest(module_tree, tmp_path):
    config = render_role_file(tmp_path, decide(profiles=["branch_clerk"]))
    assert modprobe(module_tree, config, "-b", USB_STICK).startswith("insmod ") \
        and modprobe(module_tree, config, "-b", USB_STICK).endswith("/usb-storage.ko")
    assert modprobe(module_tree, config, "uas").startswith("insmod ")
    assert modprobe(module_tree, config, "sctp") == "install /bin/false"


def test_without_the_role_file_every_module_would_load(module_tree, tmp_path):
    """The fake tree is sound: the answers above come from the role's file, not from the tree."""
    empty = tmp_path / "empty.d"
    empty.mkdir()
    assert all(modprobe(module_tree, empty, module).startswith("insmod ") for module in UNUSED + REMOVABLE)


def base_sysctl() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "roles/base/defaults/main.yml").read_text(encoding="utf-8"))["base_sysctl"]


def test_the_sysctl_baseline_holds_every_value_the_benchmarks_require():
    baseline = {key: str(value) for key, value in base_sysctl().items()}
    wrong = {key: baseline.get(key) for key, value in kernel_policy.NETWORK_PARAMETERS.items() if baseline.get(key) != value}
    wrong |= {key: baseline.get(key) for key, values in kernel_policy.KERNEL_PARAMETERS.items()
              if baseline.get(key) not in values}
    assert not wrong, wrong


def test_the_network_part_of_the_baseline_takes_effect_in_a_network_namespace(tmp_path):
    """The real sysctl applies the rendered file in a throwaway user and network namespace (the
    network keys are per namespace, as in a lab container); the kernel keys are the machine's."""
    if not Path(SYSCTL).exists() or not shutil.which("unshare"):
        pytest.skip("sysctl or unshare is not on this machine")
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(PROJECT_ROOT / "roles/base/templates"))
    conf = tmp_path / "60-unitctl-baseline.conf"
    conf.write_text(environment.get_template("sysctl.conf.j2").render(ansible_managed="test", base_sysctl=base_sysctl()))
    keys = " ".join(kernel_policy.NETWORK_PARAMETERS)
    result = subprocess.run(["unshare", "-rn", "sh", "-c", f"{SYSCTL} -e -q -p {conf} 2>/dev/null; {SYSCTL} -e {keys}"],
                            capture_output=True, text=True, timeout=30, check=False)
    if "unshare" in result.stderr and "not permitted" in result.stderr:
        pytest.skip("user namespaces are not allowed here")
    found = dict(tuple(part.strip() for part in line.split("=", 1)) for line in result.stdout.splitlines() if "=" in line)
    wrong = {key: found.get(key) for key, value in kernel_policy.NETWORK_PARAMETERS.items()
             if key in found and found[key] != value}
    assert found and not wrong, (wrong, result.stderr)

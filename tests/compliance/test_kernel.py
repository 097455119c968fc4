"""The kernel: modules nothing here uses, removable media, and the kernel parameters of the CIS
benchmark (roles/kernel_modules, roles/base's sysctl baseline; policy inventory/group_vars/all/kernel.yml).

What each check asks the host (one command each):
- modules: modprobe's own answer, `modprobe -n -v <module>` (what `modprobe <module>` would do),
  and `modprobe -c` (the configuration in force: install and blacklist rules from every
  modprobe.d folder). This is meaningful in a container too: modprobe reads the install rules
  without a module tree (the lab's containers have none). What a container cannot show is its
  own kernel (it shares the host's): whether a module is loaded now, and that an allowed module's
  file is there to load, are checked only on a host with its own kernel;
- network parameters: the values in force (`sysctl`), which a container with its own network
  namespace holds itself; kernel parameters belong to the kernel, so not to a container.
"""

from __future__ import annotations

import shlex

import pytest

from server_facts import container, root_output
from unitctl.compliance import check
from unitctl.kernel_policy import KERNEL_PARAMETERS, NETWORK_PARAMETERS, canonical, removable_media_allowed
from workstation_facts import entry_of

MANAGED = ("unit_server", "centre_server", "cms_client")
FIX = "playbooks/site.yml"
POLICY = "inventory/group_vars/all/kernel.yml"
CIS_FILESYSTEMS = ("CIS 1.1.1.1", "CIS 1.1.1.2", "CIS 1.1.1.3", "CIS 1.1.1.4", "CIS 1.1.1.5", "CIS 1.1.1.6",
                   "CIS 1.1.1.7", "CIS 1.1.1.10")
CIS_PROTOCOLS = ("CIS 3.2.1", "CIS 3.2.2", "CIS 3.2.3", "CIS 3.2.4")

SEPARATOR = "--unitctl--"
UNAVAILABLE = ("install /bin/false", "install /usr/bin/false")


def _profile(request, inventory_host) -> str | None:
    return entry_of(request.config, inventory_host).get("profile")


def module_facts(host, modules: list[str]) -> dict:
    """modprobe's answer for each module, the install/blacklist rules in force, whether the host
    is a container, and (its own kernel only) the modules loaded now. One command."""
    names = " ".join(shlex.quote(module) for module in modules)
    script = (f"for m in {names}; do printf '%s|%s\\n' \"$m\" \"$(modprobe -n -v \"$m\" 2>&1 | tail -n 1)\"; done; "
              f"echo {SEPARATOR}; modprobe -c 2>/dev/null | grep -E '^(install|blacklist) '; "
              f"echo {SEPARATOR}; systemd-detect-virt --container 2>/dev/null; "
              f"echo {SEPARATOR}; cut -d' ' -f1 /proc/modules; true")
    answers, rules, virt, loaded = root_output(host, script).split(SEPARATOR + "\n")
    container = virt.strip() not in ("", "none")
    return {
        "answer": dict(line.split("|", 1) for line in answers.splitlines() if "|" in line),
        "blacklisted": {line.split()[1] for line in rules.splitlines() if line.startswith("blacklist ")},
        "container": virt.strip() if container else "",
        "loaded": set() if container else set(loaded.split()),
    }


def unavailable_problems(facts: dict, modules: list[str]) -> list[str]:
    """What keeps `modules` loadable (modprobe would load them, no blacklist, loaded now), grouped."""
    loadable: dict[str, list[str]] = {}  # modprobe's answer -> the modules it gave it for
    for module in modules:
        answer = facts["answer"].get(module, "").strip()
        if answer not in UNAVAILABLE:
            loadable.setdefault(answer or "(nothing)", []).append(module)
    problems = [f"`modprobe -n -v` says {answer!r}, not install /bin/false, for {', '.join(names)}"
                for answer, names in loadable.items()]
    unlisted = [module for module in modules if canonical(module) not in facts["blacklisted"]]
    if unlisted:
        problems.append(f"not blacklisted (a device or a mount could still load them by alias): {', '.join(unlisted)}")
    loaded = [module for module in modules if canonical(module) in facts["loaded"]]
    if loaded:
        problems.append(f"loaded now: {', '.join(loaded)}")
    return problems


@check(id="KRN-001", title_en="Unused file systems and network protocols cannot be loaded",
       title_fa="ماژول‌های هسته برای سامانه‌های فایل و پروتکل‌های شبکهٔ بی‌استفاده بارگذاری‌شدنی نیستند",
       severity="medium", applies_to=MANAGED, policy=POLICY, fix=FIX,
       controls=CIS_FILESYSTEMS + CIS_PROTOCOLS)
def test_unused_modules_cannot_load(host, policy):
    modules = policy["province_kernel_modules_unused"]
    problems = unavailable_problems(module_facts(host, modules), modules)
    assert not problems, "; ".join(problems)


@check(id="KRN-002", title_en="USB storage and optical discs cannot be used where policy forbids them, and can where it allows them",
       title_fa="حافظهٔ USB و دیسک نوری جز در میزبان‌ها و نمایه‌های مجاز سیاست استان قابل استفاده نیست",
       severity="high", applies_to=MANAGED, policy=POLICY, fix=FIX,
       controls=("CIS 1.1.1.8", "CIS 1.1.1.9"))
def test_removable_media_follow_policy(host, policy, inventory_host, request):
    modules = policy["province_removable_media_modules"]
    profile = _profile(request, inventory_host)
    allowed = removable_media_allowed(inventory_host.name, profile, policy["province_removable_media_allowed_hosts"],
                                      policy["province_removable_media_allowed_profiles"],
                                      policy["province_workstation_profiles"])
    facts = module_facts(host, modules)
    if not allowed:
        problems = unavailable_problems(facts, modules)
        assert not problems, "removable media are not allowed here, but " + "; ".join(problems)
        return
    # Allowed: no rule stops them, and (own kernel only) modprobe finds the module to load.
    stopped = [module for module in modules if facts["answer"].get(module, "").strip() in UNAVAILABLE
               or canonical(module) in facts["blacklisted"]]
    assert not stopped, f"removable media are allowed here (policy), but these cannot load: {stopped}"
    if not facts["container"]:
        missing = [module for module in modules if not facts["answer"].get(module, "").startswith("insmod ")
                   and canonical(module) not in facts["loaded"]]
        assert not missing, f"modprobe cannot find these allowed modules: {missing}"


def _in_force(host, keys) -> dict[str, str]:
    output = root_output(host, "sysctl -e " + " ".join(keys))
    return {key.strip(): value.strip() for key, value in (line.split("=", 1) for line in output.splitlines() if "=" in line)}


@check(id="KRN-003", title_en="The network parameters of the CIS benchmark are in force",
       title_fa="پارامترهای شبکهٔ هسته مطابق معیار CIS اعمال شده‌اند",
       severity="medium", applies_to=MANAGED, policy="roles/base/defaults/main.yml (base_sysctl)", fix=FIX,
       controls=("CIS 3.3.1", "CIS 3.3.2", "CIS 3.3.3", "CIS 3.3.4", "CIS 3.3.5", "CIS 3.3.6", "CIS 3.3.7",
                 "CIS 3.3.8", "CIS 3.3.9", "CIS 3.3.10", "CIS 3.3.11", "dev-sec sysctl-01", "dev-sec sysctl-02",
                 "dev-sec sysctl-03", "dev-sec sysctl-04", "dev-sec sysctl-08", "dev-sec sysctl-09",
                 "dev-sec sysctl-10", "dev-sec sysctl-11", "dev-sec sysctl-13", "dev-sec sysctl-14",
                 "dev-sec sysctl-15", "dev-sec sysctl-16", "dev-sec sysctl-17", "dev-sec sysctl-19",
                 "dev-sec sysctl-20", "dev-sec sysctl-25"))
def test_network_parameters_in_force(host):
    # A container holds these itself when it has its own network namespace, which it may write
    # (systemd-nspawn with a private network mounts /proc/sys/net read-write, the rest read-only).
    state = root_output(host, "systemd-detect-virt --container 2>/dev/null; findmnt -no OPTIONS -T /proc/sys/net").split()
    if len(state) > 1 and state[0] != "none" and not state[-1].startswith("rw"):
        pytest.skip(f"not applicable in a container ({state[0]}) that may not set its network parameters "
                    "(/proc/sys/net is read-only: its network namespace was made for it by the host)")
    found = _in_force(host, NETWORK_PARAMETERS)
    # A host booted without IPv6 (ipv6.disable=1) has no net.ipv6 keys: nothing of IPv6 to accept.
    ipv6 = any(key.startswith("net.ipv6.") for key in found)
    wrong = {key: found.get(key, "(absent)") for key, wanted in NETWORK_PARAMETERS.items()
             if found.get(key) != wanted and (ipv6 or not key.startswith("net.ipv6."))}
    assert not wrong, f"in force, against the benchmark's {{key: value}}: {wrong}"


@check(id="KRN-004", title_en="Kernel protections are in force: address space randomisation, restricted ptrace, link protection",
       title_fa="حفاظت‌های هسته (تصادفی‌سازی فضای نشانی، محدودیت ptrace، حفاظت پیوندها) اعمال شده‌اند",
       severity="medium", applies_to=MANAGED, policy="roles/base/defaults/main.yml (base_sysctl)", fix=FIX,
       controls=("CIS 1.5.1", "CIS 1.5.2", "dev-sec sysctl-30", "dev-sec sysctl-32", "dev-sec sysctl-34"))
def test_kernel_parameters_in_force(host):
    manager = container(host)
    if manager:
        pytest.skip(f"not applicable in a container ({manager}): kernel parameters are the host kernel's, "
                    "which the container may not set")
    found = _in_force(host, KERNEL_PARAMETERS)
    wrong = {key: found.get(key, "(absent)") for key, allowed in KERNEL_PARAMETERS.items()
             if found.get(key) not in allowed}
    assert not wrong, f"in force: {wrong}; the benchmark wants {KERNEL_PARAMETERS}"

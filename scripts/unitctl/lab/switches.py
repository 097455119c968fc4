"""The lab's switches: one fake-switches process serving every lab IOS switch over SSH.

The process runs in its own network namespace (`ulab-switches`) bridged onto the lab segment,
which carries every switch's inventory address; each switch listens on port 22 of its address.
fake-switches is driven through its Python API because its own launcher breaks `enable` on
Python 3. Each switch presents its own lab host key (recorded in the lab's known_hosts) instead
of the key fake-switches ships, whose private half is public.

Each switch is the lab's Catalyst/IOS 15.2 model (unitctl.lab.ios_switch, docs/lab-switch.md),
a fake-switches model created through fake-switches' own factory. It starts as a pre-staged
switch does: its hostname, the lab's enable secret, its management address on `interface
Vlan1` and its default gateway saved, everything else at IOS defaults, VTP in server mode (the
factory default: VLANs are in vlan.dat, not in the running config).

Run as a module to serve: `python -m unitctl.lab.switches CONFIG.json`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

from unitctl import paths
from unitctl.lab.net import netns_name, ssh_answers
from unitctl.lab.proc import LabError, LabProcess, spawn

NETNS_SUFFIX = "switches"
SWITCH_MODEL = "unitctl_catalyst_ios15"   # unitctl.lab.ios_switch.MODEL_NAME
# VTP mode the lab switches start in; a switch entry in the config may say otherwise ("vtp_mode").
LAB_VTP_MODE = "server"


def netns() -> str:
    return netns_name(NETNS_SUFFIX)


def config_path() -> Path:
    return paths.LAB_STATE_DIR / "switches.json"


def log_path() -> Path:
    return paths.LAB_STATE_DIR / "logs" / "switches.log"


def start(switches: list[dict], credentials_file: Path, timeout: float = 30) -> LabProcess:
    """Start the emulator for `switches` ({name, address, netmask, gateway, host_key, unit}) and wait
    until each one answers SSH. Each switch is staged with its address on VLAN 1 and its default
    gateway (make_switch)."""
    config_path().write_text(json.dumps(
        {"switches": switches, "credentials": str(credentials_file)}, indent=2))
    env = dict(os.environ, PYTHONPATH=str(paths.PROJECT_ROOT / "scripts"))
    process = spawn(["ip", "netns", "exec", netns(), sys.executable, "-m", "unitctl.lab.switches",
                     str(config_path())], log_path(), env=env)
    deadline = time.monotonic() + timeout
    waiting = [switch["address"] for switch in switches]
    while waiting:
        if not process.alive() or time.monotonic() > deadline:
            raise LabError(f"lab switches {waiting} did not come up; see {log_path()}")
        waiting = [address for address in waiting if not ssh_answers(address)]
        time.sleep(0.1 if waiting else 0)
    return process


def serve(config_file: Path) -> None:
    """Serve every configured switch until killed."""
    from fake_switches.transports.ssh_service import SwitchSshService  # noqa: PLC0415  (lab-only deps)
    from twisted.internet import reactor  # noqa: PLC0415

    from unitctl.lab.ios_switch import make_switch  # noqa: PLC0415
    from unitctl.lab.switch_ssh import use_host_key, use_utf8_shell  # noqa: PLC0415

    config = json.loads(config_file.read_text())
    every_unit = json.loads(Path(config["credentials"]).read_text())
    for switch in config["switches"]:
        # Each unit's switches take that unit's own credentials (unitctl.lab.secrets.network_credentials).
        credentials = every_unit[switch["unit"]]
        users = {credentials["network_user"]: credentials["network_password"].encode()}
        core = make_switch(switch["name"], credentials["enable_secret"],
                           vtp_mode=switch.get("vtp_mode", LAB_VTP_MODE),
                           management=f"{switch['address']} {switch['netmask']}" if switch.get("netmask") else None,
                           gateway=switch.get("gateway"))
        service = SwitchSshService(ip=switch["address"], port=22, switch_core=core,
                                   users=users)
        listening = service.hook_to_reactor(reactor)
        use_utf8_shell(listening)   # the Persian banner reaches the switch whole
        use_host_key(listening.factory, switch["host_key"])
    reactor.run()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(levelname)s %(message)s")
    serve(Path(sys.argv[1]))

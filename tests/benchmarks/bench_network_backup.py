"""Backup of 500 emulated switches: concurrently against one by one, as a ratio in one run.

    python tests/benchmarks/bench_network_backup.py [--devices 500] [--workers 100] [--sample 25]

Needs root. It makes its own network namespace `ulab-bench` (loopback only, nothing bridged),
runs one fake-switches process serving every switch on 127.0.0.1, ports 13000 and up, runs
the measurement inside the same namespace, and removes both in the end, whatever happens. The
lab's own switches are never touched. Target: at least 10x faster than one by one, and every
switch backed up concurrently in under 20 s.

One by one is sampled: the first `--sample` switches are backed up in turn and the time is
scaled to all of them (time per switch x devices; a serial backup's cost is the same for every
switch of the emulator, so the scaling is linear). The concurrent run backs up every switch.
Results: stdout and results/benchmarks/network_backup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from unitctl import paths
from unitctl.lab import net as labnet
from unitctl.network import BackupRepository, Target, backup_one, commit_backups, run_many

NETNS = labnet.netns_name("bench")
FIRST_PORT = 13000
USER, PASSWORD = "bench", "bench-password"
RESULTS = paths.PROJECT_ROOT / "results" / "benchmarks" / "network_backup.json"
TARGET_RATIO, TARGET_TOTAL_S = 10, 20

# The lab's Catalyst/IOS 15.2 model (unitctl.lab.ios_switch): a full running config per switch.
SERVER = """
import sys
from fake_switches.transports.ssh_service import SwitchSshService
from twisted.internet import reactor
from unitctl.lab.ios_switch import make_switch
for index in range(int(sys.argv[1])):
    core = make_switch(f"bench-sw{index:03d}", "")
    SwitchSshService(ip="127.0.0.1", port=%d + index, switch_core=core,
                     users={"%s": b"%s"}).hook_to_reactor(reactor)
reactor.run()
""" % (FIRST_PORT, USER, PASSWORD)


def targets(count: int) -> list[Target]:
    settings = {"user": USER, "password": PASSWORD, "enable_secret": "", "timeout_s": 20,
                "known_hosts": ""}  # the emulator's throw-away keys: nothing to check them against
    return [Target(name=f"bench-sw{i:03d}", unit_id="bench", host={"address": "127.0.0.1", "platform": "ios"},
                   settings={**settings, "port": FIRST_PORT + i}) for i in range(count)]


def measure(count: int, workers: int, sample: int) -> dict:
    """Runs inside the namespace: a sample one by one (scaled to all), then every switch
    concurrently, each into a fresh repository."""
    switches = targets(count)
    sample = max(1, min(sample, count))
    figures = {"sampled": sample}
    for label, devices, pool in (("one_by_one", switches[:sample], 1), ("concurrent", switches, workers)):
        repository = BackupRepository(tempfile.mkdtemp(prefix=f"bench-{label}-")).ensure()
        started = time.monotonic()
        results = run_many(backup_one, devices, workers=pool, repository=repository)
        commit_backups(repository, results, "backup")
        figures[f"{label}_s"] = round(time.monotonic() - started, 2)
        failed = [f"{r.device}: {r.message}" for r in results if not r.ok]
        if failed:
            raise SystemExit(f"backup failed on {len(failed)} switches:\n" + "\n".join(failed[:20]))
    figures["one_by_one_sample_s"] = figures["one_by_one_s"]
    figures["one_by_one_s"] = round(figures["one_by_one_s"] * count / sample, 2)
    figures["ratio"] = round(figures["one_by_one_s"] / figures["concurrent_s"], 1)
    return figures


def wait_for(count: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    probe = ("import sys, socket\nfor p in range(%d, %d):\n  s = socket.create_connection(('127.0.0.1', p), 1)\n"
             "  assert s.recv(8).startswith(b'SSH-')" % (FIRST_PORT, FIRST_PORT + count))
    while subprocess.run(["ip", "netns", "exec", NETNS, sys.executable, "-c", probe],
                         capture_output=True).returncode != 0:
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the benchmark's switches did not come up")
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--workers", type=int, default=100)
    parser.add_argument("--sample", type=int, default=25, help="switches backed up one by one (scaled to all)")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:  # the measuring half, already in the namespace
        print(json.dumps(measure(args.devices, args.workers, args.sample)))
        return
    if os.geteuid() != 0:
        raise SystemExit("needs root (it makes a network namespace)")
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    server = None
    try:
        subprocess.run(["ip", "-n", NETNS, "link", "set", "lo", "up"], check=True)
        server = subprocess.Popen(["ip", "netns", "exec", NETNS, sys.executable, "-c", SERVER, str(args.devices)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(args.devices, server)
        started = time.monotonic()
        inside = subprocess.run(["ip", "netns", "exec", NETNS, sys.executable, __file__, "--inside",
                                 "--devices", str(args.devices), "--workers", str(args.workers),
                                 "--sample", str(args.sample)],
                                capture_output=True, text=True, timeout=900)
        if inside.returncode != 0:
            raise SystemExit(inside.stdout + inside.stderr)
        figures = json.loads(inside.stdout.strip().splitlines()[-1])
        figures.update(devices=args.devices, workers=args.workers, total_s=round(time.monotonic() - started, 2))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        subprocess.run(["ip", "netns", "delete", NETNS], check=False)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"{figures['devices']} switches: one by one {figures['one_by_one_s']} s "
          f"({figures['sampled']} measured, {figures['one_by_one_sample_s']} s, scaled), "
          f"{figures['workers']} workers {figures['concurrent_s']} s: {figures['ratio']}x "
          f"(target >= {TARGET_RATIO}x; concurrent under {TARGET_TOTAL_S} s)")
    if figures["ratio"] < TARGET_RATIO or figures["concurrent_s"] >= TARGET_TOTAL_S:
        sys.exit(1)


if __name__ == "__main__":
    main()

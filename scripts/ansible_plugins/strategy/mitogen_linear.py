"""Ansible's linear strategy run through Mitogen (the `mitogen` package, pinned in pyproject.toml).

Mitogen keeps one Python interpreter per host for the whole run instead of starting one per
task, which is most of a rerun's time (see tests/benchmarks/bench_provision.py). This file
exposes Mitogen's strategy from the project's plugin folder, so that ansible.cfg needs no path
into the virtual environment; it is Mitogen's own proxy module, with one change of policy below.
"""

from __future__ import annotations

import ansible_mitogen.affinity
import ansible_mitogen.loaders
import ansible_mitogen.strategy

# Mitogen pins its processes to fixed CPUs (ansible_mitogen/affinity.py, FixedPolicy). On a
# controller with fewer than 4 CPUs it keeps CPU 0 for its connection multiplexer and puts the
# top-level process, every WorkerProcess and their children on the CPUs left: on 2 CPUs, one. So a
# 2-CPU unit server ran the whole controller side on one CPU: a task over 7 hosts took twice as
# long as without the pinning (measured with `taskset -p` and a 40-task playbook, README, Speed).
# There the kernel's scheduler places the processes; larger controllers keep Mitogen's placement.
SMALL_CONTROLLER_CPUS = 4
if getattr(ansible_mitogen.affinity.policy, "cpu_count", 0) < SMALL_CONTROLLER_CPUS:
    ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()

Base = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, Base):
    pass

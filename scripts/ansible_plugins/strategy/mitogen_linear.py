"""Ansible's linear strategy run through Mitogen (the `mitogen` package, pinned in pyproject.toml).

Mitogen keeps one Python interpreter per host for the whole run instead of starting one per
task, which is most of a rerun's time (see tests/benchmarks/bench_provision.py). This file only
exposes Mitogen's strategy from the project's plugin folder, so that ansible.cfg needs no path
into the virtual environment; it is Mitogen's own proxy module, unchanged in substance.
"""

from __future__ import annotations

import ansible_mitogen.loaders
import ansible_mitogen.strategy

Base = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, Base):
    pass

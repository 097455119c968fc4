"""Print the slowest tasks and the total time at the end of a play run.

ansible-core ships no task-timing callback (profile_tasks lives in ansible.posix, which this
project does not install); this small one is enough to see where a run spends its time.
"""

from __future__ import annotations

import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: task_timer
type: aggregate
short_description: the slowest tasks of a run and its total time
description:
  - Prints, at the end of a run, the tasks that took longest (wall time across all hosts).
options:
  shown:
    description: how many tasks to list
    default: 10
    type: int
    env:
      - name: TASK_TIMER_SHOWN
    ini:
      - section: callback_task_timer
        key: shown
requirements:
  - enable in ansible.cfg (callbacks_enabled)
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._run_started = time.monotonic()
        self._durations: dict[str, float] = {}
        self._current: tuple[str, float] | None = None

    def _close_current(self):
        if self._current is not None:
            name, started = self._current
            self._durations[name] = self._durations.get(name, 0.0) + time.monotonic() - started
            self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional=False):
        self._close_current()
        self._current = (task.get_name(), time.monotonic())

    def v2_playbook_on_handler_task_start(self, task):
        # Ansible calls this one with the task only.
        self.v2_playbook_on_task_start(task)

    def v2_playbook_on_stats(self, stats):
        self._close_current()
        shown = self.get_option("shown")
        slowest = sorted(self._durations.items(), key=lambda item: item[1], reverse=True)[:shown]
        if not slowest:
            return
        self._display.banner("TASK TIMES")
        for name, seconds in slowest:
            self._display.display(f"{seconds:8.2f}s  {name}")
        total = time.monotonic() - self._run_started
        self._display.display(f"{total:8.2f}s  total")

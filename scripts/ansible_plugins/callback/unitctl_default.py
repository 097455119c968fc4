"""Ansible's default screen output, with one change: the connection probe of playbooks/connect.yml.

That probe tries each host as the automation account and expects a bare machine (one that does
not have the account yet) to refuse it; connect.yml then falls back to root. Ansible's default
output prints that expected answer as a red `fatal: ... UNREACHABLE!` with its error lines, which
a technician reads as a failure. For a task tagged `connect_probe` that ignores unreachable hosts,
this callback prints one plain line per host instead (what was tried and the reason); everything
else, a real unreachable host included, is printed exactly as the default callback prints it.
"""

from __future__ import annotations

from ansible.plugins.callback.default import CallbackModule as DefaultCallbackModule

DOCUMENTATION = """
name: unitctl_default
type: stdout
short_description: Ansible's default output, the connection probe's expected answer in one plain line
description:
  - As the default stdout callback, except for tasks tagged connect_probe that ignore unreachable
    hosts (playbooks/connect.yml), whose unreachable answer is printed as one plain line.
extends_documentation_fragment:
  - default_callback
  - result_format_callback
requirements:
  - set as stdout_callback in ansible.cfg
"""

PROBE_TAG = "connect_probe"
REASON_LENGTH = 160  # characters of the connection error kept on the line


def probe_line(host: str, message: str) -> str:
    """The one line shown for a probed host that did not answer as the automation account.

    `message` is the connection plugin's error (OpenSSH's or Mitogen's, possibly many lines); its
    first non-empty line, cut to REASON_LENGTH characters, is the reason shown."""
    reason = next((line.strip() for line in str(message).splitlines() if line.strip()), "no answer")
    reason = reason.removeprefix("Task failed: ")  # ansible-core's wording, not the host's answer
    if len(reason) > REASON_LENGTH:
        reason = reason[:REASON_LENGTH - 1] + "…"
    return f"probe: [{host}] does not answer as the automation account ({reason})"


class CallbackModule(DefaultCallbackModule):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "unitctl_default"

    def v2_runner_on_unreachable(self, result) -> None:
        task = result.task
        if PROBE_TAG not in (task.tags or []) or not task.ignore_unreachable:
            super().v2_runner_on_unreachable(result)
            return
        if self._last_task_banner != task._uuid:
            self._print_task_banner(task)
        self._display.display(probe_line(self.host_label(result), result.result.get("msg", "")))

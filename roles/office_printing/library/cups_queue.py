#!/usr/bin/python
"""Ansible module of the office_printing role: make one CUPS queue and see that it got its driver."""

from __future__ import annotations

DOCUMENTATION = r"""
module: cups_queue
short_description: Make or update a CUPS queue with lpadmin and wait until it has its driver
description:
  - Runs C(lpadmin -p NAME -E -v URI -m DRIVER ...) and then waits until cupsd has written the
    queue's driver, C(PPD_DIR/NAME.ppd), anew. The queue is enabled and accepts jobs.
  - With IPP Everywhere (driver C(everywhere)) Debian 12's CUPS 2.4.2 lpadmin returns at once with
    exit status 0; cupsd makes the driver in the background by asking the printer for its
    capabilities. When the printer cannot be reached it gives up and leaves an enabled queue with no
    driver ("Local Raw Printer") or, for a queue that had one, with its former driver.
  - Debian 13's CUPS 2.4.10 asks the printer before lpadmin returns. A printer it cannot reach makes
    lpadmin exit 1 (cupsd answers server-error-device-error), yet the queue is made, enabled and
    accepting, without a driver; cupsd's error log names the queue and the reason, as on Debian 12.
  - The module waits until the driver file changes, cupsd's error log says it gave up on this
    queue, or O(driver_wait) seconds have passed. A queue without its new driver is reported
    (RV(driver) false, with cupsd's reason) and as a warning naming the printer and its device URI;
    it is not a failure, the run goes on.
  - Fails only when lpadmin fails for another reason than an IPP Everywhere printer that did not
    answer (a bad driver name, a URI cupsd refuses). A failed lpadmin with driver C(everywhere) and
    a line of cupsd's error log about this queue since lpadmin ran is a queue without its driver.
  - The office_printing role calls it only for a queue whose definition changed or that has no
    driver, so a second run with the printer on changes nothing.
extends_documentation_fragment:
  - action_common_attributes
attributes:
  check_mode:
    support: partial
    details: Nothing is run and the queue is always reported as changed (with RV(driver) true); the calling role decides which queues need it.
  diff_mode:
    support: none
  platform:
    platforms: debian
    details: A host with CUPS 2.4 (Debian 12's C(cups) 2.4.2 or Debian 13's 2.4.10), as root.
options:
  name:
    description:
      - The queue's name (C(lpadmin -p)).
    type: str
    required: true
  uri:
    description:
      - The device URI (C(lpadmin -v)), for instance C(ipp://10.20.30.40/ipp/print) for IPP Everywhere.
    type: str
    required: true
  driver:
    description:
      - C(everywhere) (IPP Everywhere, the driver is made from the printer's answer), or a driver name as C(lpinfo -m) lists it.
    type: str
    default: everywhere
  description:
    description:
      - The name shown to users (C(lpadmin -D)); empty means the queue's name.
    type: str
    default: ""
  location:
    description:
      - Where the printer stands (C(lpadmin -L)), shown to users.
    type: str
    default: ""
  options:
    description:
      - Queue settings for C(lpadmin -o), each C(NAME=VALUE).
    type: list
    elements: str
    default: []
  driver_wait:
    description:
      - Seconds to wait for the driver at most.
    type: int
    default: 30
  ppd_dir:
    description:
      - Where cupsd keeps the queues' drivers.
    type: path
    default: /etc/cups/ppd
  error_log:
    description:
      - cupsd's error log, where it says why it gave up on a queue.
    type: path
    default: /var/log/cups/error_log
"""

EXAMPLES = r"""
- name: Make the branch printer's queue with IPP Everywhere and wait for its driver
  cups_queue:
    name: branch1-printer
    uri: ipp://10.20.30.40/ipp/print
    description: Branch 1 printer
    location: Branch 1, registry office
    options:
      - printer-is-shared=false
      - printer-error-policy=retry-job
    driver_wait: 60
  register: branch_queue

- name: Say when the printer was off and the queue has no driver yet
  ansible.builtin.debug:
    msg: "{{ branch_queue.reason }}"
  when: not branch_queue.driver

- name: A lab queue printing to PDF files with a named driver
  cups_queue:
    name: court-prn1
    uri: cups-pdf:/
    driver: lsb/usr/cups-pdf/CUPS-PDF_opt.ppd
"""

RETURN = r"""
driver:
  description:
    - Whether the queue got its driver (true in check mode, where nothing is run).
  type: bool
  returned: always
  sample: true
reason:
  description:
    - Why the queue did not get its driver, in cupsd's own words when it logged them.
  type: str
  returned: when RV(driver) is false
  sample: Unable to connect to printer; will retry in 30 seconds...
seconds:
  description:
    - How long the driver took, or was waited for.
  type: float
  returned: always
  sample: 2.41
cmd:
  description:
    - The lpadmin command run (or, in check mode, that would run).
  type: list
  elements: str
  returned: always
  sample: [lpadmin, -p, branch1-printer, -E, -v, "ipp://10.20.30.40/ipp/print", -m, everywhere, -D, Branch 1 printer, -L, ""]
"""

import os
import re
import time
from datetime import datetime, timedelta, timezone

from ansible.module_utils.basic import AnsibleModule

# The module's options; DOCUMENTATION describes each (tests/unit/test_module_docs.py keeps them equal).
ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "uri": {"type": "str", "required": True},
    "driver": {"type": "str", "default": "everywhere"},
    "description": {"type": "str", "default": ""},
    "location": {"type": "str", "default": ""},
    "options": {"type": "list", "elements": "str", "default": []},
    "driver_wait": {"type": "int", "default": 30},
    "ppd_dir": {"type": "path", "default": "/etc/cups/ppd"},
    "error_log": {"type": "path", "default": "/var/log/cups/error_log"},
}

POLL_SECONDS = 0.2
LOG_TAIL_BYTES = 256 * 1024
# cupsd's error log line: "E [30/Nov/2026:10:29:08 +0330] court-prn9: Unable to connect to ..."
# (English month names whatever the locale: cupsd writes them itself).
LOG_LINE = re.compile(r"^(?P<level>[A-Z]) \[(?P<day>\d{2})/(?P<month>[A-Z][a-z]{2})/(?P<year>\d{4}):"
                      r"(?P<time>\d{2}:\d{2}:\d{2}) (?P<sign>[+-])(?P<hours>\d{2})(?P<minutes>\d{2})\] (?P<text>.*)$")
MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}


def lpadmin_argv(name: str, uri: str, driver: str, description: str, location: str, options: list[str]) -> list[str]:
    """lpadmin's arguments making or updating the queue, enabled and accepting jobs."""
    argv = ["lpadmin", "-p", name, "-E", "-v", uri, "-m", driver or "everywhere",
            "-D", description or name, "-L", location or ""]
    for option in options:
        argv += ["-o", option]
    return argv


def ppd_mtime(ppd_dir: str, name: str) -> int | None:
    """The queue's driver file's modification time (ns), None when it has none."""
    try:
        return os.stat(os.path.join(ppd_dir, f"{name}.ppd")).st_mtime_ns
    except FileNotFoundError:
        return None


def log_time(match: re.Match) -> float:
    """Epoch seconds of an error log line."""
    offset = timedelta(hours=int(match["hours"]), minutes=int(match["minutes"]))
    zone = timezone(offset if match["sign"] == "+" else -offset)
    hour, minute, second = (int(part) for part in match["time"].split(":"))
    return datetime(int(match["year"]), MONTHS[match["month"]], int(match["day"]), hour, minute, second,
                    tzinfo=zone).timestamp()


def gave_up(log_text: str, name: str, since: float) -> str | None:
    """cupsd's last error about this queue logged at `since` (epoch, whole seconds count) or later:
    its reason for not making the driver, or None."""
    reason = None
    prefix = f"{name}: "
    for line in log_text.splitlines():
        match = LOG_LINE.match(line)
        if match and match["level"] in "EC" and match["text"].startswith(prefix) and log_time(match) >= int(since):
            reason = match["text"][len(prefix):]
    return reason


def lpadmin_refused_for_printer(driver: str, log_text: str, name: str, since: float) -> str | None:
    """After a failed lpadmin: cupsd's reason when the failure was an IPP Everywhere printer that
    could not be asked for its capabilities (CUPS 2.4.10, Debian 13: lpadmin exits 1 but the queue
    is made, without a driver), else None (a real failure: a bad driver name, a refused URI).
    The sign is the one Debian 12's cupsd leaves for its background attempt too: an error line of
    the error log about this queue ("NAME: Unable to connect to ...") since lpadmin ran."""
    if (driver or "everywhere") != "everywhere":
        return None
    return gave_up(log_text, name, since)


def read_log_tail(path: str) -> str:
    try:
        with open(path, "rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - LOG_TAIL_BYTES))
            return log.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def wait_for_driver(name: str, before: int | None, ppd_dir: str, error_log: str, since: float, wait: float,
                    clock=time.monotonic, sleep=time.sleep) -> str | None:
    """Wait until the queue's driver file is new (None returned), or cupsd logged that it gave up,
    or `wait` seconds passed (the reason returned)."""
    deadline = clock() + wait
    while True:
        now = ppd_mtime(ppd_dir, name)
        if now is not None and now != before:
            return None
        reason = gave_up(read_log_tail(error_log), name, since)
        if reason:
            # cupsd logs before it would write the file: one last look, then its reason.
            now = ppd_mtime(ppd_dir, name)
            return None if now is not None and now != before else reason
        if clock() >= deadline:
            return f"cupsd made no driver within {wait:g} s"
        sleep(POLL_SECONDS)


def warning(name: str, uri: str, had_driver: bool, reason: str) -> str:
    kept = ("its queue keeps the driver it had before" if had_driver
            else "its queue has no driver (CUPS would send documents to it unconverted)")
    return (f"printer {name} ({uri}) could not be reached to make its driver: {kept}; "
            f"the queue is made again on the next run. cupsd: {reason}")


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    argv = lpadmin_argv(params["name"], params["uri"], params["driver"], params["description"],
                        params["location"], params["options"])
    if module.check_mode:
        module.exit_json(changed=True, driver=True, seconds=0.0, cmd=argv)
    before = ppd_mtime(params["ppd_dir"], params["name"])
    since = time.time()
    started = time.monotonic()
    rc, stdout, stderr = module.run_command(argv, environ_update={"LC_ALL": "C"})
    refused = lpadmin_refused_for_printer(params["driver"], read_log_tail(params["error_log"]), params["name"],
                                          since) if rc != 0 else None
    if refused is not None:
        seconds = round(time.monotonic() - started, 2)
        module.warn(warning(params["name"], params["uri"], before is not None, refused))
        module.exit_json(changed=True, driver=False, reason=refused, seconds=seconds, cmd=argv, stderr=stderr)
    if rc != 0:
        module.fail_json(msg=f"lpadmin failed for {params['name']}: {stderr.strip() or stdout.strip()}",
                         rc=rc, cmd=argv, stdout=stdout, stderr=stderr)
    reason = wait_for_driver(params["name"], before, params["ppd_dir"], params["error_log"], since,
                             params["driver_wait"])
    seconds = round(time.monotonic() - started, 2)
    if reason is None:
        module.exit_json(changed=True, driver=True, seconds=seconds, cmd=argv, stderr=stderr)
    module.warn(warning(params["name"], params["uri"], before is not None, reason))
    module.exit_json(changed=True, driver=False, reason=reason, seconds=seconds, cmd=argv, stderr=stderr)


if __name__ == "__main__":
    main()

"""roles/office_printing/library/cups_queue.py: lpadmin's arguments, reading cupsd's error log for
why it gave up on a queue's driver, and the bounded wait for the driver file (a fake clock)."""

from __future__ import annotations

import importlib.util
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "roles" / "office_printing" / "library" / "cups_queue.py"
SPEC = importlib.util.spec_from_file_location("cups_queue", PATH)
cups_queue = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(cups_queue)

TEHRAN = timezone(timedelta(hours=3, minutes=30))


def log_line(when: datetime, text: str, level: str = "E") -> str:
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    offset = when.strftime("%z")
    return f"{level} [{when.day:02d}/{months[when.month - 1]}/{when.year}:{when:%H:%M:%S} {offset}] {text}"


class FakeClock:
    """time.monotonic and time.sleep for wait_for_driver; `on_sleep` runs at each sleep."""

    def __init__(self, on_sleep=None):
        self.now = 100.0
        self.sleeps = 0
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1
        if self.on_sleep:
            self.on_sleep(self.sleeps)


def test_lpadmin_arguments():
    argv = cups_queue.lpadmin_argv("court-prn1", "ipp://10.0.0.9/ipp/print", "everywhere", "", "",
                                   ["printer-is-shared=false", "printer-error-policy=retry-job"])
    assert argv == ["lpadmin", "-p", "court-prn1", "-E", "-v", "ipp://10.0.0.9/ipp/print", "-m", "everywhere",
                    "-D", "court-prn1", "-L", "", "-o", "printer-is-shared=false",
                    "-o", "printer-error-policy=retry-job"]
    assert cups_queue.lpadmin_argv("p", "cups-pdf:/", "", "Room 2", "Floor 1", [])[6:] == \
        ["-m", "everywhere", "-D", "Room 2", "-L", "Floor 1"]


def test_gave_up_reads_cupsd_reason_for_this_queue_since_lpadmin():
    started = datetime(2026, 11, 30, 10, 29, 8, tzinfo=TEHRAN)
    since = started.timestamp() + 0.4  # lpadmin ran within the second the log line carries
    log = "\n".join([
        log_line(started - timedelta(minutes=5), "court-prn9: Unable to connect to 10.0.0.9:631: old attempt"),
        log_line(started, "court-prn90: Unable to connect to 10.0.0.90:631: No route to host"),
        log_line(started, "court-prn9: a warning, not an error", level="W"),
        log_line(started, "CreateProfile failed: org.freedesktop.DBus.Error.ServiceUnknown"),
        log_line(started + timedelta(seconds=1), "court-prn9: Unable to connect to 10.0.0.9:631: Host is down"),
        "a line cupsd did not write",
    ])
    assert cups_queue.gave_up(log, "court-prn9", since) == "Unable to connect to 10.0.0.9:631: Host is down"
    assert cups_queue.gave_up(log, "court-prn9", since + 60) is None  # only lines of an earlier try
    assert cups_queue.gave_up(log, "court-prn1", since) is None


def test_gave_up_compares_times_across_time_zones():
    when = datetime(2026, 3, 1, 6, 0, 0, tzinfo=timezone.utc)
    line = log_line(when.astimezone(TEHRAN), "p: PPD creation failed: bad attributes")
    assert cups_queue.gave_up(line, "p", when.timestamp()) == "PPD creation failed: bad attributes"
    assert cups_queue.gave_up(line, "p", when.timestamp() + 1) is None


def test_driver_written_anew_ends_the_wait(tmp_path):
    ppd = tmp_path / "p.ppd"
    ppd.write_text("*PPD-Adobe: old")
    before = cups_queue.ppd_mtime(str(tmp_path), "p")
    os.utime(ppd, ns=(before + 10**9, before + 10**9))
    fake = FakeClock()
    assert cups_queue.wait_for_driver("p", before, str(tmp_path), str(tmp_path / "error_log"), 0, 30,
                                      clock=fake.clock, sleep=fake.sleep) is None
    assert fake.sleeps == 0


def test_driver_made_in_the_background_is_waited_for(tmp_path):
    def appear(sleeps: int) -> None:
        if sleeps == 3:
            (tmp_path / "p.ppd").write_text("*PPD-Adobe: new")

    fake = FakeClock(appear)
    assert cups_queue.wait_for_driver("p", None, str(tmp_path), str(tmp_path / "error_log"), 0, 30,
                                      clock=fake.clock, sleep=fake.sleep) is None
    assert fake.sleeps == 3


def test_former_driver_left_in_place_is_not_taken_for_a_new_one(tmp_path):
    (tmp_path / "p.ppd").write_text("*PPD-Adobe: from the printer's former definition")
    before = cups_queue.ppd_mtime(str(tmp_path), "p")
    now = datetime.now(TEHRAN).replace(microsecond=0)
    (tmp_path / "error_log").write_text(log_line(now, "p: Unable to connect to printer:631: Host is down") + "\n")
    fake = FakeClock()
    reason = cups_queue.wait_for_driver("p", before, str(tmp_path), str(tmp_path / "error_log"),
                                        now.timestamp(), 30, clock=fake.clock, sleep=fake.sleep)
    assert reason == "Unable to connect to printer:631: Host is down"
    assert fake.sleeps == 0  # cupsd said it gave up: no need to wait the whole time


def test_wait_is_bounded_when_cupsd_says_nothing(tmp_path):
    fake = FakeClock()
    reason = cups_queue.wait_for_driver("p", None, str(tmp_path), str(tmp_path / "missing_log"), 0, 3,
                                        clock=fake.clock, sleep=fake.sleep)
    assert reason == "cupsd made no driver within 3 s"
    assert fake.now == pytest.approx(103.0, abs=cups_queue.POLL_SECONDS)


def test_warning_names_the_printer_and_its_uri():
    text = cups_queue.warning("court-prn9", "ipp://10.0.0.9/ipp/print", False, "Host is down")
    assert "court-prn9 (ipp://10.0.0.9/ipp/print)" in text and "has no driver" in text
    assert "made again on the next run" in text and text.endswith("cupsd: Host is down")
    assert "keeps the driver it had before" in cups_queue.warning("p", "ipp://x/ipp/print", True, "r")


def test_lpadmin_refused_for_an_unreachable_printer_is_a_queue_without_driver():
    """Debian 13's CUPS 2.4.10 asks an IPP Everywhere printer before lpadmin returns: with the
    printer off lpadmin exits 1 and cupsd logs these two lines (seen with cupsd 2.4.10-3+deb13u2;
    the queue is there, enabled, without a driver). Debian 12's 2.4.2 logs only the first, from its
    background attempt, after lpadmin exited 0."""
    started = datetime(2026, 11, 30, 23, 29, 56, tzinfo=timezone.utc)
    log = "\n".join([
        log_line(started, "probe-ipp: Unable to connect to 127.0.0.1:9: Host is down"),
        log_line(started, "[Client 5] Returning IPP server-error-device-error for CUPS-Add-Modify-Printer "
                          "(ipp://localhost/printers/probe-ipp) from localhost."),
    ])
    since = started.timestamp() + 0.2
    assert cups_queue.lpadmin_refused_for_printer("everywhere", log, "probe-ipp", since) == \
        "Unable to connect to 127.0.0.1:9: Host is down"
    assert cups_queue.lpadmin_refused_for_printer("", log, "probe-ipp", since) == \
        "Unable to connect to 127.0.0.1:9: Host is down"  # the module's default driver is everywhere


def test_lpadmin_failing_for_another_reason_is_a_failure():
    started = datetime(2026, 11, 30, 23, 29, 56, tzinfo=timezone.utc)
    # A named driver lpadmin cannot use, or a refused URI: nothing about the queue in cupsd's log.
    refused_uri = log_line(started, "[Client 7] Returning IPP client-error-not-possible for CUPS-Add-Modify-Printer "
                                    "(ipp://localhost/printers/p) from localhost.")
    assert cups_queue.lpadmin_refused_for_printer("everywhere", refused_uri, "p", started.timestamp()) is None
    # A queue-named line with a driver that is not IPP Everywhere is not the printer's answer missing.
    named = log_line(started, "p: Unable to connect to 10.0.0.9:631: Host is down")
    assert cups_queue.lpadmin_refused_for_printer("lsb/usr/cups-pdf/CUPS-PDF_opt.ppd", named, "p",
                                                  started.timestamp()) is None
    # An earlier attempt's line does not explain this lpadmin's failure.
    assert cups_queue.lpadmin_refused_for_printer("everywhere", named, "p", started.timestamp() + 60) is None

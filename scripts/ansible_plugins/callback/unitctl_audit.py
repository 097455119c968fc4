"""Every playbook run leaves an audit record, on the controller and at the provincial centre.

The record says who ran it (the login user and, under sudo, SUDO_USER), when (UTC, local time in the
province's time zone and the Jalali date), which playbooks, inventory sources, --limit, units and
hosts, the toolkit's git commit (and whether the checkout had local changes), check and diff mode,
and per host ok, changed, failed, unreachable, skipped. Extra-vars are recorded by name only (their
values may be secrets).

Where it goes:
- results/audit/<UTC time>-<run id>.json on the controller (always);
- the provincial collector: one syslog line (tag `unitctl-audit`, JSON) over TCP to the
  inventory's `province_centre` address and `province_syslog_port`, where roles/log_collector
  keeps it under /var/log/units/<controller hostname>/syslog.log. It is sent only when the run
  really reached hosts of the inventory (never for a run that touched nothing, such as the
  validation play, so a sample inventory's addresses are never contacted) and only to the
  inventory's own centre. A record that could not be delivered is kept in results/audit/unsent
  and sent with the next delivered one. Large runs are split into several lines.

ARA (PyPI `ara`) can record the same runs in full detail beside this; see README.md (Audit trail).
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import subprocess
import uuid
from datetime import datetime, timezone
from pathlib import Path

from ansible import context
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: unitctl_audit
type: aggregate
short_description: an audit record of every run, kept locally and sent to the provincial collector
description:
  - Writes a JSON record of the run under results/audit/ and sends it as a syslog line over TCP to
    the inventory's province_centre.
options:
  directory:
    description: where records are written (relative to the project)
    default: results/audit
    type: str
    env:
      - name: UNITCTL_AUDIT_DIR
    ini:
      - section: callback_unitctl_audit
        key: directory
  send:
    description: "auto: send when the run reached hosts of the inventory; never: keep records local only"
    default: auto
    choices: [auto, never]
    type: str
    env:
      - name: UNITCTL_AUDIT_SEND
    ini:
      - section: callback_unitctl_audit
        key: send
  timezone:
    description: the province's time zone, for the local time and the Jalali date
    default: Asia/Tehran
    type: str
    ini:
      - section: callback_unitctl_audit
        key: timezone
  timeout:
    description: seconds to wait for the collector
    default: 5
    type: float
    ini:
      - section: callback_unitctl_audit
        key: timeout
requirements:
  - enable in ansible.cfg (callbacks_enabled)
"""

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SYSLOG_PRIORITY = 13 * 8 + 6  # facility "log audit", severity informational
MAX_LINE = 7000  # rsyslog's default maximum message is 8 KiB
HOSTS_PER_LINE = 40


def moments(when: datetime, zone_name: str) -> dict:
    """The same instant in UTC, in the province's local time, and as a Jalali date-time."""
    try:
        from zoneinfo import ZoneInfo  # noqa: PLC0415

        local = when.astimezone(ZoneInfo(zone_name))
    except Exception:  # noqa: BLE001  (no tz database: local time falls back to UTC)
        local = when
    moment = {"utc": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "local": local.isoformat(timespec="seconds")}
    try:
        import jdatetime  # noqa: PLC0415

        moment["jalali"] = jdatetime.datetime.fromgregorian(datetime=local.replace(tzinfo=None)).strftime(
            "%Y/%m/%d %H:%M:%S")
    except ImportError:
        moment["jalali"] = None
    return moment


def git_commit(root: Path) -> dict:
    def git(*args: str) -> str:
        result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10,
                                check=False)
        return result.stdout.strip() if result.returncode == 0 else ""

    try:
        return {"commit": git("rev-parse", "HEAD") or None,
                "local_changes": bool(git("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "local_changes": None}


def syslog_lines(record: dict, hostname: str) -> list[bytes]:
    """The record as one or more RFC 3164 lines (JSON after the tag), each under MAX_LINE bytes."""
    now = datetime.now(timezone.utc)
    stamp = f"{now:%b} {now.day:2d} {now:%H:%M:%S}"

    def line(payload: dict) -> bytes:
        text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"), sort_keys=True)
        return f"<{SYSLOG_PRIORITY}>{stamp} {hostname} unitctl-audit: {text}\n".encode("ascii")

    whole = line(record)
    if len(whole) <= MAX_LINE:
        return [whole]
    hosts = sorted(record["hosts"].items())
    chunks = [dict(hosts[i:i + HOSTS_PER_LINE]) for i in range(0, len(hosts), HOSTS_PER_LINE)]
    head = {key: value for key, value in record.items() if key != "hosts"}
    head["part"] = f"1/{len(chunks) + 1}"
    return [line(head)] + [line({"run_id": record["run_id"], "part": f"{index}/{len(chunks) + 1}", "hosts": chunk})
                           for index, chunk in enumerate(chunks, 2)]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "unitctl_audit"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._started = datetime.now(timezone.utc)
        self._run_id = uuid.uuid4().hex
        self._playbooks: list[str] = []
        self._inventory = None
        self._variable_manager = None

    def v2_playbook_on_start(self, playbook):
        path = Path(playbook._file_name).resolve()
        try:
            self._playbooks.append(str(path.relative_to(PROJECT_ROOT)))
        except ValueError:
            self._playbooks.append(str(path))

    def v2_playbook_on_play_start(self, play):
        if self._inventory is None:
            self._variable_manager = play.get_variable_manager()
            self._inventory = getattr(self._variable_manager, "_inventory", None)

    # -- the record --------------------------------------------------------------------------

    def _host_vars(self, name: str) -> dict:
        try:
            host = self._inventory.get_host(name)
            return host.get_vars() if host is not None else {}
        except Exception:  # noqa: BLE001
            return {}

    def _centre(self) -> tuple[str | None, int]:
        if self._inventory is None:
            return None, 514
        centre = self._inventory.groups["all"].get_vars().get("province_centre") or {}
        address = centre.get("address") if isinstance(centre, dict) else None
        port = 514
        try:
            host = self._inventory.get_host(centre.get("name")) if centre.get("name") else None
            if host is not None:
                value = self._variable_manager.get_vars(host=host).get("province_syslog_port")
                port = int(value) if isinstance(value, int) or str(value).isdigit() else port
        except Exception:  # noqa: BLE001
            pass
        return address, port

    def _record(self, stats) -> dict:
        ended = datetime.now(timezone.utc)
        zone = self.get_option("timezone")
        hosts = {}
        for name in sorted(stats.processed):
            summary = stats.summarize(name)
            hosts[name] = {
                "unit": self._host_vars(name).get("unit_id"),
                "ok": summary["ok"], "changed": summary["changed"], "failed": summary["failures"],
                "unreachable": summary["unreachable"], "skipped": summary["skipped"],
                "rescued": summary.get("rescued", 0), "ignored": summary.get("ignored", 0),
            }
        args = context.CLIARGS
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = str(os.getuid())
        return {
            "schema": "unitctl-audit/1",
            "run_id": self._run_id,
            "user": user,
            "sudo_user": os.environ.get("SUDO_USER"),
            "uid": os.getuid(),
            "controller": socket.gethostname(),
            "started": moments(self._started, zone),
            "ended": moments(ended, zone),
            "seconds": round((ended - self._started).total_seconds(), 1),
            "playbooks": self._playbooks,
            "inventory": [str(source) for source in args.get("inventory") or []],
            "lab": bool(self._inventory is not None and "lab" in self._inventory.groups),
            "limit": args.get("subset"),
            "tags": list(args.get("tags") or []),
            "extra_vars_names": sorted({name for text in args.get("extra_vars") or []
                                        for name in _extra_var_names(text)}),
            "check_mode": bool(args.get("check")),
            "diff_mode": bool(args.get("diff")),
            "toolkit": git_commit(PROJECT_ROOT),
            "units": sorted({host["unit"] for host in hosts.values() if host["unit"]}),
            "hosts": hosts,
            "result": "failed" if any(h["failed"] or h["unreachable"] for h in hosts.values()) else "ok",
        }

    def v2_playbook_on_stats(self, stats):
        try:
            self._finish(stats)
        except Exception as error:  # noqa: BLE001  (an audit problem must never fail the run itself)
            self._display.warning(f"unitctl_audit: could not record the run: {error}")

    def _finish(self, stats):
        record = self._record(stats)
        directory = Path(self.get_option("directory"))
        directory = directory if directory.is_absolute() else PROJECT_ROOT / directory
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{self._started.strftime('%Y%m%dT%H%M%SZ')}-{self._run_id[:8]}.json"
        address, port = self._centre()
        inventory_hosts = [h for h in record["hosts"] if self._inventory is not None
                           and self._inventory.get_host(h) is not None and h in self._inventory.hosts]
        reached = [h for h in inventory_hosts if record["hosts"][h]["ok"] + record["hosts"][h]["changed"]
                   + record["hosts"][h]["failed"] > 0]
        record["delivery"] = {"to": f"{address}:{port}" if address else None, "sent": False}
        if self.get_option("send") == "never":
            record["delivery"]["reason"] = "sending is off (UNITCTL_AUDIT_SEND=never)"
        elif not address:
            record["delivery"]["reason"] = "the inventory names no provincial centre"
        elif not reached:
            record["delivery"]["reason"] = "the run reached no host of the inventory"
        else:
            error = self._send(record, address, port)
            record["delivery"]["attempted"] = True
            record["delivery"]["sent"] = error is None
            if error:
                record["delivery"]["reason"] = error
        path = directory / name
        path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        self._remember(directory, name, record, address, port)
        where = f"; sent to {address}:{port}" if record["delivery"]["sent"] else (
            f"; not sent ({record['delivery']['reason']})" if record["delivery"].get("reason") else "")
        self._display.display(f"audit record {path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path}"
                              f"{where}", screen_only=True)

    def _send(self, record: dict, address: str, port: int) -> str | None:
        try:
            with socket.create_connection((address, port), timeout=self.get_option("timeout")) as connection:
                for line in syslog_lines(record, socket.gethostname().split(".")[0]):
                    connection.sendall(line)
            return None
        except OSError as error:
            return f"{type(error).__name__}: {error}"

    def _remember(self, directory: Path, name: str, record: dict, address: str | None, port: int) -> None:
        """Keep undelivered records in `unsent`; after a delivery, send the earlier ones to the same centre."""
        unsent_file = directory / "unsent"
        unsent = [line for line in unsent_file.read_text().split()] if unsent_file.exists() else []
        if record["delivery"]["sent"]:
            still = []
            for earlier in unsent:
                try:
                    old = json.loads((directory / earlier).read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue
                if old.get("delivery", {}).get("to") != f"{address}:{port}" or self._send(old, address, port):
                    still.append(earlier)
            unsent = still
        elif record["delivery"].get("attempted"):
            unsent.append(name)
        if unsent:
            unsent_file.write_text("\n".join(unsent) + "\n")
        elif unsent_file.exists():
            unsent_file.unlink()


def _extra_var_names(text: str) -> list[str]:
    """Names of extra-vars given as key=value, YAML/JSON, or @file (the file's name only)."""
    text = str(text).strip()
    if text.startswith("@"):
        return [text]
    if text.startswith("{"):
        try:
            return list(json.loads(text))
        except ValueError:
            return ["<json>"]
    return [part.split("=", 1)[0] for part in text.split() if "=" in part]

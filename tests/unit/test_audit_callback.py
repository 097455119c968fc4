"""The audit callback (scripts/ansible_plugins/callback/unitctl_audit.py), with real ansible-playbook
runs on the controller itself: the record's fields, delivery to a collector (a local TCP listener
standing in for the centre's rsyslog), and no delivery when the run reached no host of the inventory."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "ansible_plugins" / "callback"))
import unitctl_audit  # noqa: E402

PLAY = """
- name: A play on the stand-in host
  hosts: all
  gather_facts: false
  tasks:
    - name: Change something
      ansible.builtin.command: "true"
      changed_when: true
    - name: Do nothing
      ansible.builtin.debug:
        msg: hello
"""


class Collector:
    """A TCP listener that keeps what it receives (the centre's rsyslog in miniature)."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.server.settimeout(60)
        try:
            while True:
                connection, _ = self.server.accept()
                with connection:
                    while chunk := connection.recv(65536):
                        self.received += chunk
        except OSError:
            return

    def close(self):
        self.server.close()


def run(tmp_path: Path, inventory: str, *args: str, env_extra: dict | None = None) -> tuple[subprocess.CompletedProcess, dict]:
    (tmp_path / "inventory.yml").write_text(inventory)
    (tmp_path / "play.yml").write_text(PLAY)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), UNITCTL_AUDIT_DIR=str(tmp_path / "audit"),
               SUDO_USER="a.rezaei", ANSIBLE_VAULT_PASSWORD_FILE=str(vault_file(tmp_path)), **(env_extra or {}))
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    result = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(tmp_path / "inventory.yml"),
                             str(tmp_path / "play.yml"), "-e", "secret_thing=hunter22", *args],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    records = sorted((tmp_path / "audit").glob("*.json"))
    assert result.returncode == 0 and records, result.stdout[-3000:] + result.stderr[-3000:]
    return result, json.loads(records[-1].read_text())


def vault_file(tmp_path: Path) -> Path:
    """No vault is read here; Ansible only wants some password source."""
    path = tmp_path / "vault-id"
    path.write_text("unused\n")
    return path


def inventory_with_centre(port: int) -> str:
    return f"""
all:
  vars:
    province_centre: {{name: stand-in, address: 127.0.0.1, unit_id: unit-x}}
  hosts:
    stand-in:
      ansible_connection: local
      ansible_python_interpreter: {sys.executable}
      unit_id: unit-x
      province_syslog_port: {port}
"""


def test_record_and_delivery(tmp_path):
    collector = Collector()
    try:
        result, record = run(tmp_path, inventory_with_centre(collector.port), "--limit", "stand-in")
    finally:
        collector.close()
    assert record["schema"] == "unitctl-audit/1"
    assert record["sudo_user"] == "a.rezaei" and record["user"]
    assert record["started"]["utc"].endswith("Z") and record["started"]["jalali"][:2] == "14"
    assert record["playbooks"] == [str(tmp_path / "play.yml")]
    assert record["limit"] == "stand-in" and record["check_mode"] is False
    assert record["extra_vars_names"] == ["secret_thing"] and "hunter22" not in json.dumps(record)
    assert len(record["toolkit"]["commit"]) == 40
    assert record["units"] == ["unit-x"]
    assert record["hosts"]["stand-in"]["changed"] == 1 and record["hosts"]["stand-in"]["failed"] == 0
    assert record["delivery"] == {"to": f"127.0.0.1:{collector.port}", "sent": True, "attempted": True}
    line = collector.received.decode()
    assert " unitctl-audit: " in line and line.endswith("\n")
    assert json.loads(line.split(" unitctl-audit: ", 1)[1])["run_id"] == record["run_id"]
    assert "audit record" in result.stdout


def test_check_mode_is_recorded(tmp_path):
    collector = Collector()
    try:
        _, record = run(tmp_path, inventory_with_centre(collector.port), "--check")
    finally:
        collector.close()
    assert record["check_mode"] is True


def test_no_delivery_when_no_inventory_host_was_reached(tmp_path):
    """A run that touched no host of the inventory (like the validation play) contacts nobody."""
    inventory = inventory_with_centre(9)  # the discard port: never connected to
    (tmp_path / "inventory.yml").write_text(inventory)
    (tmp_path / "local.yml").write_text(PLAY.replace("hosts: all", "hosts: localhost"))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), UNITCTL_AUDIT_DIR=str(tmp_path / "audit"),
               ANSIBLE_VAULT_PASSWORD_FILE=str(vault_file(tmp_path)))
    result = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(tmp_path / "inventory.yml"),
                             str(tmp_path / "local.yml")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    record = json.loads(sorted((tmp_path / "audit").glob("*.json"))[-1].read_text())
    assert record["delivery"]["sent"] is False
    assert record["delivery"]["reason"] == "the run reached no host of the inventory"
    assert not (tmp_path / "audit" / "unsent").exists()


def test_undelivered_records_are_kept_and_sent_later(tmp_path):
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    _, first = run(tmp_path, inventory_with_centre(port))
    assert first["delivery"]["sent"] is False
    assert (tmp_path / "audit" / "unsent").read_text().split() != []
    collector = Collector.__new__(Collector)
    collector.server = socket.create_server(("127.0.0.1", port))
    collector.port, collector.received = port, b""
    collector.thread = threading.Thread(target=collector._serve, daemon=True)
    collector.thread.start()
    try:
        _, second = run(tmp_path, inventory_with_centre(port))
    finally:
        collector.close()
    assert second["delivery"]["sent"] is True
    assert first["run_id"] in collector.received.decode() and second["run_id"] in collector.received.decode()
    assert not (tmp_path / "audit" / "unsent").exists()


@pytest.mark.parametrize("hosts", [1, 300])
def test_syslog_lines_fit_the_collector(hosts):
    record = {"run_id": "r1", "user": "u", "hosts": {f"host-{i:04d}": {"ok": 1, "changed": 0, "failed": 0,
                                                                        "unreachable": 0, "unit": "unit-x"}
                                                     for i in range(hosts)}}
    lines = unitctl_audit.syslog_lines(record, "controller")
    assert all(len(line) <= unitctl_audit.MAX_LINE for line in lines)
    seen = {}
    for line in lines:
        payload = json.loads(line.decode().split(" unitctl-audit: ", 1)[1])
        assert payload["run_id"] == "r1"
        seen.update(payload.get("hosts", {}))
    assert len(seen) == hosts

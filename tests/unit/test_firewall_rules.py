"""The firewall's ruleset and the services' fragments (roles/firewall), rendered offline and loaded
by the real nft in a throwaway user and network namespace; and the rule that each listening role
declares its own rules (no playbook writes firewall rules)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml

from unitctl.paths import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "roles" / "firewall" / "templates"
NFT = shutil.which("nft") or "/usr/sbin/nft"


def render(name: str, **variables) -> str:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True,
                                     undefined=jinja2.StrictUndefined)
    return environment.get_template(name).render(ansible_managed="test", **variables)


def nft_in_namespace(script: str) -> subprocess.CompletedProcess:
    if not Path(NFT).exists() or not shutil.which("unshare"):
        pytest.skip("nft or unshare is not on this machine")
    result = subprocess.run(["unshare", "-rn", "sh", "-c", script], capture_output=True, text=True, timeout=30)
    if "Operation not permitted" in result.stderr and "unshare" in result.stderr:
        pytest.skip("user namespaces are not allowed here")
    return result


def test_each_services_rules_load_into_the_input_chain_before_the_drop_log(tmp_path):
    fragments = tmp_path / "nftables.d"
    fragments.mkdir()
    main = tmp_path / "nftables.conf"
    main.write_text(render("nftables.conf.j2", firewall_allow_icmp=True, firewall_log_dropped=True,
                           firewall_fragments_dir=str(fragments), firewall_rules=[]))
    (fragments / "ssh_server.nft").write_text(render(
        "service.nft.j2", firewall_service="ssh_server",
        firewall_service_rules=[{"name": "ssh", "proto": "tcp", "ports": [22], "sources": ["10.213.19.0/24"]}]))
    (fragments / "dns_dhcp.nft").write_text(render(
        "service.nft.j2", firewall_service="dns_dhcp",
        firewall_service_rules=[{"name": "dns", "proto": "udp", "ports": [53], "sources": ["10.213.20.0/24", "10.213.10.0/24"]},
                                {"name": "dhcp", "proto": "udp", "ports": [67, 67], "sources": ["0.0.0.0/32"]}]))
    loaded = nft_in_namespace(f"{NFT} -f {main} && {NFT} list chain inet unitctl_filter input")
    assert loaded.returncode == 0, loaded.stderr
    rules = [line.strip() for line in loaded.stdout.splitlines()]
    named = [match.group(1) for line in rules for match in [re.search(r'comment "([^"]+)"$', line)] if match]
    assert set(named) >= {"ssh", "dns", "dhcp", "icmp"}, rules
    assert "policy drop" in loaded.stdout
    # The log of dropped packets comes after every accept, the services' included ones too.
    log_at = next(i for i, line in enumerate(rules) if "log prefix" in line)
    assert all(i < log_at for i, line in enumerate(rules) if line.endswith('"ssh"') or line.endswith('"dns"'))
    ssh = next(line for line in rules if line.endswith('"ssh"'))
    assert "ip saddr 10.213.19.0/24 tcp dport 22 accept" in ssh


def test_a_fragment_is_checked_on_its_own_as_the_role_validates_it(tmp_path):
    fragment = tmp_path / "archive_share.nft"
    fragment.write_text(render("service.nft.j2", firewall_service="archive_share", firewall_service_rules=[
        {"name": "smb", "proto": "tcp", "ports": [445], "sources": ["10.213.20.0/24"]}]))
    assert nft_in_namespace(f"{NFT} -c -f {fragment}").returncode == 0
    fragment.write_text(fragment.read_text().replace("10.213.20.0/24", "10.213.20.0/33"))
    assert nft_in_namespace(f"{NFT} -c -f {fragment}").returncode != 0, "a broken fragment must not pass the check"


def test_no_playbook_writes_firewall_rules_each_listening_role_hands_its_own():
    playbooks = "\n".join(path.read_text() for path in (PROJECT_ROOT / "playbooks").glob("*.yml"))
    assert "firewall_rules" not in playbooks and "dport" not in playbooks
    assert not (PROJECT_ROOT / "playbooks" / "group_vars").exists()
    for role in sorted((PROJECT_ROOT / "roles").iterdir()):
        specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]
        inputs = [name for name in specs.get("options", {}) if name.endswith("_firewall_sources")]
        tasks = (role / "tasks" / "main.yml").read_text()
        handed = "tasks_from: service" in tasks and f"firewall_service: {role.name}" in tasks
        assert bool(inputs) == handed, f"{role.name}: a firewall input without the hand-off, or the reverse"

"""Helpers for the login checks (test_banner.py, test_login.py): which hosts, where the policy is."""

from __future__ import annotations

LINUX_HOSTS = ("unit_server", "centre_server", "cms_client")
POLICY = "inventory/group_vars/all/login.yml"
# Every Linux host gets roles/login_banner and roles/login_policy: the servers from
# playbooks/servers.yml (server_base.yml), the workstations from playbooks/workstations.yml.
FIX = "playbooks/site.yml"  # servers and workstations alike: --limit picks the host's job

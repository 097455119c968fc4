"""Derived data the plays use (unitctl.inventory.derived), checked offline on small units and the lab."""

from __future__ import annotations

from pathlib import Path

import pytest

from unitctl.inventory import derived
from unitctl.inventory.load import Province, Unit, load_units_dir
from unitctl.paths import LAB_UNITS_DIR


def make_unit(unit_id: str, *, vlans=(), hosts=(), staff=(), domain="x.internal", name_en="Unit") -> Unit:
    return Unit(Path(unit_id), data={
        "unit.yml": {"unit": {"id": unit_id, "domain": domain, "name_en": name_en}},
        "addressing.yml": {"addressing": {"vlans": list(vlans)}},
        "hosts.yml": {"hosts": list(hosts)},
        "staff.yml": {"staff": list(staff)},
    })


@pytest.mark.parametrize("subnet, netmask", [
    ("10.25.65.0/24", "255.255.255.0"),
    ("10.25.64.0/23", "255.255.254.0"),
    ("10.25.65.64/26", "255.255.255.192"),
    ("10.25.0.0/16", "255.255.0.0"),
    ("10.25.65.0/30", "255.255.255.252"),
    # A dotted mask is the same /24: the old Jinja arithmetic made it 0.0.0.0.
    ("10.25.65.0/255.255.255.0", "255.255.255.0"),
])
def test_a_dhcp_range_has_the_netmask_of_its_subnet(subnet, netmask):
    unit = make_unit("u", vlans=[{"id": 20, "purpose": "cms_clients", "subnet": subnet, "gateway": "10.25.65.1",
                                  "dhcp": {"start": "10.25.65.100", "end": "10.25.65.101"}}])
    assert derived.dhcp_ranges(unit) == [{"tag": "vlan20", "start": "10.25.65.100", "end": "10.25.65.101",
                                          "netmask": netmask, "router": "10.25.65.1"}]


def test_only_vlans_with_a_dhcp_block_get_a_range_and_a_missing_gateway_is_empty():
    unit = make_unit("u", vlans=[
        {"id": 10, "purpose": "servers", "subnet": "10.1.0.0/24"},
        {"id": 20, "purpose": "cms_clients", "subnet": "10.1.1.0/24", "dhcp": {"start": "10.1.1.10", "end": "10.1.1.20"}},
        {"id": 999, "purpose": "unused_ports"},
    ])
    assert derived.dhcp_ranges(unit) == [{"tag": "vlan20", "start": "10.1.1.10", "end": "10.1.1.20",
                                          "netmask": "255.255.255.0", "router": ""}]


def test_networks_by_purpose_keep_the_plans_order_and_skip_the_dead_vlan():
    unit = make_unit("u", vlans=[
        {"id": 10, "purpose": "servers", "subnet": "10.1.0.0/24"},
        {"id": 20, "purpose": "cms_clients", "subnet": "10.1.2.0/24"},
        {"id": 21, "purpose": "cms_clients", "subnet": "10.1.1.0/255.255.255.0"},
        {"id": 999, "purpose": "unused_ports"},
    ])
    assert derived.networks_by_purpose(unit) == {"servers": ["10.1.0.0/24"],
                                                 "cms_clients": ["10.1.2.0/24", "10.1.1.0/24"]}


def test_client_networks_are_the_client_printer_and_server_vlans_once_each():
    unit = make_unit("u", vlans=[
        {"id": 19, "purpose": "management", "subnet": "10.1.9.0/24"},
        {"id": 10, "purpose": "servers", "subnet": "10.1.0.0/24"},
        {"id": 20, "purpose": "cms_clients", "subnet": "10.1.2.0/24"},
        {"id": 30, "purpose": "printers", "subnet": "10.1.3.0/24"},
        {"id": 21, "purpose": "cms_clients", "subnet": "10.1.2.0/255.255.255.0"},
        {"id": 999, "purpose": "unused_ports"},
    ])
    # The firewall opens names, DHCP and time to these: never the management VLAN.
    assert derived.client_networks(unit) == ["10.1.2.0/24", "10.1.3.0/24", "10.1.0.0/24"]


def test_printers_of_the_branch_else_those_of_no_branch():
    printers = [{"name": "p-b1", "function": "printer", "address": "10.0.0.1", "branch": "b1", "model": "HP M404"},
                {"name": "p-all", "function": "printer", "address": "10.0.0.2"},
                {"name": "p-b2", "function": "printer", "address": "10.0.0.3", "branch": "b2"}]
    unit = make_unit("u", hosts=printers, name_en="County courts")
    assert derived.printers_for(unit, {"name": "ws", "branch": "b1"}) == [
        {"name": "p-b1", "address": "10.0.0.1", "description": "HP M404", "location": "County courts"}]
    no_printer_of_its_own = [p["name"] for p in derived.printers_for(unit, {"name": "ws", "branch": "b9"})]
    assert no_printer_of_its_own == ["p-all"]
    assert [p["name"] for p in derived.printers_for(unit, {"name": "ws"})] == ["p-all"]


def test_printer_queues_use_policys_uri_or_ipp_everywhere():
    printers = [{"name": "p1", "address": "10.0.0.1", "description": "HP", "location": "Court"}]
    assert derived.printer_queues(printers, "", "everywhere") == [
        {"name": "p1", "uri": "ipp://10.0.0.1/ipp/print", "driver": "everywhere", "description": "HP",
         "location": "Court"}]
    assert derived.printer_queues(printers, "cups-pdf:/", "lsb/x.ppd")[0]["uri"] == "cups-pdf:/"
    assert derived.printer_queues(printers, "cups-pdf:/", "")[0]["driver"] == "everywhere"


def test_each_unit_server_uploads_its_logs_from_its_own_loopback_address():
    servers = [{"name": "court-srv", "address": "10.213.20.10"}, {"name": "pros-srv", "address": "10.213.30.10"}]
    assert derived.log_upload_clients(servers) == [{"name": "court-srv", "source": "127.213.20.10"},
                                                   {"name": "pros-srv", "source": "127.213.30.10"}]
    assert derived.log_upload_clients([]) == []


@pytest.mark.parametrize(("servers", "message"), [
    ([{"name": "a-srv", "address": "10.1.2.3"}, {"name": "b-srv", "address": "172.1.2.3"}], "same loopback address"),
    ([{"name": "a-srv", "address": "10.0.0.1"}], "same loopback address 127.0.0.1"),
    ([{"name": "a-srv", "address": "fd00::10"}], "IPv4 senders only"),
])
def test_log_upload_sources_that_would_mix_journals_are_refused(servers, message):
    with pytest.raises(ValueError, match=message):
        derived.log_upload_clients(servers)


def test_the_roster_projections_carry_only_what_each_role_needs():
    person = {"username": "a.b", "name_en": "A B", "name_fa": "الف", "role": "technician",
              "ssh_key": "ssh-ed25519 AAAA", "appointment": {"number": "1"}}
    unit = make_unit("u", staff=[person])
    variables = derived.unit_vars(unit, Province(Path("."), [unit]))
    assert variables["unit_staff_accounts"] == [{"username": "a.b", "name_en": "A B", "role": "technician",
                                                 "ssh_key": "ssh-ed25519 AAAA"}]
    assert variables["unit_staff_roles"] == [{"username": "a.b", "role": "technician"}]
    assert variables["unit_group"] == "unit_u"


LAB = load_units_dir(LAB_UNITS_DIR)
LAB_UNITS = {unit.id: unit for unit in LAB.units}


def test_the_lab_courts_hosts_file_names_its_hosts_and_the_centre():
    entries = derived.hosts_entries(LAB_UNITS["lab-court"], LAB)
    names = [entry["name"] for entry in entries]
    assert names == sorted(names) and "centre-srv" in names and "court-srv" in names
    assert {"name": "centre-srv", "address": "10.213.10.10", "fqdn": "centre-srv.centre.lab.internal"} in entries
    assert {"name": "court-srv", "address": "10.213.20.10", "fqdn": "court-srv.court.lab.internal"} in entries


def test_the_lab_provinces_cross_unit_data():
    variables = derived.province_vars(LAB)
    assert variables["province_centre"]["name"] == "centre-srv"
    assert variables["province_centre"]["address"] == "10.213.10.10"
    servers = [server["name"] for server in variables["province_unit_servers"]]
    assert servers == ["court-srv", "pros-srv"]
    assert variables["province_unit_server_sources"] == ["10.213.20.10/32", "10.213.30.10/32"]
    assert variables["province_backup_clients"] == [{"name": "lab-court"}, {"name": "lab-prosecutor"}]
    assert variables["province_results_clients"] == [{"name": "lab-court"}, {"name": "lab-prosecutor"}]
    assert variables["province_dns_delegations"] == [{"zone": "court.lab.internal", "server": "10.213.20.10"},
                                                     {"zone": "pros.lab.internal", "server": "10.213.30.10"}]
    assert variables["province_cms_client_networks"] == ["10.213.21.0/24", "10.213.31.0/24"]


def test_a_workstation_knows_its_unit_server():
    assert derived.unit_server(LAB_UNITS["lab-court"]) == {"name": "court-srv", "address": "10.213.20.10"}
    assert derived.unit_server(LAB_UNITS["lab-centre"]) == {}



def test_every_derived_name_is_reserved_in_the_policy_schema():
    """No file may set what the inventory plugin computes (validation refuses it everywhere)."""
    from unitctl.inventory.policy_schema import load_schema

    unit, host = LAB_UNITS["lab-court"], LAB_UNITS["lab-court"].hosts[1]
    produced = set(derived.unit_vars(unit, LAB)) | set(derived.province_vars(LAB)) | set(derived.host_vars(unit, host))
    assert produced <= load_schema().derived, sorted(produced - load_schema().derived)


def test_todo_markers_are_listed_with_file_and_line(tmp_path):
    folder = tmp_path / "new-court"
    folder.mkdir()
    (folder / "rooms.yml").write_text("rooms:\n  server_room:\n    ups: {model: TODO}\n", encoding="utf-8")
    assert derived.todo_markers(Unit(folder)) == ["rooms.yml:3: ups: {model: TODO}"]

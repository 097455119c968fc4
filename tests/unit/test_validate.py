"""Validation of the inventory: each broken province is reported with its file, path and reason.

Every case copies the small valid province in fixtures/province/ and breaks one thing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from unitctl.paths import INVENTORY_DIR
from unitctl.inventory.validate import Problem, format_problems, validate_province

from fixture_province import copy_fixture_province

KEY_SUP = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEHpvjzvfDJkfHcIFTM8sSiUwEHljysAKiwCZZ+V2tKu c.sup@fixture"
KEY_ADMIN = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIx/JCGE/LPRz56iJvoPI1meD0TZhbEefJfrmLXVF92I c.admin@fixture"
Mutation = Callable[[Path], None]
RSA_1024 = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDHzM7NAEoRtc9iH7G6K68AQZXQhcKQ/fb6RP8ll0wlbDwc62C3HHaeSmdzdnP5"
            "KaeI7nMVrNwpakfHe/xdG//FqAm0Kr6ttnlSZr6khfIgx7QlFdXPhYEJ+Xj8QhFPb8INaOuIhwctJGUpEzx8P0YBZVDnwwMyKIr/rLR6"
            "124lDQ== t@x")
RESERVED = ("'{}' is a system or reserved account (root, the automation account, Debian's service users): the "
            "accounts role would take it over; give the person a name of their own, such as 'a.rezaei'")


@pytest.fixture
def province(tmp_path: Path) -> Path:
    """A fresh copy of the valid fixture province; returns its inventory root."""
    return copy_fixture_province(tmp_path / "inventory")


def problems_of(root: Path) -> list[Problem]:
    return validate_province(root, root / "units")


# --- mutations: each changes one thing in one file of the copy ---------------------------------

def _edit(file: str, change: Callable[[object], None]) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / file
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return mutate


def _parent(data, path):
    for part in path[:-1]:
        data = data[part]
    return data


def put(file: str, path: tuple, value) -> Mutation:
    return _edit(file, lambda data: _parent(data, path).__setitem__(path[-1], value))


def drop(file: str, path: tuple) -> Mutation:
    return _edit(file, lambda data: _parent(data, path).pop(path[-1]))


def append(file: str, path: tuple, item) -> Mutation:
    return _edit(file, lambda data: _parent(data, path + (None,)).append(item))


def rename(file: str, path: tuple, new_key: str) -> Mutation:
    def change(data):
        parent = _parent(data, path)
        parent[new_key] = parent.pop(path[-1])
    return _edit(file, change)


def write(file: str, text: str) -> Mutation:
    def mutate(root: Path) -> None:
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).write_text(text, encoding="utf-8")
    return mutate


def remove(file: str) -> Mutation:
    return lambda root: (root / file).unlink()


def replace_text(file: str, old: str, new: str) -> Mutation:
    """Change the file's text as a person typing would (YAML reads what they typed)."""
    def mutate(root: Path) -> None:
        text = (root / file).read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file}"
        (root / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return mutate


def unit_folder_link(root: Path) -> None:
    """A second unit folder that is a link to the first (the same unit twice)."""
    (root / "units" / "court-copy").symlink_to("court")


def folder_instead(file: str) -> Mutation:
    """The file replaced by a folder of the same name (a technician's 'new folder' mistake)."""
    def mutate(root: Path) -> None:
        (root / file).unlink()
        (root / file).mkdir()
        (root / file / "rooms.yml").write_text("rooms: {}\n", encoding="utf-8")
    return mutate


def dangling_link(file: str) -> Mutation:
    """The file replaced by a symbolic link to nothing (a copy from another machine)."""
    def mutate(root: Path) -> None:
        (root / file).unlink()
        (root / file).symlink_to(root / "nowhere" / "staff.yml")
    return mutate


def pipe_instead(file: str) -> Mutation:
    """The file replaced by a named pipe: reading it would wait for ever."""
    def mutate(root: Path) -> None:
        (root / file).unlink()
        os.mkfifo(root / file)
    return mutate


# Nine levels of nine aliases: 3 lines short of 400 million values ("billion laughs").
NESTED_ALIASES = "---\nstaff:\n  - &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"  - &{name} [{', '.join(['*' + previous] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi"))


HOSTS = "units/court/hosts.yml"
STAFF = "units/court/staff.yml"
UNIT = "units/court/unit.yml"
ROOMS = "units/court/rooms.yml"
ADDRESSING = "units/court/addressing.yml"
SWITCH_PORTS = ("hosts", 3, "ports")
WORKSTATION = {"name": "court-ws2", "function": "cms_client", "profile": "branch_clerk",
               "address": "10.99.17.12", "vlan": 20}

# (id, mutation, file, YAML path, reason)
CASES = [
    ("unknown-key-with-suggestion", rename(HOSTS, ("hosts", 0, "address"), "adress"),
     HOSTS, "hosts[0].adress", "unknown key 'adress' (did you mean 'address'?)"),
    ("required-field-missing", drop(STAFF, ("staff", 2, "ssh_key")),
     STAFF, "staff[2].ssh_key", "'ssh_key' is required but missing"),
    ("bool-is-not-a-vlan-number", put(HOSTS, ("hosts", 0, "vlan"), True),
     HOSTS, "hosts[0].vlan", "should be a whole number, but it is a yes/no value (true)"),
    ("text-is-not-a-number", put(ROOMS, ("rooms", "server_room", "ups", "capacity_va"), "3000VA"),
     ROOMS, "rooms.server_room.ups.capacity_va", "should be a number, but it is text ('3000VA')"),
    ("unknown-unit-kind", put(UNIT, ("unit", "kind"), "county-court"),
     UNIT, "unit.kind", "'county-court' is not a known unit kind; choose one of: county_court, prosecutor, "
                        "appeals_court, provincial_centre (did you mean 'county_court'?)"),
    ("username-pattern", put(STAFF, ("staff", 1, "username"), "Mahdi.Jafari"),
     STAFF, "staff[1].username", "'Mahdi.Jafari' is not valid here: use 2-32 lowercase letters, digits, '.', "
                                 "'_' or '-', starting with a letter, such as 'a.rezaei'"),
    ("unit-id-differs-from-folder", put(UNIT, ("unit", "id"), "court2"),
     UNIT, "unit.id", "the id 'court2' differs from the folder name 'court'; they must be the same"),
    ("hostname-in-two-units", put("units/centre/hosts.yml", ("hosts", 0, "name"), "court-srv"),
     HOSTS, "hosts[0].name", "the host name 'court-srv' is already used at hosts[0].name in unit 'centre'; "
                             "each host name must be unique in the province"),
    ("address-used-twice", append(HOSTS, ("hosts",), {**WORKSTATION, "address": "10.99.17.11"}),
     HOSTS, "hosts[4].address", "the address '10.99.17.11' is already used at hosts[1].address in this file; "
                                "each address must be unique in the province"),
    ("subnets-overlap-across-units", put("units/centre/addressing.yml", ("addressing", "vlans", 1, "subnet"),
                                         "10.99.16.0/20"),
     ADDRESSING, "addressing.vlans[0].subnet",
     "the subnet 10.99.16.0/24 overlaps 10.99.16.0/20 at addressing.vlans[1].subnet in unit 'centre'"),
    ("subnets-overlap-in-a-unit", put(ADDRESSING, ("addressing", "vlans", 2, "subnet"), "10.99.17.0/25"),
     ADDRESSING, "addressing.vlans[2].subnet",
     "the subnet 10.99.17.0/25 overlaps 10.99.17.0/24 at addressing.vlans[1].subnet in this file"),
    ("host-vlan-not-defined", put(HOSTS, ("hosts", 0, "vlan"), 40),
     HOSTS, "hosts[0].vlan", "VLAN 40 is not defined in this unit's addressing.yml"),
    ("host-address-outside-its-vlan", put(HOSTS, ("hosts", 0, "address"), "10.99.17.10"),
     HOSTS, "hosts[0].address", "10.99.17.10 is outside the subnet 10.99.16.0/24 of VLAN 10"),
    ("gateway-outside-subnet", put(ADDRESSING, ("addressing", "vlans", 0, "gateway"), "10.99.17.1"),
     ADDRESSING, "addressing.vlans[0].gateway", "the gateway 10.99.17.1 is outside the subnet 10.99.16.0/24"),
    ("dhcp-range-outside-subnet", put(ADDRESSING, ("addressing", "vlans", 1, "dhcp", "end"), "10.99.18.20"),
     ADDRESSING, "addressing.vlans[1].dhcp.end", "the DHCP range end 10.99.18.20 is outside the subnet 10.99.17.0/24"),
    ("access-port-on-unknown-vlan", put(HOSTS, SWITCH_PORTS + (2, "vlan"), 50),
     HOSTS, "hosts[3].ports[2].vlan", "VLAN 50 is not defined in this unit's addressing.yml"),
    ("trunk-port-on-unknown-vlan", put(HOSTS, SWITCH_PORTS + (3, "vlans"), [10, 20, 30, 40]),
     HOSTS, "hosts[3].ports[3].vlans[3]", "VLAN 40 is not defined in this unit's addressing.yml"),
    ("same-port-twice", put(HOSTS, SWITCH_PORTS + (2, "port"), "FastEthernet0/1"),
     HOSTS, "hosts[3].ports[2].port", "port FastEthernet0/1 is already described at ports[0] of this switch"),
    ("port-connects-unknown-host", put(HOSTS, SWITCH_PORTS + (1, "connects"), "court-ws9"),
     HOSTS, "hosts[3].ports[1].connects", "'court-ws9' is not a host of this unit's hosts.yml"),
    ("username-in-two-units", append("units/centre/staff.yml", ("staff",),
                                     {"username": "c.operator", "name_fa": "زهرا صادقی", "name_en": "Zahra Sadeghi",
                                      "role": "cms_operator", "area": "statistics", "ssh_key": "TODO: key"}),
     STAFF, "staff[2].username", "the username 'c.operator' is already used at staff[1].username in unit "
                                 "'centre'; each username must be unique in the province"),
    ("username-twice-in-a-unit", put(STAFF, ("staff", 2, "username"), "c.admin"),
     STAFF, "staff[2].username", "the username 'c.admin' is already used at staff[1].username in this file"),
    ("unit-without-supervisor", drop(UNIT, ("unit", "supervisor")),
     UNIT, "unit.supervisor", "'supervisor' is required but missing"),
    ("supervisor-not-in-roster", put(UNIT, ("unit", "supervisor"), "x.nobody"),
     UNIT, "unit.supervisor", "the supervisor 'x.nobody' is not in this unit's staff.yml"),
    ("supervisor-with-another-role", put(UNIT, ("unit", "supervisor"), "c.admin"),
     UNIT, "unit.supervisor", "the supervisor 'c.admin' has the role 'sysadmin' in staff.yml; the supervisor's "
                              "role must be 'supervisor'"),
    ("unsupported-platform", put(HOSTS, ("hosts", 3, "platform"), "junos"),
     HOSTS, "hosts[3].platform", "'junos' is not a supported device platform; choose one of: ios, routeros"),
    ("host-vars-for-no-host", write("host_vars/court-srv2.yml", "---\nbackup_hour: 3\n"),
     "host_vars/court-srv2.yml", "", "no unit has a host named 'court-srv2'; rename this file after an existing "
                                     "host or delete it"),
    ("ssh-key-type-unknown", put(STAFF, ("staff", 1, "ssh_key"), KEY_ADMIN.replace("ssh-ed25519", "ssh-ed2551")),
     STAFF, "staff[1].ssh_key", "the key starts with 'ssh-ed2551', which is not an SSH key type; paste the whole "
                                "line of the .pub file, starting with one of: ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256"),
    ("ssh-key-not-base64", put(STAFF, ("staff", 1, "ssh_key"), KEY_ADMIN.replace("AAAAIIx", "AAAA!Ix")),
     STAFF, "staff[1].ssh_key", "the key data is damaged (not valid base64); paste the .pub file's line again, "
                                "all on one line"),
    ("ssh-key-type-and-data-disagree", put(STAFF, ("staff", 1, "ssh_key"), KEY_ADMIN.replace("ssh-ed25519", "ssh-rsa")),
     STAFF, "staff[1].ssh_key", "the key data does not belong to a 'ssh-rsa' key (it is cut short or mixed with "
                                "another key); paste the .pub file's line again"),
    ("private-key-pasted", put(STAFF, ("staff", 1, "ssh_key"), "-----BEGIN OPENSSH PRIVATE KEY-----"),
     STAFF, "staff[1].ssh_key", "this is a PRIVATE key: never put it in the inventory; paste the .pub file's "
                                "line instead"),
    ("jalali-date-format", put(STAFF, ("staff", 1, "appointment", "date"), "1387-07-01"),
     STAFF, "staff[1].appointment.date", "should be a Jalali date written YYYY/MM/DD, such as 1387/07/01, but "
                                         "it is text ('1387-07-01')"),
    ("esfand-30-in-a-common-year", put(STAFF, ("staff", 1, "appointment", "date"), "1400/12/30"),
     STAFF, "staff[1].appointment.date", "1400/12/30 is not a real date in the Jalali calendar (months 1-6 have "
                                         "31 days, 7-11 have 30, Esfand has 29, or 30 in a leap year)"),
    ("date-in-the-future", put(STAFF, ("staff", 1, "appointment", "date"), "1499/01/01"),
     STAFF, "staff[1].appointment.date", "1499/01/01 is in the future; check the year"),
    ("privileged-role-without-appointment", drop(STAFF, ("staff", 1, "appointment")),
     STAFF, "staff[1]", "a sysadmin needs an 'appointment' (number, date, issued_by): the circular requires an "
                        "appointment letter for this role"),
    ("supervisor-appointed-by-unit-head", put(STAFF, ("staff", 0, "appointment", "issued_by"), "unit_head"),
     STAFF, "staff[0].appointment.issued_by", "a supervisor is appointed by the provincial directorate "
                                              "(circular, note 1); write 'provincial_directorate'"),
    ("workstation-profile-unknown", put(HOSTS, ("hosts", 1, "profile"), "clerk"),
     HOSTS, "hosts[1].profile", "'clerk' is not a known workstation profile; choose one of: registry_office, "
                                "branch_clerk, scanning_station"),
    ("branch-not-defined", put(HOSTS, ("hosts", 1, "branch"), "b9"),
     HOSTS, "hosts[1].branch", "the branch 'b9' is not defined in this unit's unit.yml (unit.branches)"),
    ("temperature-min-not-below-max", put(ROOMS, ("rooms", "server_room", "temperature_c", "min"), 30),
     ROOMS, "rooms.server_room.temperature_c", "the lowest temperature (30) must be below the highest (27)"),
    ("temperature-slip-of-the-keyboard", put(ROOMS, ("rooms", "server_room", "temperature_c", "max"), 270),
     ROOMS, "rooms.server_room.temperature_c.max", "must be between 0 and 50 °C (a server room's limit), but it is 270"),
    ("humidity-min-not-below-max", put(ROOMS, ("rooms", "server_room", "humidity_pct"), {"min": 60, "max": 40}),
     ROOMS, "rooms.server_room.humidity_pct", "the lowest humidity (60) must be below the highest (40)"),
    ("humidity-over-100", put(ROOMS, ("rooms", "server_room", "humidity_pct"), {"min": 20, "max": 180}),
     ROOMS, "rooms.server_room.humidity_pct.max", "must be between 0 and 100 % relative humidity, but it is 180"),
    ("ups-runtime-not-positive", put(ROOMS, ("rooms", "support_room", "ups", "runtime_min"), 0),
     ROOMS, "rooms.support_room.ups.runtime_min", "must be more than 0, but it is 0"),
    ("ups-only-without-ups", drop(ROOMS, ("rooms", "support_room", "ups")),
     ROOMS, "rooms.support_room.emergency_power", "emergency power is 'ups_only' but no 'ups' is described for "
                                                  "this room"),
    ("vlan-id-twice", put(ADDRESSING, ("addressing", "vlans", 2, "id"), 20),
     ADDRESSING, "addressing.vlans[2].id", "the VLAN id '20' is already used at addressing.vlans[1].id in this file"),
    ("no-provincial-centre", put("units/centre/unit.yml", ("unit", "kind"), "county_court"),
     "units", "", "no unit has kind 'provincial_centre'; the province needs exactly one (its Statistics and "
                  "Informatics centre)"),
    ("two-provincial-centres", put(UNIT, ("unit", "kind"), "provincial_centre"),
     UNIT, "unit.kind", "unit 'centre' is already the provincial centre; a province has exactly one"),
    ("plaintext-secret-in-policy", put("group_vars/all/devices.yml", ("device_enable_password",), "cisco123"),
     "group_vars/all/devices.yml", "device_enable_password",
     "'device_enable_password' holds a plaintext secret; move the value into an ansible-vault file and write "
     "\"{{ vault_device_enable_password }}\" here"),
    ("plaintext-secret-in-a-unit-file", put(HOSTS, ("hosts", 3, "enable_secret"), "cisco"),
     HOSTS, "hosts[3].enable_secret", "'enable_secret' holds a plaintext secret; move the value into an "
                                      "ansible-vault file and write \"{{ vault_enable_secret }}\" here"),
    ("unit-file-missing", remove(ROOMS),
     ROOMS, "", "this file is missing; every unit folder needs all five of: unit.yml, staff.yml, rooms.yml, "
                "addressing.yml, hosts.yml"),
    ("yaml-syntax-error", write(HOSTS, "---\nhosts:\n  - name: court-srv\n    function: unit_server\n"
                                       "   address: 10.99.16.10\n"),
     HOSTS, "", "this is not valid YAML: a line is indented differently from the lines around it"),
    ("flow-mapping-not-closed", write(ADDRESSING, "---\naddressing:\n  vlans:\n"
                                                  "    - {id: 10, name: servers, purpose: servers\n"
                                                  "    - {id: 20, name: cms-clients, purpose: cms_clients}\n"),
     ADDRESSING, "", "this is not valid YAML: a mapping in curly brackets is not closed, or two of its entries "
                     "have no ',' between them"),
    ("flow-list-not-closed", write(HOSTS, "---\nhosts:\n  - name: court-srv\n    aliases: [srv, files\n"
                                          "    function: unit_server\n"),
     HOSTS, "", "this is not valid YAML: a list in square brackets is not closed, or two of its items have no "
                "',' between them"),
    ("value-starting-with-an-ampersand", write(ROOMS, "---\nrooms:\n  server_room:\n    location: & annex\n"),
     ROOMS, "", "this is not valid YAML: '&' starts an anchor; put a value starting with '&' in quotes"),
    ("value-starting-with-a-pipe", write(ROOMS, "---\nrooms:\n  server_room:\n    location: |annex\n"),
     ROOMS, "", "this is not valid YAML: '|' or '>' starts a block of text; put a value starting with it in quotes"),
    ("key-written-twice", write(HOSTS, "---\nhosts:\n  - name: court-srv\n    function: unit_server\n"
                                       "    address: 10.99.16.10\n    vlan: 10\n    address: 10.99.16.11\n"),
     HOSTS, "hosts[0].address", "'address' is written twice here; only the last one would count"),
    ("empty-file", write(UNIT, "---\n"),
     UNIT, "", "the file is empty; it must start with 'unit:'"),
    ("field-of-another-function", put(HOSTS, ("hosts", 2, "platform"), "ios"),
     HOSTS, "hosts[2].platform", "'platform' does not apply to a host with function 'printer'"),
    ("subnet-with-host-bits", put(ADDRESSING, ("addressing", "vlans", 0, "subnet"), "10.99.16.5/24"),
     ADDRESSING, "addressing.vlans[0].subnet", "'10.99.16.5/24' is not the start of its subnet; did you mean "
                                               "'10.99.16.0/24'?"),
    ("malformed-address", put(HOSTS, ("hosts", 0, "address"), "10.99.16.300"),
     HOSTS, "hosts[0].address", "'10.99.16.300' is not an IPv4 address: write four numbers from 0 to 255 "
                                "separated by dots, such as 10.25.16.10"),
    ("fixed-address-in-dhcp-range", put(HOSTS, ("hosts", 1, "address"), "10.99.17.150"),
     HOSTS, "hosts[1].address", "10.99.17.150 is inside the DHCP range 10.99.17.100-10.99.17.199 of VLAN 20; "
                                "give fixed addresses outside that range"),
    ("host-on-the-gateway-address", put(HOSTS, ("hosts", 0, "address"), "10.99.16.1"),
     HOSTS, "hosts[0].address", "10.99.16.1 is the gateway of VLAN 10"),
    ("port-vlan-differs-from-its-host", put(HOSTS, SWITCH_PORTS + (1, "vlan"), 10),
     HOSTS, "hosts[3].ports[1].vlan", "this port is in VLAN 10 but the host 'court-ws1' it connects is in VLAN 20"),
    ("switch-outside-management-vlan", _edit(HOSTS, lambda d: d["hosts"][3].update(vlan=20, address="10.99.17.2")),
     HOSTS, "hosts[3].vlan", "a network device is managed on a VLAN with purpose 'management', but VLAN 20 has "
                             "purpose 'cms_clients'"),
    ("mac-used-twice", append(HOSTS, ("hosts",), {**WORKSTATION, "mac": "52:54:00:99:17:11"}),
     HOSTS, "hosts[4].mac", "the MAC address '52:54:00:99:17:11' is already used at hosts[1].mac in this file; "
                            "each MAC address must be unique in the province"),
    ("mac-malformed", put(HOSTS, ("hosts", 1, "mac"), "52-54-00-99-17-11"),
     HOSTS, "hosts[1].mac", "'52-54-00-99-17-11' is not valid here: write six pairs of hex digits separated by "
                            "':', in quotes, such as \"52:54:00:25:17:11\""),
    ("ssh-key-shared-by-two-people", put(STAFF, ("staff", 1, "ssh_key"), KEY_SUP),
     STAFF, "staff[1].ssh_key", "this SSH key is already used at staff[0].ssh_key in this file; each SSH key must "
                                "be unique in the province"),
    ("host-vars-overrides-policy", write("host_vars/court-srv.yml", "---\nprovince_ssh_password_authentication: true\n"),
     "host_vars/court-srv.yml", "province_ssh_password_authentication",
     "'province_ssh_password_authentication' is province policy, set only in group_vars/all/ by the ICT council; "
     "a host (host_vars) may not override it"),
    ("policy-key-misspelt", put("group_vars/all/ssh.yml", ("province_ssh_password_authentification",), False),
     "group_vars/all/ssh.yml", "province_ssh_password_authentification",
     "'province_ssh_password_authentification' is not a province policy key (did you mean "
     "'province_ssh_password_authentication'?); every policy key is declared in inventory/policy-schema.yml"),
    ("policy-key-unknown", put("group_vars/all/ssh.yml", ("ssh_banner_text",), "x"),
     "group_vars/all/ssh.yml", "ssh_banner_text",
     "'ssh_banner_text' is not a province policy key; every policy key is declared in inventory/policy-schema.yml"),
    ("policy-value-of-the-wrong-type", put("group_vars/all/ssh.yml", ("province_ssh_password_authentication",), "no"),
     "group_vars/all/ssh.yml", "province_ssh_password_authentication",
     "should be true or false, but it is str ('no')"),
    ("policy-port-out-of-range", put("group_vars/all/ssh.yml", ("province_ssh_port",), 70000),
     "group_vars/all/ssh.yml", "province_ssh_port", "should be a port number (1-65535), but it is 70000"),
    ("policy-derived-key-set", put("group_vars/all/ssh.yml", ("province_centre",), {"address": "10.0.0.1"}),
     "group_vars/all/ssh.yml", "province_centre",
     "'province_centre' is computed by the inventory plugin from the unit folders; remove it from this file"),
    ("policy-lab-setting-in-province-policy", put("group_vars/all/ssh.yml", ("time_set_system_clock",), False),
     "group_vars/all/ssh.yml", "time_set_system_clock", "'time_set_system_clock' belongs in group_vars/lab, "
                                                        "not in group_vars/all"),
    ("policy-required-key-missing", drop("group_vars/all/ssh.yml", ("province_ssh_port",)),
     "group_vars/all", "province_ssh_port", "'province_ssh_port' is not set; every province sets it (sshd's port "
                                            "on every host; a port number (1-65535))"),
    ("subnet-with-a-dotted-mask", put(ADDRESSING, ("addressing", "vlans", 0, "subnet"), "10.99.16.0/255.255.255.0"),
     ADDRESSING, "addressing.vlans[0].subnet", "'10.99.16.0/255.255.255.0' writes the mask in dotted form; write "
                                               "the prefix length instead: did you mean '10.99.16.0/24'?"),
    # YAML 1.1 reads digits separated by ':' (each part under 60) as a base-60 number.
    ("mac-unquoted", replace_text(HOSTS, '"52:54:00:99:17:11"', "52:54:00:25:41:12"),
     HOSTS, "hosts[1].mac", "should be text, but it is a number (41135132472); YAML reads an unquoted value of digits "
                            "and ':' (such as a MAC address) or with leading zeros as a number: put the value in "
                            "quotes, such as \"52:54:00:25:17:11\""),
    ("emergency-power-unquoted-no", replace_text(ROOMS, "emergency_power: generator", "emergency_power: no"),
     ROOMS, "rooms.server_room.emergency_power",
     "YAML read this as a yes/no value (false), which is not a known kind of emergency power; an unquoted yes, no, on "
     "or off is a yes/no value in YAML. Choose one of: generator, ups_only, none (did you mean 'none'?)"),
    ("ssh-key-with-a-line-break-inside", put(STAFF, ("staff", 1, "ssh_key"), KEY_ADMIN[:40] + "\n" + KEY_ADMIN[40:]),
     STAFF, "staff[1].ssh_key", "the key data is cut in two (a line break or a space was pasted inside it); paste "
                                "the .pub file's line again, all on one line"),
    ("ssh-key-rsa-1024-bits", put(STAFF, ("staff", 1, "ssh_key"), RSA_1024),
     STAFF, "staff[1].ssh_key", "this RSA key has 1024 bits; keys under 2048 bits are refused (NIST SP 800-131A): "
                                "make a new key with `ssh-keygen -t ed25519` and paste its .pub line"),
    ("ssh-key-dsa", put(STAFF, ("staff", 1, "ssh_key"), "ssh-dss AAAAB3NzaC1kc3MAAACBAPk c.admin@fixture"),
     STAFF, "staff[1].ssh_key", "this is a DSA key, which OpenSSH no longer accepts (disabled since 7.0, removed in "
                                "9.8); make a new key with `ssh-keygen -t ed25519` and paste its .pub line"),
    ("username-root", put(STAFF, ("staff", 1, "username"), "root"),
     STAFF, "staff[1].username", RESERVED.format("root")),
    ("username-the-automation-account", put(STAFF, ("staff", 1, "username"), "unitctl"),
     STAFF, "staff[1].username", RESERVED.format("unitctl")),
    ("username-a-debian-service-user", put(STAFF, ("staff", 1, "username"), "systemd-network"),
     STAFF, "staff[1].username", RESERVED.format("systemd-network")),
    ("port-abbreviated-is-the-same-port", append(HOSTS, SWITCH_PORTS, {"port": "fa0/1", "mode": "access", "vlan": 999,
                                                                       "shutdown": True}),
     HOSTS, "hosts[3].ports[4].port", "port fa0/1 is already described at ports[0] of this switch (IOS reads fa0/1 "
                                      "and FastEthernet0/1 as FastEthernet0/1)"),
    ("port-type-misspelt", append(HOSTS, SWITCH_PORTS, {"port": "FastEthernt0/5", "mode": "access", "vlan": 999,
                                                        "shutdown": True}),
     HOSTS, "hosts[3].ports[4].port", "'FastEthernt0/5' is not an IOS interface name: IOS has no interface type "
                                      "'FastEthernt' (did you mean 'FastEthernet0/5'?)"),
    ("gregorian-date-where-jalali-belongs", replace_text(STAFF, "date: 1387/07/01", "date: 2008/09/22"),
     STAFF, "staff[0].appointment.date", "2008/09/22 looks like a Gregorian date; dates here are in the Jalali "
                                         "calendar: did you mean 1387/07/01?"),
    ("address-with-leading-zeros", replace_text(HOSTS, "address: 10.99.16.10", "address: 10.099.016.010"),
     HOSTS, "hosts[0].address", "'10.099.016.010' has numbers with leading zeros, which some tools read as octal; "
                                "did you mean '10.99.16.10'?"),
    ("unit-file-with-yaml-extension", lambda root: (root / HOSTS).rename(root / "units/court/hosts.yaml"),
     HOSTS, "", "this file is missing; every unit folder needs all five of: unit.yml, staff.yml, rooms.yml, "
                "addressing.yml, hosts.yml (there is a hosts.yaml: rename it to hosts.yml)"),
    ("workstation-on-the-management-vlan",
     replace_text(HOSTS, "    address: 10.99.17.11\n    vlan: 20", "    address: 10.99.19.11\n    vlan: 99"),
     HOSTS, "hosts[1].vlan", "a cms client belongs on a VLAN with purpose 'cms_clients', but VLAN 99 has purpose "
                             "'management'"),
    ("device-role-its-platform-has-not", put(HOSTS, ("hosts", 3, "role"), "edge"),
     HOSTS, "hosts[3].role", "the toolkit has no 'edge' configuration for ios: ios devices may be access or core "
                             "(templates/network/ios/)"),
    ("unit-folder-is-a-link", unit_folder_link,
     "units/court-copy", "", "this unit folder is a link (to court); a unit's files live in its own folder: move "
                             "them here"),
    ("port-description-that-would-become-a-command",
     put(HOSTS, SWITCH_PORTS + (2, "description"), "unused\n username evil privilege 15 secret 0 pw"),
     HOSTS, "hosts[3].ports[2].description",
     "'unused\n username evil privilege 15 secret 0 pw' is not valid here: write one line of at most 200 "
     "characters, without quotes, backslashes, '$' or control characters: it goes into the device's configuration"),
    ("port-description-breaking-routeros-quotes", put(HOSTS, SWITCH_PORTS + (2, "description"), 'x" ; /user add'),
     HOSTS, "hosts[3].ports[2].description",
     "'x\" ; /user add' is not valid here: write one line of at most 200 characters, without quotes, backslashes, "
     "'$' or control characters: it goes into the device's configuration"),
    ("name-with-a-control-character", put(UNIT, ("unit", "name_en"), "Courts of\nKahak\x1b[31m"),
     UNIT, "unit.name_en", "'Courts of\nKahak\x1b[31m' is not valid here: write it on one line, without control "
                          "characters (line breaks, tabs, escapes)"),
    ("date-with-no-plausible-year", put(STAFF, ("staff", 0, "appointment", "date"), "0387/07/01"),
     STAFF, "staff[0].appointment.date", "0387/07/01 is not a plausible date: write the Jalali year in full, such as 1387"),
    ("temperature-not-a-number", put(ROOMS, ("rooms", "server_room", "temperature_c", "max"), float("nan")),
     ROOMS, "rooms.server_room.temperature_c.max", "should be a number, but it is nan; write a real number"),
    ("ansible-password-in-host-vars", write("host_vars/court-srv.yml", "---\nansible_become_pass: Qom1402\n"),
     "host_vars/court-srv.yml", "ansible_become_pass",
     "'ansible_become_pass' holds a plaintext secret; move the value into an ansible-vault file and write "
     "\"{{ vault_ansible_become_pass }}\" here"),
    ("snmp-community-in-plain-text", put("group_vars/all/devices.yml", ("network_snmp_community",), "public"),
     "group_vars/all/devices.yml", "network_snmp_community",
     "'network_snmp_community' holds a plaintext secret; move the value into an ansible-vault file and write "
     "\"{{ vault_network_snmp_community }}\" here"),
    ("policy-key-set-in-two-files", put("group_vars/all/devices.yml", ("province_ssh_port",), 22),
     "group_vars/all/ssh.yml", "province_ssh_port",
     "'province_ssh_port' is already set in inventory/group_vars/all/devices.yml; Ansible would take one of the "
     "two silently: set each policy key in one file"),
    ("unit-file-with-a-yaml-twin", lambda root: (root / "units/court/hosts.yaml").write_text("hosts: []\n"),
     "units/court/hosts.yaml", "", "this file is ignored: the unit's data is read from hosts.yml only; merge what "
                                   "is in it into hosts.yml and delete it"),
    ("file-is-a-folder", folder_instead(ROOMS),
     ROOMS, "", "this is a folder, but a file is expected here; move what is in it into one file of this name"),
    ("file-is-a-dangling-link", dangling_link(STAFF),
     STAFF, "", "this is a link to {root}/nowhere/staff.yml, which does not exist; put the file itself here"),
    ("file-is-a-pipe", pipe_instead(STAFF),
     STAFF, "", "this is not a regular file (a pipe, socket or device); replace it with a plain text file"),
    ("alias-contains-itself", write(STAFF, "---\nstaff: &roster\n  - *roster\n"),
     STAFF, "", "an alias (*name) refers to the value that contains it, so the value never ends; write the "
                "value out instead"),
    ("aliases-nested-billions-deep", write(STAFF, NESTED_ALIASES),
     STAFF, "", "through its aliases (*name) this file stands for more than 100,000 values; write the values "
                "out instead of nesting aliases"),
    ("province-plan-malformed", put("group_vars/all/addressing.yml", ("province_unit_block_prefix",), "twenty"),
     "group_vars/all/addressing.yml", "province_unit_block_prefix", "should be a whole number, but it is text ('twenty')"),
]


@pytest.mark.parametrize(("mutate", "file", "path", "reason"), [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_each_mistake_is_reported_with_file_path_and_reason(province, mutate, file, path, reason):
    mutate(province)
    # A YAML syntax error also quotes the YAML reader's own words (which depend on libyaml): cut them.
    found = [(p.file, p.path, p.reason.split(" (the YAML reader says")[0]) for p in problems_of(province)]
    reason = reason.replace("{root}", str(province))
    assert ("inventory/" + file, path, reason) in found, "\n".join(map(str, found))


def test_the_cases_are_distinct():
    assert len({case[0] for case in CASES}) == len(CASES) >= 30


def test_the_fixture_province_is_valid(province):
    assert problems_of(province) == []


@pytest.mark.parametrize("units", ["units", "lab/units"])
def test_the_sample_and_lab_provinces_are_valid(units):
    problems = validate_province(INVENTORY_DIR, INVENTORY_DIR / units)
    assert problems == [], format_problems(problems)


def test_all_problems_are_reported_at_once_with_lines(province):
    put(HOSTS, ("hosts", 0, "vlan"), 40)(province)
    put(STAFF, ("staff", 1, "appointment", "date"), "1400/12/30")(province)
    remove(ROOMS)(province)
    put("units/centre/hosts.yml", ("hosts", 0, "address"), "10.99.0.300")(province)
    problems = problems_of(province)
    assert {(p.file, p.path) for p in problems} == {
        ("inventory/units/court/hosts.yml", "hosts[0].vlan"),
        ("inventory/units/court/staff.yml", "staff[1].appointment.date"),
        ("inventory/units/court/rooms.yml", ""),
        ("inventory/units/centre/hosts.yml", "hosts[0].address"),
    }
    vlan_problem = next(p for p in problems if p.path == "hosts[0].vlan")
    # yaml.safe_dump writes the first host's keys in order: name (line 2), function, address, vlan (5).
    assert vlan_problem.line == 5
    assert str(vlan_problem) == ("inventory/units/court/hosts.yml:5: hosts[0].vlan: VLAN 40 is not defined in "
                                 "this unit's addressing.yml")


def test_a_syntax_error_names_its_line(province):
    write(HOSTS, "---\nhosts:\n  - name: court-srv\n    function: unit_server\n   address: 10.99.16.10\n")(province)
    [problem] = [p for p in problems_of(province) if p.file.endswith("court/hosts.yml")]
    assert problem.line == 5


def _every_value_path(data, path=()):
    yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _every_value_path(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _every_value_path(value, path + (index,))


WRONG_VALUES = (None, True, 7, "text", [1, 2], {"a": 1})


def test_a_value_of_the_wrong_type_is_reported_never_a_crash(province):
    """Every value of every unit file replaced in turn by a value of another type (rotating, for speed)."""
    tried = 0
    for unit_file in sorted((province / "units").glob("*/*.yml")):
        original = unit_file.read_text(encoding="utf-8")
        for path in list(_every_value_path(yaml.safe_load(original)))[1:]:
            changed = yaml.safe_load(original)
            _parent(changed, path)[path[-1]] = WRONG_VALUES[tried % len(WRONG_VALUES)]
            unit_file.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
            problems_of(province)  # may be valid (an optional value left empty), must never raise
            tried += 1
        unit_file.write_text(original, encoding="utf-8")
    assert tried > 100


def test_hardening_policy_mistakes_are_all_reported_at_once_with_file_path_and_line(province):
    """Several mistakes in the province's hardening policy: each named with its file, its path inside
    the value and its line, in one run, before any host is touched."""
    replace_text("group_vars/all/ssh.yml", "province_ssh_max_sessions: 10", "province_ssh_max_sessions: 20")(province)
    replace_text("group_vars/all/login.yml", "  unlock_time: 900", "  unlock_tme: 900")(province)
    replace_text("group_vars/all/kernel.yml", "  - hfsplus", "  - hfs plus")(province)
    replace_text("group_vars/all/auditd.yml", "disk_full_action: suspend", "disk_full_action: reboot")(province)
    found = {(p.file, p.path, p.reason) for p in problems_of(province)}
    assert {(file, path) for file, path, _ in found} == {
        ("inventory/group_vars/all/ssh.yml", "province_ssh_max_sessions"),
        ("inventory/group_vars/all/login.yml", "province_login_lockout.unlock_tme"),
        ("inventory/group_vars/all/login.yml", "province_login_lockout"),
        ("inventory/group_vars/all/kernel.yml", "province_kernel_modules_unused[3]"),
        ("inventory/group_vars/all/auditd.yml", "province_auditd_disk_full_action"),
    }, "\n".join(map(str, found))
    lockout = next(p for p in problems_of(province) if p.path == "province_login_lockout.unlock_tme")
    text = (province / "group_vars/all/login.yml").read_text(encoding="utf-8").splitlines()
    assert text[lockout.line - 1].strip() == "unlock_tme: 900"


@pytest.mark.parametrize(("key", "entry", "reason"), [
    ("province_removable_media_allowed_profiles", "scaning_station",
     "'scaning_station' is not a workstation profile (did you mean 'scanning_station'?); the exception would "
     "allow nothing (the workstation profiles are in province_workstation_profiles: {profiles})"),
    ("province_removable_media_allowed_hosts", "court-ws9",
     "'court-ws9' is not a host (did you mean 'court-ws1'?); the exception would allow nothing (the hosts are in "
     "the units' hosts.yml)"),
])
def test_a_removable_media_exception_naming_nothing_is_refused(province, key, entry, reason):
    profiles = yaml.safe_load((province / "group_vars/all/workstations.yml").read_text(encoding="utf-8"))
    put("group_vars/all/kernel.yml", (key,), ["{{ templated_name }}", entry])(province)
    found = [(p.file, p.path, p.reason) for p in problems_of(province)]
    reason = reason.format(profiles=", ".join(sorted(profiles["province_workstation_profiles"])))
    assert found == [("inventory/group_vars/all/kernel.yml", f"{key}[1]", reason)]


def test_a_removable_media_exception_that_exists_is_accepted(province):
    put("group_vars/all/kernel.yml", ("province_removable_media_allowed_profiles",), ["scanning_station"])(province)
    put("group_vars/all/kernel.yml", ("province_removable_media_allowed_hosts",), ["court-ws1"])(province)
    assert problems_of(province) == []


# --- Debian releases: which the province allows, and which each host runs ------------------------

def _host_index(province: Path, unit: str, name: str) -> int:
    hosts = yaml.safe_load((province / f"units/{unit}/hosts.yml").read_text(encoding="utf-8"))["hosts"]
    return next(index for index, host in enumerate(hosts) if host["name"] == name)


@pytest.mark.parametrize(("release", "reason"), [
    (11, "Debian 11 is not a release the province allows (province_debian_releases: 12, 13)"),
    (14, "Debian 14 is not a release the province allows (province_debian_releases: 12, 13)"),
    ("trixie", "should be a whole number, but it is text ('trixie')"),
    ("13", "should be a whole number, but it is text ('13')"),
])
def test_a_host_on_a_release_the_province_does_not_allow_is_refused(province, release, reason):
    index = _host_index(province, "court", "court-ws1")
    put("units/court/hosts.yml", ("hosts", index, "debian_release"), release)(province)
    found = [(p.file, p.path, p.reason) for p in problems_of(province)]
    assert found == [("inventory/units/court/hosts.yml", f"hosts[{index}].debian_release", reason)]


def test_a_host_on_an_allowed_release_is_accepted(province):
    index = _host_index(province, "court", "court-ws1")
    put("units/court/hosts.yml", ("hosts", index, "debian_release"), 13)(province)
    assert problems_of(province) == []


def test_a_printer_or_switch_names_no_debian_release(province):
    hosts = yaml.safe_load((province / "units/court/hosts.yml").read_text(encoding="utf-8"))["hosts"]
    index = next(i for i, host in enumerate(hosts) if host["function"] == "network_device")
    put("units/court/hosts.yml", ("hosts", index, "debian_release"), 12)(province)
    found = [(p.path, p.reason) for p in problems_of(province)]
    assert found == [(f"hosts[{index}].debian_release", "'debian_release' does not apply to a host with function "
                                                         "'network_device'")]


@pytest.mark.parametrize(("value", "path", "reason"), [
    ({12: {"phase_out": "2028-06-30"}, 14: {}}, "province_debian_releases[14]",
     "14 is not a Debian release the toolkit supports (12 bookworm, 13 trixie: the major number, as "
     "/etc/debian_version starts)"),
    ({"bookworm": {}}, "province_debian_releases.bookworm",
     "'bookworm' is not a Debian release the toolkit supports (12 bookworm, 13 trixie: the major number, as "
     "/etc/debian_version starts)"),
    ({12: {"phase_out": "next summer"}, 13: {}}, "province_debian_releases[12].phase_out",
     "should be a date (YYYY-MM-DD), but it is 'next summer'"),
    ({12: {"phaseout": "2028-06-30"}, 13: {}}, "province_debian_releases[12].phaseout",
     "'phaseout' is not a field of a release; its fields are phase_out"),
    ({12: "2028-06-30", 13: {}}, "province_debian_releases[12]",
     "should be a mapping such as {phase_out: 2028-06-30}, or {} for a release not being phased out, but it is "
     "'2028-06-30'"),
    ({}, "province_debian_releases", "should name at least one Debian release (12, 13)"),
])
def test_a_wrong_release_policy_is_refused(province, value, path, reason):
    put("group_vars/all/releases.yml", ("province_debian_releases",), value)(province)
    found = [(p.file, p.path, p.reason) for p in problems_of(province)]
    assert found == [("inventory/group_vars/all/releases.yml", path, reason)]


def test_a_default_release_the_province_does_not_allow_is_refused_and_so_is_every_host_left_on_it(province):
    put("group_vars/all/releases.yml", ("province_debian_releases",), {13: {}})(province)
    found = {(p.file, p.path, p.reason) for p in problems_of(province)}
    assert ("inventory/group_vars/all/releases.yml", "province_debian_release_default",
            "12 is not in province_debian_releases (13)") in found


def test_an_empty_release_is_refused_not_read_as_none(province):
    """`debian_release:` with nothing after it: YAML reads null; Ansible's default() would keep it."""
    index = _host_index(province, "court", "court-ws1")
    put("units/court/hosts.yml", ("hosts", index, "debian_release"), None)(province)
    found = [(p.path, p.reason) for p in problems_of(province)]
    assert found == [(f"hosts[{index}].debian_release", "is empty: write the Debian release the host runs (12, 13), "
                                                         "or leave the key out for province_debian_release_default")]


@pytest.mark.parametrize(("value", "path", "reason"), [
    ({"12": {}, 13: {}}, "province_debian_releases.12",
     "'12' is written as text: write the release as a number, without quotes (12)"),
    ({12: {"phase_out": "20280630"}, 13: {}}, "province_debian_releases[12].phase_out",
     "should be a date (YYYY-MM-DD), but it is '20280630'"),
])
def test_a_release_policy_typed_almost_right_is_refused_with_a_hint(province, value, path, reason):
    put("group_vars/all/releases.yml", ("province_debian_releases",), value)(province)
    found = [(p.file, p.path, p.reason) for p in problems_of(province)]
    assert found == [("inventory/group_vars/all/releases.yml", path, reason)]


def test_an_impossible_date_is_refused_with_its_line_not_a_crash(province):
    path = province / "group_vars/all/releases.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("phase_out: 2028-06-30", "phase_out: 2028-13-45"),
                    encoding="utf-8")
    found = [(p.file, p.line, p.reason) for p in problems_of(province) if "real date" in p.reason]
    assert found == [("inventory/group_vars/all/releases.yml", 8,
                      "'2028-13-45' is not a real date (month must be in 1..12); write a date as YYYY-MM-DD")]


def test_the_codename_filter_names_the_suites_the_upgrade_switches_to():
    from unitctl.releases import debian_codename  # noqa: PLC0415
    assert [debian_codename(13), debian_codename("12")] == ["trixie", "bookworm"]
    with pytest.raises(KeyError):
        debian_codename(14)

"""IOS interface names as IOS reads them (unitctl.inventory.interfaces, on netutils' map)."""

from __future__ import annotations

import pytest

from unitctl.inventory.interfaces import canonical_ios_port, ios_port_problem


@pytest.mark.parametrize("written, full", [
    ("Gi1/0/1", "GigabitEthernet1/0/1"), ("gi1/0/1", "GigabitEthernet1/0/1"),
    ("gigabitethernet1/0/1", "GigabitEthernet1/0/1"), ("GigabitEthernet1/0/1", "GigabitEthernet1/0/1"),
    ("Te1/1/1", "TenGigabitEthernet1/1/1"), ("Po1", "Port-channel1"), ("fa0/1", "FastEthernet0/1"),
    ("GigabitEthernt1/0/6", None), ("eth0", "Ethernet0"), ("Foo1/0/1", None),
])
def test_ios_port_names_are_read_as_ios_reads_them(written, full):
    assert canonical_ios_port(written) == full


def test_a_misspelt_type_gets_the_closest_one():
    assert ios_port_problem("TenGigabitEthrnet1/1/1") == (
        "'TenGigabitEthrnet1/1/1' is not an IOS interface name: IOS has no interface type 'TenGigabitEthrnet' "
        "(did you mean 'TenGigabitEthernet1/1/1'?)")
    assert ios_port_problem("uplink") == ("'uplink' is not an IOS interface name: write the type and its number, "
                                          "such as GigabitEthernet1/0/1 (or Gi1/0/1)")

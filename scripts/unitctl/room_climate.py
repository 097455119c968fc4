"""The server room's climate as the UPS's environment sensor reports it through NUT (circular clause 2).

NUT names (docs/nut-names.txt, "ambient"): `ambient.temperature` in degrees Celsius and
`ambient.humidity` in percent relative humidity; a UPS with several probes (an environment
monitoring probe on a network management card) reports `ambient.1.temperature`,
`ambient.2.temperature`, ... instead or as well. `ups.temperature` is the UPS's own inside
temperature, warmer than the room, and is never used here. A UPS without a probe (most USB-only
models under usbhid-ups) reports none of these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The single-probe name first, then numbered probes in their order.
_NUMBERED = re.compile(r"^ambient\.(\d+)\.(temperature|humidity)$")


@dataclass(frozen=True)
class Reading:
    """One quantity the UPS reported: value (°C or %), the NUT variable it came from, and why it
    could not be used (None when it could)."""

    value: float | None
    variable: str
    problem: str | None = None


def parse_upsc(output: str) -> dict[str, str]:
    """`upsc UPS@HOST` output ("name: value" per line) -> {variable name: value text}."""
    variables = {}
    for line in output.splitlines():
        name, separator, value = line.partition(": ")
        if separator:
            variables[name.strip()] = value.strip()
    return variables


def ambient(variables: dict[str, str], quantity: str) -> Reading | None:
    """The room's temperature ("temperature", °C) or humidity ("humidity", %RH) from NUT variables.

    Takes `ambient.QUANTITY`, else the lowest-numbered `ambient.N.QUANTITY`. Returns None when the
    UPS reports neither (no sensor), a Reading with a problem when the value is not a number or is
    the "no probe" value -1 some management cards report (NUT issue 3250 / PR 3605: APC's MIB
    defines -1 as invalid; no server room is at -1 °C or -1 %).
    Raises ValueError for a quantity other than "temperature" or "humidity"."""
    if quantity not in ("temperature", "humidity"):
        raise ValueError(f"unknown ambient quantity {quantity!r}")
    name = f"ambient.{quantity}"
    if name not in variables:
        numbered = sorted((int(match.group(1)), key) for key in variables
                          if (match := _NUMBERED.match(key)) and match.group(2) == quantity)
        if not numbered:
            return None
        name = numbered[0][1]
    text = variables[name]
    try:
        value = float(text)
    except ValueError:
        return Reading(None, name, f"{name} is {text!r}, not a number")
    if value != value or value == -1:  # NaN, or the management cards' "no probe"
        return Reading(None, name, f"{name} is {text}: the sensor gives no reading")
    return Reading(value, name)


def outside_limits(reading: Reading, limits: dict, unit: str) -> str | None:
    """A sentence when `reading` lies outside rooms.yml's {"min": x, "max": y} (inclusive), else None.
    `unit` is how the value is written ("°C", "%")."""
    if reading.value is None:
        return reading.problem
    if reading.value > limits["max"]:
        return f"{reading.value:g} {unit} is above the room's limit of {limits['max']:g} {unit} ({reading.variable})"
    if reading.value < limits["min"]:
        return f"{reading.value:g} {unit} is below the room's limit of {limits['min']:g} {unit} ({reading.variable})"
    return None

"""A tiny in-process model of a RouterOS 7 router's configuration: it runs the commands the toolkit
sends and prints `/export` the way RouterOS does: a stand-in for `unitctl.network.routeros_export`'s
tests, in-process or served over SSH by unitctl.lab.routeros_ssh, so that a push (compare, send
through netmiko, read back, compare again) and a roll-back can be exercised without a router.

    router = RouterOSModel()                  # as after a reset without the default configuration
    router.run("/ip address add address=192.0.2.1/24 interface=ether2")
    text = router.export()                    # RouterOS's order, defaults left out, wrapped at 80 columns

What it models (from MikroTik's manual and real 7.16 exports, see routeros_paths): paths and their
entries, built-in entries (`/ip service`, the default SNMP community, the built-in logging actions and
rules), settings paths, `add` (with `place-before`), `set`/`remove`/`enable`/`disable` by name, number
or `[ find ... ]`, `move ... destination=`, unique names and addresses, references to interfaces that
must exist, an interface in at most one bridge. What it prints: sections in RouterOS's order,
properties alphabetically, defaults and hidden values (passwords) left out, `network=` added to
addresses, tagged ports in interface order, no `/user` entries, lines wrapped as RouterOS wraps them.
What it does not model: any behaviour of the router (forwarding, the firewall itself), value types,
and every property or path the toolkit does not use.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from unitctl.network.routeros_export import Command, Entry, effective, normalise, parse, quote, selector_of
from unitctl.network.routeros_paths import COMMON_DEFAULTS, path_info

EXPORT_ORDER = ("/interface bridge", "/interface ethernet", "/interface vlan", "/interface list", "/snmp community",
                "/system logging action", "/port", "/interface bridge port", "/interface bridge vlan",
                "/interface list member", "/ip address", "/ip dhcp-client", "/ip dns", "/ip firewall filter",
                "/ip firewall nat", "/ip route", "/ip service", "/snmp", "/system clock", "/system identity",
                "/system logging", "/system note", "/system ntp client", "/system ntp server",
                "/system ntp client servers")
PORTS = tuple(f"ether{n}" for n in range(1, 11)) + ("sfp-sfpplus1",)  # an RB4011
INTERFACE_PATHS = ("/interface bridge", "/interface vlan")
READ_ONLY = frozenset({"default", "default-name"})
WITH_PREFIX = {("/snmp community", "addresses"), ("/ip service", "address")}  # printed as a.b.c.d/32
WIDTH = 77  # the longest line /export prints before it wraps (not counting " \")


class RouterOSError(Exception):
    """A command the router refuses, with RouterOS's kind of message."""


@dataclass
class _Item:
    id: int
    props: dict[str, str]
    builtin: str = ""                   # how /export names a built-in entry: "telnet", "0", "[ find default=yes ]"
    factory: dict[str, str] = field(default_factory=dict)


class RouterOSModel:
    def __init__(self, version: str = "7.16.1", model: str = "RB4011iGS+", serial: str = "HG409A1B2C3"):
        self.version, self.model, self.serial = version, model, serial
        self.tables: dict[str, list[_Item]] = {}
        self.settings: dict[str, dict[str, str]] = {}
        self._ids = 0
        for name in ("telnet", "ftp", "www", "ssh", "www-ssl", "api", "winbox", "api-ssl"):
            self._builtin("/ip service", name, {"name": name})
        self._builtin("/snmp community", "[ find default=yes ]", {"name": "public", "default": "yes"})
        for number, name in enumerate(("memory", "disk", "echo", "remote")):
            self._builtin("/system logging action", str(number), {"name": name, "target": name})
        for number, (topics, action) in enumerate((("info", "memory"), ("error", "memory"),
                                                   ("warning", "memory"), ("critical", "echo"))):
            self._builtin("/system logging", str(number), {"topics": topics, "action": action})
        self._builtin("/port", "0", {}).props["name"] = "serial0"  # RouterOS prints it on every export
        self._builtin("/user", "admin", {"name": "admin", "group": "full"})

    def _builtin(self, path: str, name: str, props: dict[str, str]) -> _Item:
        self._ids += 1
        item = _Item(self._ids, dict(props), name, dict(props))
        self.tables.setdefault(path, []).append(item)
        return item

    # --- commands ---------------------------------------------------------------------------

    def run(self, script: str | list[str]) -> None:
        """Run commands (a script, or lines as a session sends them); the first refused one raises."""
        text = script if isinstance(script, str) else "\n".join(script)
        for command in parse(text).commands:
            getattr(self, "_" + command.verb, self._unknown)(command)

    def _unknown(self, command: Command) -> None:
        raise RouterOSError(f"bad command name {command.verb} (line {command.line})")

    def _add(self, command: Command) -> None:
        info, props = path_info(command.path), dict(command.props)
        if info.singleton:
            raise RouterOSError(f"bad command name add ({command.path} is settings)")
        before = props.pop("place-before", None)
        missing = sorted(p for p in info.required if p not in props)
        if missing:
            raise RouterOSError(f"failure: {missing[0]} not specified")
        self._check(command.path, props, None)
        self._ids += 1
        item = _Item(self._ids, props)
        table = self.tables.setdefault(command.path, [])
        if before is None:
            table.append(item)
        else:
            targets = self._select(command.path, before)
            if len(targets) != 1:
                raise RouterOSError("no such item (place-before)")
            table.insert(table.index(targets[0]), item)

    def _set(self, command: Command) -> None:
        info = path_info(command.path)
        if command.target is None:
            if not info.singleton:
                raise RouterOSError("expected item number or name")
            self.settings.setdefault(command.path, {}).update(command.props)
            return
        for item in self._select(command.path, command.target):
            props = {**item.props, **command.props}
            self._check(command.path, props, item)
            item.props = props

    def _remove(self, command: Command) -> None:
        table = self.tables.get(command.path, [])
        for item in self._select(command.path, command.target or ""):
            if item.builtin:
                raise RouterOSError("failure: can not remove a built-in item")
            if command.path in INTERFACE_PATHS and self._used(item.props.get("name")):
                raise RouterOSError(f"failure: interface {item.props.get('name')} is in use")
            table.remove(item)

    def _enable(self, command: Command, disabled: str = "no") -> None:
        for item in self._select(command.path, command.target or ""):
            item.props["disabled"] = disabled

    def _disable(self, command: Command) -> None:
        self._enable(command, "yes")

    def _move(self, command: Command) -> None:
        table = self.tables.get(command.path, [])
        moving = self._select(command.path, command.target or "")
        destination = self._select(command.path, command.props.get("destination", ""))
        if not moving or len(destination) != 1:
            raise RouterOSError("no such item")
        for item in moving:
            table.remove(item)
            table.insert(table.index(destination[0]), item)

    def _select(self, path: str, target: str) -> list[_Item]:
        """The entries a `set`/`remove` argument names: a name, a number, or `[ find k=v ... ]`."""
        info, table = path_info(path), self.tables.get(path, [])
        selector = selector_of(target, info.positional)
        if selector is None:
            return []
        if selector and selector[0][0] == "#":
            number = int(selector[0][1]) if selector[0][1].isdigit() else -1
            if not 0 <= number < len(table):
                raise RouterOSError("no such item")
            return [table[number]]
        if selector and selector[0][0] == "":
            raise RouterOSError(f"failure: the model does not evaluate {target}")
        found = [item for item in table if all(
            normalise(info, k, effective(info, Entry(path, "entry", item.props), k) or "") == normalise(info, k, v)
            for k, v in selector)]
        if not found and not target.startswith("["):
            raise RouterOSError(f"no such item ({target})")
        return found

    # --- what RouterOS refuses --------------------------------------------------------------

    def _interfaces(self) -> list[str]:
        return list(PORTS) + [i.props.get("name", "") for p in INTERFACE_PATHS for i in self.tables.get(p, [])]

    def _used(self, name: str | None) -> bool:
        return any(item.props.get(prop) == name for path, prop in (("/interface vlan", "interface"),
                                                                   ("/ip address", "interface"),
                                                                   ("/interface bridge port", "bridge"))
                   for item in self.tables.get(path, []))

    def _check(self, path: str, props: dict[str, str], item: _Item | None) -> None:
        info = path_info(path)
        others = [i for i in self.tables.get(path, []) if i is not item]
        if path in INTERFACE_PATHS:
            names = [n for n in self._interfaces() if not (item and n == item.props.get("name"))]
            if props.get("name") in names:
                raise RouterOSError("failure: already have interface with such name")
        elif info.identity and not info.ordered_by and path != "/system logging" and any(
                all(normalise(info, k, i.props.get(k)) == normalise(info, k, props.get(k)) for k in info.identity)
                for i in others):
            raise RouterOSError(f"failure: already have such {path.split()[-1]}")
        for prop in ("interface", "bridge", "in-interface"):
            value = props.get(prop)
            if value and path in ("/interface vlan", "/interface bridge port", "/ip address", "/ip firewall filter") \
                    and value.lstrip("!") not in self._interfaces():
                raise RouterOSError(f"input does not match any value of {prop}")
        if path == "/interface bridge port" and props.get("bridge") not in \
                [i.props.get("name") for i in self.tables.get("/interface bridge", [])]:
            raise RouterOSError("input does not match any value of bridge")

    # --- /export ------------------------------------------------------------------------------

    def export(self, when: str = "2026-11-29 10:00:00") -> str:
        lines = [f"# {when} by RouterOS {self.version}", "# software id = 7XQ2-K9LM", "#",
                 f"# model = {self.model}", f"# serial number = {self.serial}"]
        paths = list(EXPORT_ORDER) + sorted((set(self.tables) | set(self.settings)) - set(EXPORT_ORDER))
        for path in paths:
            commands = self._section(path)
            if commands:
                lines.append(path)
                lines += [wrapped for command in commands for wrapped in wrap(command)]
        return "\n".join(lines) + "\n"

    def _section(self, path: str) -> list[list[str]]:
        info = path_info(path)
        if path == "/user":  # RouterOS 7 exports list no users
            return []
        if info.singleton:
            words = self._props(path, self.settings.get(path, {}), {})
            return [["set", *words]] if words else []
        result = []
        for item in self.tables.get(path, []):
            if item.builtin:
                changed = {k: v for k, v in item.props.items() if item.factory.get(k) != v}
                words = self._props(path, changed, {**item.factory, "name": item.builtin})
                if words:
                    result.append(["set " + item.builtin, *words])
            else:
                props = dict(item.props)
                for prop, derive in info.derived.items():
                    props.setdefault(prop, derive(props) or "")
                result.append(["add", *self._props(path, props, {})])
        return result

    def _props(self, path: str, props: dict[str, str], builtin: dict[str, str]) -> list[str]:
        info = path_info(path)
        words = []
        for prop in sorted(props):
            value = props[prop]
            default = info.default(prop, builtin.get("name"))
            if prop in READ_ONLY or prop in info.hidden or (
                    default is not None and normalise(info, prop, value) == normalise(info, prop, default)):
                continue
            words.append(f"{prop}={quote(self._printed(path, prop, value))}")
        return words

    def _printed(self, path: str, prop: str, value: str) -> str:
        """A value as RouterOS stores it: booleans yes/no, networks with their prefix where it keeps
        one, interface lists in the order the interfaces were made."""
        info = path_info(path)
        if prop in info.booleans or prop in COMMON_DEFAULTS and prop != "comment":
            value = {"true": "yes", "false": "no"}.get(value, value)
        if (path, prop) in WITH_PREFIX:
            value = ",".join(str(ipaddress.ip_network(v, strict=False)) for v in value.split(",") if v)
        if path == "/interface bridge vlan" and prop in ("tagged", "untagged"):
            order = self._interfaces()
            value = ",".join(sorted(value.split(","), key=lambda n: order.index(n) if n in order else len(order)))
        return value


def wrap(words: list[str]) -> list[str]:
    """One command as /export prints it: a line is at most WIDTH characters, then ` \\` and the rest
    on the next line after four spaces; a property that does not fit is split after its `=` when
    its name still fits; a value longer than a line is cut where the line is full."""
    lines, line = [], words[0]
    for word in words[1:]:
        name, _, value = word.partition("=")
        if len(line) + 1 + len(word) <= WIDTH:
            line += " " + word
        elif len(line) + 1 + len(name) + 1 <= WIDTH + 1:
            lines.append(line + " " + name + "=\\")
            line = "    " + value
        else:
            lines.append(line + " \\")
            line = "    " + word
        while len(line) > WIDTH + 2:  # a value longer than a line: cut inside it, between escapes
            cut = WIDTH + 1
            while _inside_escape(line, cut):
                cut -= 1
            lines.append(line[:cut] + "\\")
            line = "    " + line[cut:]
    lines.append(line)
    return lines


def _inside_escape(line: str, cut: int) -> bool:
    """True when cutting before line[cut] would split an escape (`\\"`, `\\n`, `\\D8`)."""
    start = cut - 1
    while start >= 0 and line[start] == "\\":
        start -= 1
    if (cut - 1 - start) % 2:  # an odd run of backslashes just before the cut
        return True
    return cut >= 2 and line[cut - 2] == "\\" and (cut - 3 < 0 or line[cut - 3] != "\\") \
        and line[cut - 1] in "0123456789ABCDEF" and line[cut:cut + 1] in tuple("0123456789ABCDEF")

"""The IOS command-line parser of the lab's Catalyst model (unitctl.lab.ios_switch), and IOS's
password encodings.

IOS matches a typed line against the commands of the current mode word by word: a keyword may be
abbreviated to any unique prefix, and a line that does not match is answered with one of three
texts, which the toolkit's error pattern is tested against:

    % Invalid input detected at '^' marker.    (a caret under the first character that matches
                                                nothing; a blank line follows)
    % Incomplete command.                      (the line stops before the command does; blank line)
    % Ambiguous command:  "LINE"               (a word abbreviates two keywords)

Command specs are strings, one per command form, e.g. `"ip route IP IP IP"`:

    keyword          a literal keyword (matched by any unique prefix, case-insensitive)
    (a|b|c)          one of these keywords
    {a,b,c}          these optional keywords, in any order, each at most once (only last)
    WORD             any word;  LINE  the rest of the line (one word or more)
    IP               a dotted IPv4 address;  <a-b>  a whole number from a to b
    VLANS            a VLAN list (10,20-30);  IFNAME  an interface ("Fa0/1", "vlan 99")
    ...:name         the value is available to the handler under `name`

A matched line gives the handler a Match: its canonical words (keywords spelled out) and its
named values. Nothing here is specific to one mode: a mode is a list of (spec, handler) pairs.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
from dataclasses import dataclass

INVALID = "% Invalid input detected at '^' marker."
INCOMPLETE = "% Incomplete command."


# --- command specs ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Element:
    kind: str                 # kw, word, line, ip, int, vlans, ifname, opts
    choices: tuple = ()       # kw/opts: the keywords; int: (low, high)
    name: str | None = None


@dataclass(frozen=True)
class Spec:
    text: str
    elements: tuple[Element, ...]
    handler: str

    @property
    def keywords(self) -> int:
        return sum(1 for element in self.elements if element.kind == "kw")


def compile_spec(text: str, handler: str) -> Spec:
    elements = []
    for raw in text.split():
        body, _, name = raw.partition(":")
        if body.startswith("(") and body.endswith(")"):
            element = Element("kw", tuple(body[1:-1].split("|")), name or None)
        elif body.startswith("{") and body.endswith("}"):
            element = Element("opts", tuple(body[1:-1].split(",")), name or None)
        elif body.startswith("<") and body.endswith(">"):
            low, high = body[1:-1].split("-")
            element = Element("int", (int(low), int(high)), name or None)
        elif body in ("WORD", "LINE", "IP", "VLANS", "IFNAME"):
            element = Element(body.lower(), (), name or None)
        else:
            element = Element("kw", (body,), name or None)
        elements.append(element)
    return Spec(text, tuple(elements), handler)


def compile_mode(commands) -> tuple[Spec, ...]:
    return tuple(compile_spec(text, handler) for text, handler in commands)


# --- matching ---------------------------------------------------------------------------------

@dataclass
class Match:
    spec: Spec
    words: list[str]
    values: dict
    line: str

    def get(self, name: str, default=None):
        return self.values.get(name, default)

    def has(self, keyword: str) -> bool:
        return keyword in self.words


@dataclass
class ParseError:
    kind: str          # invalid, incomplete, ambiguous
    token_index: int
    caret: int         # column in the typed line (invalid only)

    @property
    def rank(self) -> tuple[int, int]:
        """How far the parse got: the mode that got furthest reports the error."""
        return (self.token_index, self.caret)

    def lines(self, line: str, prompt_width: int) -> list[str]:
        if self.kind == "ambiguous":
            return [f'% Ambiguous command:  "{line.strip()}"']
        if self.kind == "incomplete":
            return [INCOMPLETE, ""]
        return [" " * (prompt_width + self.caret) + "^", INVALID, ""]


@dataclass
class _State:
    spec: Spec
    position: int = 0                   # index of the next element
    used: frozenset = frozenset()       # keywords of the current opts set already given
    words: tuple = ()
    values: tuple = ()
    pending_type: str | None = None     # IFNAME given as two words: the type word, awaiting its number

    def element(self) -> Element | None:
        return self.spec.elements[self.position] if self.position < len(self.spec.elements) else None

    def complete(self) -> bool:
        if self.pending_type is not None:
            return False
        return all(element.kind == "opts" for element in self.spec.elements[self.position:])

    def advanced(self, word: str, name: str | None, value, *, stay: bool = False, used=None) -> "_State":
        values = self.values + (((name, value),) if name else ())
        return _State(self.spec, self.position if stay else self.position + 1,
                      used if used is not None else frozenset(), self.words + (word,), values)


def tokenize(line: str) -> list[tuple[str, int]]:
    return [(match.group(), match.start()) for match in re.finditer(r"\S+", line)]


def _common_prefix(a: str, b: str) -> int:
    length = 0
    for x, y in zip(a, b):
        if x != y:
            break
        length += 1
    return length


class Context:
    """What argument elements need to know about the device (interface names)."""

    def interface_types(self) -> list[str]:
        return []


def _split_interface(text: str) -> tuple[str, str]:
    match = re.match(r"^([A-Za-z-]+)\s*(\d.*)?$", text)
    return (match.group(1), match.group(2) or "") if match else ("", text)


def interface_type(word: str, context: Context) -> list[str]:
    """The interface types (FastEthernet, Vlan...) a typed type word abbreviates."""
    word = word.lower()
    return [kind for kind in context.interface_types() if kind.lower().startswith(word)]


def _arg_matches(element: Element, token: str, context: Context):
    """(accepted, value) for an argument element; value None when not accepted."""
    if element.kind == "word":
        return token
    if element.kind == "ip":
        try:
            return str(ipaddress.IPv4Address(token)) if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", token) else None
        except ValueError:
            return None
    if element.kind == "int":
        if not token.isdigit():
            return None
        number = int(token)
        low, high = element.choices
        return number if low <= number <= high else None
    if element.kind == "vlans":
        return parse_vlan_list(token)
    return None


def parse_vlan_list(text: str) -> list[int] | None:
    """"10,20-22" -> [10, 20, 21, 22]; None when not a valid list of VLANs 1-4094."""
    numbers = []
    for part in text.split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            return None
        low, high = int(match.group(1)), int(match.group(2) or match.group(1))
        if not 1 <= low <= high <= 4094:
            return None
        numbers += range(low, high + 1)
    return sorted(set(numbers))


def _interface_step(state: _State, element: Element, token: str, context: Context):
    """IFNAME: "Fa0/1" in one word, or "FastEthernet 0/1" / "vlan 99" in two."""
    if state.pending_type is not None:
        if re.fullmatch(r"\d+(/\d+)*(\.\d+)?", token):
            return state.advanced(f"{state.pending_type}{token}", element.name, (state.pending_type, token))
        return None
    kind, number = _split_interface(token)
    types = interface_type(kind, context) if kind else []
    if len(types) != 1:
        return None
    if number:
        return state.advanced(f"{types[0]}{number}", element.name, (types[0], number))
    return _State(state.spec, state.position, state.used, state.words, state.values, types[0])


def _closure(states: list[_State]) -> list[_State]:
    """Each state, and where it stands if it skips the optional keyword sets ahead of it."""
    result = []
    for state in states:
        result.append(state)
        while state.pending_type is None and (element := state.element()) is not None \
                and element.kind == "opts":
            state = _State(state.spec, state.position + 1, frozenset(), state.words, state.values)
            result.append(state)
    return result


def parse(specs: tuple[Spec, ...], line: str, context: Context) -> Match | ParseError | None:
    """The command a line matches in a mode, or why it matches none (None: an empty line)."""
    tokens = tokenize(line)
    if not tokens:
        return None
    states = [_State(spec) for spec in specs]
    for index, (token, start) in enumerate(tokens):
        states = _closure(states)
        lowered = token.lower()
        keyword_moves, arg_moves, line_moves = [], [], []
        for state in states:
            element = state.element()
            if element is None:
                continue
            if state.pending_type is not None or element.kind == "ifname":
                moved = _interface_step(state, element, token, context)
                if moved is not None:
                    arg_moves.append(moved)
            elif element.kind in ("kw", "opts"):
                for keyword in element.choices:
                    if keyword in state.used or not keyword.lower().startswith(lowered):
                        continue
                    if element.kind == "opts":
                        moved = state.advanced(keyword, element.name, keyword, stay=True,
                                               used=state.used | {keyword})
                    else:
                        moved = state.advanced(keyword, element.name, keyword)
                    keyword_moves.append((keyword, moved))
            elif element.kind == "line":
                rest = line[start:].rstrip()
                line_moves.append(state.advanced(rest, element.name, rest))
            else:
                value = _arg_matches(element, token, context)
                if value is not None:
                    arg_moves.append(state.advanced(token, element.name, value))
        exact = [moved for keyword, moved in keyword_moves if keyword.lower() == lowered]
        if exact:
            states = exact
        elif keyword_moves:
            if len({keyword for keyword, _ in keyword_moves}) > 1:
                return ParseError("ambiguous", index, start)
            states = [moved for _, moved in keyword_moves]
        elif line_moves:
            states = line_moves
            break
        elif arg_moves:
            states = arg_moves
        else:
            return ParseError("invalid", index, start + _caret_offset(states, lowered, context))
    complete = [state for state in _closure(states) if state.complete()]
    if not complete:
        return ParseError("incomplete", len(tokens), len(line))
    best = max(complete, key=lambda state: (state.spec.keywords, -specs.index(state.spec)))
    return Match(best.spec, list(best.words), dict(best.values), line)


def _caret_offset(states: list[_State], token: str, context: Context) -> int:
    """IOS puts the caret on the first character that no keyword possible here has."""
    longest = 0
    for state in states:
        element = state.element()
        if element is None or state.pending_type is not None:
            continue
        keywords = []
        if element.kind == "kw":
            keywords = list(element.choices)
        elif element.kind == "opts":
            keywords = [k for k in element.choices if k not in state.used]
        elif element.kind == "ifname":
            keywords = context.interface_types()
        for keyword in keywords:
            longest = max(longest, _common_prefix(token, keyword.lower()))
    return longest


# --- password encodings -----------------------------------------------------------------------

_CRYPT64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def md5_crypt(password: str, salt: str | None = None) -> str:
    """IOS type 5 secret: FreeBSD MD5-crypt ($1$salt$hash) with a 4-character salt."""
    salt = salt if salt is not None else "".join(secrets.choice(_CRYPT64) for _ in range(4))
    secret, salt_bytes, magic = password.encode(), salt.encode()[:8], b"$1$"
    alternate = hashlib.md5(secret + salt_bytes + secret).digest()
    context = hashlib.md5(secret + magic + salt_bytes)
    remaining = len(secret)
    while remaining > 0:
        context.update(alternate[:min(16, remaining)])
        remaining -= 16
    bits = len(secret)
    while bits:
        context.update(b"\0" if bits & 1 else secret[:1])
        bits >>= 1
    digest = context.digest()
    for round_number in range(1000):
        step = hashlib.md5(secret if round_number & 1 else digest)
        if round_number % 3:
            step.update(salt_bytes)
        if round_number % 7:
            step.update(secret)
        step.update(digest if round_number & 1 else secret)
        digest = step.digest()

    def encode(value: int, length: int) -> str:
        out = ""
        for _ in range(length):
            out += _CRYPT64[value & 0x3F]
            value >>= 6
        return out

    encoded = "".join(encode((digest[a] << 16) | (digest[b] << 8) | digest[c], 4)
                      for a, b, c in ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)))
    return f"$1${salt_bytes.decode()}${encoded}{encode(digest[11], 2)}"


def md5_crypt_matches(password: str, hashed: str) -> bool:
    parts = hashed.split("$")
    return len(parts) == 4 and parts[1] == "1" and md5_crypt(password, parts[2]) == hashed


# Type 7 is a reversible obfuscation with a fixed, public key (Cisco: "not secure").
_TYPE7_KEY = b"dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"


def type7_encode(text: str, seed: int | None = None) -> str:
    data = text.encode()
    seed = sum(data) % 16 if seed is None else seed
    return f"{seed:02d}" + "".join(f"{byte ^ _TYPE7_KEY[(seed + i) % len(_TYPE7_KEY)]:02X}"
                                   for i, byte in enumerate(data))


def type7_decode(encoded: str) -> str:
    seed = int(encoded[:2])
    data = bytes.fromhex(encoded[2:])
    return bytes(byte ^ _TYPE7_KEY[(seed + i) % len(_TYPE7_KEY)] for i, byte in enumerate(data)).decode()


# --- VLAN ranges as IOS prints them -----------------------------------------------------------

def vlan_ranges(numbers) -> str:
    """[10, 11, 12, 20, 21] -> "10-12,20,21": three or more in a row become a range."""
    ordered, groups = sorted(set(numbers)), []
    for number in ordered:
        if groups and number == groups[-1][-1] + 1:
            groups[-1].append(number)
        else:
            groups.append([number])
    return ",".join(f"{g[0]}-{g[-1]}" if len(g) > 2 else ",".join(map(str, g)) for g in groups)



"""Intended against running: the exact commands that take a device from one to the other.

Both sides are first cleared of the lines the device never prints (platform.hidden: defaults,
SNMPv3 users), the intended side is cut the way the device prints it (IOS: `line vty 0 15` as
`line vty 0 4` + `line vty 5 15`), then both are cut to the managed sections, cleared of
volatile and default lines and secret-masked, so that a stored (hashed) secret never shows as a
difference and a diff never shows a secret. IOS remediation is hier_config's, with the rules of
unitctl.network.ios. What only a show command shows (IOS: `show snmp user`) is compared when
that command's output is given. RouterOS has no hier_config driver: its `/export` is compared
by path and properties (unitctl.network.routeros_export), knowing each path's identity, defaults
and what RouterOS adds or hides; removals go by identity only where RouterOS keeps it unique,
anything else is drift for a person.
"""

from __future__ import annotations

from dataclasses import dataclass

from unitctl.network.platforms import (MASK, Platform, blocks, managed_config, mask_secrets, unmask_map,
                                       without_hidden)


class UnsafeCommand(Exception):
    """A command that cannot be sent as it is (a masked secret, or no remediation for it)."""


@dataclass
class Comparison:
    before: str             # running: managed sections, masked
    after: str              # intended: managed sections, masked
    commands: list[str]     # remediation, masked, in the order to send
    extra: list[str]        # running lines no command removes (RouterOS): drift for a person

    @property
    def in_sync(self) -> bool:
        return not self.commands and not self.extra

    def lines(self) -> list[str]:
        """Remediation and drift as a person reads them."""
        return self.commands + [f"# not intended, remove by hand: {line}" for line in self.extra]


def comparable(platform: Platform, text: str, managed) -> str:
    return managed_config(platform, mask_secrets(platform, text), managed)


def expected(platform: Platform, intended: str, running: str) -> str:
    """The intended config as the device would print it: without the lines it never prints
    (platform.hidden) and, where the platform says how (platform.align), with its blocks cut as
    the running config cuts them. What comparisons and audits hold a running config against."""
    text = without_hidden(platform, intended)
    if platform.align is None:
        return text
    aligned = platform.align(blocks(platform, text), blocks(platform, running))
    return "".join("\n".join(block) + "\n" for block in aligned)


def compare(platform: Platform, running: str, intended: str, managed,
            shown: dict[str, str] | None = None) -> Comparison:
    """Running against intended, both cut to the `managed` sections.

    `shown` maps show commands (platform.checks(managed)) to their output on the device; what
    they show is compared too (IOS: SNMPv3 users, through `show snmp user`). Without it, what
    only they show is not compared.
    """
    if platform.name == "routeros":
        from unitctl.network.routeros_export import compare_routeros  # noqa: PLC0415  (import cycle)

        return compare_routeros(running, intended, managed)
    before = comparable(platform, without_hidden(platform, running), managed)
    after = comparable(platform, expected(platform, intended, running), managed)
    if platform.remediate is None:
        have, want = before.splitlines(), after.splitlines()
        return Comparison(before, after, [line for line in want if line not in have],
                          [line for line in have if line not in want])
    commands = platform.remediate(before, after)
    for command, output in (shown or {}).items():
        commands += platform.shown_checks[command](comparable(platform, intended, managed), output)
    return Comparison(before, after, commands, [])


def sendable_of(platform: Platform, comparison, source: str, removed_from: str | None = None) -> list[str]:
    """The commands of `comparison` as they are sent: a comparison that puts back its own secrets
    (RouterOS: `sendable()`) does so; otherwise `sendable` below. UnsafeCommand as there."""
    if hasattr(comparison, "sendable"):
        return comparison.sendable()
    return sendable(platform, comparison.commands, source, removed_from)


def sendable(platform: Platform, commands: list[str], source: str, removed_from: str | None = None) -> list[str]:
    """The commands as they are sent: masked secrets put back, each command as it is typed
    (platform.typed: an IOS banner with a one-character delimiter).

    `source` is the real config the commands bring the device to (the intended one, or a backup
    for a roll-back); `removed_from` the real config they take it from (the running one): a
    masked secret in a `no ...` command is taken from it. Secrets are looked up by their place
    (the block a line is in), so two VTY blocks with different passwords stay apart.
    UnsafeCommand when a secret is not known (rendered offline, without the vault) or ambiguous.
    """
    added = unmask_map(platform, source)
    removed = unmask_map(platform, removed_from) if removed_from is not None else {}
    if removed_from is not None:  # the intended blocks as the device prints them (vty 0 4, 5 15)
        for key, line in unmask_map(platform, expected(platform, source, removed_from)).items():
            added[key] = line if added.get(key, line) == line else None
    result, path = [], []
    for command in commands:
        indent = command[: len(command) - len(command.lstrip())]
        line = command.strip()
        path = path[: len(indent)] + [line]
        if MASK in line:
            negated = line.startswith("no ")
            key = (*path[:-1], line[3:] if negated else line)
            known = (removed if negated else added).get(key)
            if known is None:
                why = "ambiguous (two lines differ only in it)" if key in (removed if negated else added) \
                    else "not available; give the vault password to push it"
                raise UnsafeCommand(f"the secret in '{line}' is {why}")
            line = f"no {known}" if negated else known
        try:
            result.append(indent + (platform.typed(line) if platform.typed else line))
        except ValueError as error:
            raise UnsafeCommand(f"'{line.splitlines()[0]}' cannot be typed: {error}") from None
    return result

"""A lab RouterOS router over SSH: the in-process model (unitctl.lab.routeros_model) behind a
shell that answers as RouterOS 7's terminal does, so that netmiko's `mikrotik_routeros` driver
and the toolkit's push (backup, difference, verify, roll back) run against it unchanged.

What the shell does, from netmiko's driver (netmiko/mikrotik/mikrotik_ssh.py) and MikroTik's
manual ("Command Line Interface", "Configuration export"):
- the login name may carry terminal options after a `+` (`netadmin+ct511w4098h`: no colours,
  dumb terminal, 511 columns); the account is the name before it;
- a banner, then the prompt `[USER@IDENTITY] > `, which follows `/system identity set name=`;
- `/export` prints the configuration as RouterOS does (the model's), `/system identity print`
  prints `  name: IDENTITY`, every other line runs as a command; a refused one prints RouterOS's
  kind of message (`failure: ...`, `bad command name ...`, `no such item`) and changes nothing;
- `quit` ends the session.
Not modelled: paging, colours, tab completion, the hierarchical menu prompt (`/ip address>`).

Run as a module to serve one router: `python -m unitctl.lab.routeros_ssh ADDRESS PORT NAME USER
HOST_KEY`, the password in the environment (UNITLAB_ROUTEROS_PASSWORD). Tests start it on the
loopback address, on a port of their own.
"""

from __future__ import annotations

import logging
import os
import sys

from twisted.conch.ssh import factory
from twisted.cred import checkers, credentials, error, portal
from twisted.internet import defer
from zope.interface import implementer

from unitctl.lab.routeros_model import RouterOSError, RouterOSModel

CREDENTIAL_ENVIRONMENT = "UNITLAB_ROUTEROS_PASSWORD"
BANNER = ("\n\n  MikroTik RouterOS {version} (c) 1999-2024       https://www.mikrotik.com/\n\n"
          "Press F1 for help\n\n")


class _Processor:
    """What fake-switches' SSH shell asks of a command processor: nothing hidden, no sub-mode."""

    sub_processor = None
    replace_input = False


class RouterOSShellSession:
    def __init__(self, core: "RouterOSCore", terminal, user: str):
        self.core, self.terminal, self.user = core, terminal, user
        self.command_processor = _Processor()
        terminal.write(BANNER.format(version=core.model.version))
        terminal.write(self.prompt())

    def prompt(self) -> str:
        return f"[{self.user}@{self.core.identity()}] > "

    def receive(self, line: str) -> bool:
        """One line typed; False ends the session."""
        line = line.strip()
        if line in ("quit", "/quit"):
            self.terminal.write("interrupted\n")
            return False
        if line:
            output = self.core.execute(line)
            if output:
                self.terminal.write(output.rstrip("\n") + "\n")
        self.terminal.write(self.prompt())
        return True


class RouterOSCore:
    """One router: its model, and the commands its terminal answers itself."""

    def __init__(self, name: str, model: RouterOSModel | None = None):
        self.model = model or RouterOSModel()
        self.model.run(f"/system identity set name={name}")
        self.user = "admin"

    def identity(self) -> str:
        return self.model.settings.get("/system identity", {}).get("name", "MikroTik")

    def execute(self, line: str) -> str:
        """What the router prints for one line (nothing for a command that worked)."""
        if line.split()[:1] == ["/export"]:
            return self.model.export()
        if line == "/system identity print":
            return f"  name: {self.identity()}"
        try:
            self.model.run(line)
        except RouterOSError as refused:
            return str(refused)
        return ""

    # fake-switches' SSH avatar asks these
    def get_netconf_protocol(self):
        return None

    def launch(self, protocol: str, terminal_controller) -> RouterOSShellSession:
        return RouterOSShellSession(self, terminal_controller, self.user)


@implementer(checkers.ICredentialsChecker)
class RouterOSLogin:
    """User and password, the account being the login name before any `+options`."""

    credentialInterfaces = (credentials.IUsernamePassword,)

    def __init__(self, users: dict[str, bytes]):
        self.users = users

    def requestAvatarId(self, given):
        account = given.username.split(b"+", 1)[0]
        expected = self.users.get(account.decode())
        if expected is not None and given.checkPassword(expected):
            return defer.succeed(account)
        return defer.fail(error.UnauthorizedLogin())


def listen(reactor, core: RouterOSCore, address: str, port: int, users: dict[str, bytes], host_key_file: str):
    """Serve `core` over SSH on address:port; returns the listening port."""
    from unitctl.lab.switch_ssh import Utf8Realm, use_host_key  # noqa: PLC0415  (its shell keeps UTF-8 text)

    ssh_factory = factory.SSHFactory()
    ssh_factory.portal = portal.Portal(Utf8Realm(core))
    ssh_factory.portal.registerChecker(RouterOSLogin(users))
    use_host_key(ssh_factory, host_key_file)
    return reactor.listenTCP(port=port, factory=ssh_factory, interface=address)


def main(argv: list[str]) -> None:
    from twisted.internet import reactor  # noqa: PLC0415

    address, port, name, user, host_key_file = argv
    core = RouterOSCore(name)
    core.user = user
    password = os.environ[CREDENTIAL_ENVIRONMENT]   # not on the command line, where `ps` shows it
    listen(reactor, core, address, int(port), {user: password.encode()}, host_key_file)
    logging.info("RouterOS %s listening on %s:%s", name, address, port)
    reactor.run()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s")
    main(sys.argv[1:])

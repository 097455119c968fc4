"""fake-switches' SSH shell, able to take UTF-8 text (the login banner is Persian and English).

fake-switches' shell is twisted's line editor, which keeps only ASCII keystrokes: every byte of a
Persian character was dropped before the switch saw the line, so a banner sent over the lab's SSH
arrived as empty lines. Here bytes from 0x80 up are kept as characters of the line (the line is
decoded as UTF-8 when it ends, as fake-switches already does). Used by unitctl.lab.switches:
`use_utf8_shell(listening_port)` after fake-switches' SwitchSshService has set up the port.

The shell also watches the switch's management path (unitctl.lab.ios_switch.PathWatch): the
input of one SSH data message runs as a whole, then a session whose path it cut is dropped at the
TCP level, as the client of a real switch would see it.
"""

from __future__ import annotations

from fake_switches.terminal.ssh import SwitchSSHShell
from fake_switches.transports.ssh_service import SSHDemoAvatar, SSHDemoRealm
from twisted.conch.insults import insults
from twisted.conch.ssh import keys, session


class Utf8SwitchShell(SwitchSSHShell):
    def keystrokeReceived(self, keyID, modifier):
        if isinstance(keyID, bytes) and len(keyID) == 1 and keyID[0] >= 0x80:
            self.characterReceived(keyID, False)   # one byte of a UTF-8 character
            return
        super().keystrokeReceived(keyID, modifier)


class PathWatchingProtocol(insults.ServerProtocol):
    watch = None   # a PathWatch, set by Utf8Avatar.openShell
    tcp = None     # the TCP transport under the SSH connection

    def dataReceived(self, data):
        super().dataReceived(data)
        if self.watch is not None and not self.watch.check():
            self.tcp.abortConnection()


class Utf8Avatar(SSHDemoAvatar):
    def openShell(self, protocol):
        from unitctl.lab.ios_switch import PathWatch  # noqa: PLC0415  (lab-only module)

        server_protocol = PathWatchingProtocol(Utf8SwitchShell, self, switch_core=self.switch_core)
        tcp = self.conn.transport.transport
        if hasattr(self.switch_core, "management_path_up"):
            server_protocol.watch, server_protocol.tcp = PathWatch(self.switch_core, tcp.getHost().host), tcp
            if server_protocol.watch.refused:  # no path to this address: as unreachable as can be
                tcp.abortConnection()
                return
        server_protocol.makeConnection(protocol)
        protocol.makeConnection(session.wrapProtocol(server_protocol))


class Utf8Realm(SSHDemoRealm):
    def requestAvatar(self, avatarId, mind, *interfaces):
        interface, _, logout = super().requestAvatar(avatarId, mind, *interfaces)
        return interface, Utf8Avatar(avatarId, switch_core=self.switch_core), logout


def use_host_key(ssh_factory, host_key_file: str) -> None:
    """Present the lab's own host key (recorded in the lab's known_hosts), not fake-switches'."""
    host_key = keys.Key.fromFile(host_key_file)
    ssh_factory.publicKeys = {host_key.sshType(): host_key.public()}
    ssh_factory.privateKeys = {host_key.sshType(): host_key}


def use_utf8_shell(listening_port) -> None:
    """Serve the UTF-8 shell on a port fake-switches' SwitchSshService.hook_to_reactor returned."""
    portal = listening_port.factory.portal
    portal.realm = Utf8Realm(portal.realm.switch_core)

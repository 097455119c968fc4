"""One SSH session to one device through netmiko, with the emulator's lessons built in.

Every config is sent with the platform's error pattern (netmiko's default has none, so a
rejected line would pass silently); config mode is left with `end` afterwards, read up to the
prompt (never by waiting for a quiet spell, which costs seconds per call). Every failure
becomes a DeviceError whose message a technician can act on; a remark the device makes on a
line it took (IOS: "%Warning: portfast should only be enabled on ports connected to a single
host...") is not a failure: it is in the output, which platforms.warnings() reads.

A command of several lines (an IOS banner: `banner login ^`, its text, `^`) is sent in a call
of its own, as its lines: netmiko then sees a line starting with `banner` (its
`bypass_commands`, `^banner .*$`) and does not wait for each line's echo, which a banner's text
never gives; its output is read once and checked for rejections after. The other commands keep
netmiko's echo check.
"""

from __future__ import annotations

import re
import time

from unitctl.network.platforms import MASK
from unitctl.network.render import Target


# IOS's prompt in configuration mode: `sw1(config)#`, `sw1(config-if)#`.
CONFIG_PROMPT = re.compile(r"\(config[^)]*\)#")
# Commands netmiko sends without its echo check (its send_config_set `bypass_commands`).
BYPASSED = r"^banner .*$"


class DeviceError(Exception):
    """A device could not be reached, refused the login, or rejected a command."""


class SessionLost(DeviceError):
    """The session ended while lines sent in one write ran (the path it used has moved)."""


class Session:
    def __init__(self, target: Target):
        self.target = target
        self.platform = target.platform
        self.timeout = float(target.settings.get("timeout_s", 30))
        self.connection = None

    def __enter__(self) -> "Session":
        from netmiko import ConnectHandler  # noqa: PLC0415  (slow import, only when connecting)
        from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException  # noqa: PLC0415

        settings, address = self.target.settings, self.target.host["address"]
        if MASK in (settings.get("password"), settings.get("enable_secret")) or not settings.get("user"):
            raise DeviceError("the device credentials are not available (vault password missing?)")
        parameters = dict(
            device_type=self.platform.netmiko_type, host=address, port=int(settings.get("port", 22)),
            username=settings["user"], password=settings["password"], secret=settings["enable_secret"],
            fast_cli=True, conn_timeout=self.timeout, auth_timeout=self.timeout,
            banner_timeout=self.timeout, timeout=self.timeout, session_timeout=self.timeout,
            allow_agent=False, use_keys=False)
        if settings.get("known_hosts"):  # host keys checked against the province's (or lab's) list
            parameters.update(ssh_strict=True, system_host_keys=False, alt_host_keys=True,
                              alt_key_file=settings["known_hosts"])
        try:
            self.connection = ConnectHandler(**parameters)
            if self.platform.name == "ios":
                self.connection.enable()
        except NetmikoAuthenticationException:
            raise DeviceError(f"login to {address} refused: wrong user name, password or host key") from None
        except NetmikoTimeoutException:
            raise DeviceError(f"{address} did not answer SSH within {self.timeout:g} s (unreachable?)") from None
        except Exception as error:  # noqa: BLE001  (paramiko and socket errors have many types)
            raise DeviceError(f"cannot open a session to {address}: {error}") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.connection is not None:
            try:
                self.connection.disconnect()
            except Exception:  # noqa: BLE001  (the session may already be gone)
                pass

    def running(self) -> str:
        """The running configuration as the device prints it."""
        return self._do("reading the running config", self.connection.send_command,
                        self.platform.show_command, read_timeout=self.timeout)

    def show(self, command: str) -> str:
        """The output of a show command (the platform's checks: IOS `show snmp user`)."""
        return self._do(f"reading '{command}'", self.connection.send_command, command,
                        read_timeout=self.timeout)

    def configure(self, commands: list[str]) -> str:
        """Send config lines; a line the device rejects raises DeviceError naming it. Returns
        what the device printed (platforms.warnings() finds its remarks in it)."""
        from netmiko.exceptions import ConfigInvalidException  # noqa: PLC0415

        try:
            output = ""
            for group in command_groups(commands):
                if len(group) > 1 and re.match(BYPASSED, group[0]):
                    # netmiko sends these lines without waiting for echoes and, given an error
                    # pattern, waits for a quiet spell after each line: read once, check after
                    printed = self.connection.send_config_set(
                        group, exit_config_mode=False, cmd_verify=False, read_timeout=self.timeout)
                    if re.search(self.platform.error_pattern, printed, flags=re.M):
                        raise ConfigInvalidException(f"Invalid input detected at command: {group[0]}, "
                                                     f"matched error: {printed.strip()[-200:]}")
                else:
                    printed = self.connection.send_config_set(
                        group, exit_config_mode=False, error_pattern=self.platform.error_pattern,
                        terminator=self.platform.prompt_end, read_timeout=self.timeout)
                output += printed
            return output
        except ConfigInvalidException as error:
            raise DeviceError(f"the device rejected a command: {error}") from None
        except Exception as error:  # noqa: BLE001
            raise DeviceError(f"sending the config failed: {error}") from None
        finally:
            self._leave_config_mode()
            if any(re.match(self.platform.renames, command.lstrip()) for command in commands):
                self._relearn_prompt()

    def local_address(self) -> str | None:
        """The toolkit's own address on this session, as the device sees it (None: unknown)."""
        try:
            return self.connection.remote_conn.get_transport().sock.getsockname()[0]
        except Exception:  # noqa: BLE001  (a session without a socket: none to tell)
            return None

    def configure_at_once(self, commands: list[str]) -> str:
        """Send config lines in a single write, so that the device runs all of them even when the
        first ones take away the address this session came to and the last ones put it on
        another interface (unitctl.network.management_path: the switch-over). Returns what the
        device printed; DeviceError for a rejected line, SessionLost when the session did not
        come back within the timeout (the caller opens a new one to see what happened)."""
        connection = self.connection
        try:
            connection.config_mode()
            connection.write_channel("".join(f"{command}\n" for command in commands))
            output = self._read_prompts(len(commands))
        except Exception as error:  # noqa: BLE001  (a dropped session fails in many ways)
            self.connection = None
            try:
                connection.disconnect()
            except Exception:  # noqa: BLE001
                pass
            raise SessionLost(f"the session ended during the switch-over ({type(error).__name__})") from None
        self._leave_config_mode()
        rejected = [line for line in output.splitlines() if re.search(self.platform.error_pattern, line)]
        if rejected:
            raise DeviceError("the device rejected a line of the switch-over: " + "; ".join(rejected))
        return output

    def _read_prompts(self, count: int) -> str:
        """Read until the device has printed `count` config-mode prompts (one after each line)."""
        output, deadline = "", time.monotonic() + self.timeout
        channel = self.connection.remote_conn
        while len(CONFIG_PROMPT.findall(output)) < count:
            if getattr(channel, "closed", False) or time.monotonic() > deadline:
                raise EOFError("no prompt")
            output += self.connection.read_channel()
            time.sleep(0.05)
        return output

    def _relearn_prompt(self) -> None:
        """After a new hostname the device's prompt is new: netmiko reads each command's output up
        to the prompt it learnt at login, so it must learn it again (else the next output runs
        into the old one, or times out)."""
        try:
            self.connection.set_base_prompt()
        except Exception:  # noqa: BLE001  (a dead session has no prompt; the next call says so)
            pass

    def save(self) -> None:
        if self.platform.save_command:
            self._do("saving the config", self.connection.send_command, self.platform.save_command,
                     read_timeout=self.timeout)

    def _leave_config_mode(self) -> None:
        """Back to EXEC from any configuration sub-mode: `end` (netmiko's exit_config_mode, which
        reads up to the prompt rather than waiting for a quiet spell)."""
        if not self.platform.save_command:
            return  # RouterOS has no config mode (netmiko's NoConfig always says it is in one)
        try:
            if self.connection.check_config_mode():
                self.connection.exit_config_mode()
        except Exception:  # noqa: BLE001  (a dead session has no mode to leave)
            return

    def _do(self, what: str, function, *args, **kwargs) -> str:
        try:
            return function(*args, **kwargs)
        except Exception as error:  # noqa: BLE001
            raise DeviceError(f"{what} failed: {error}") from None


def command_groups(commands: list[str]) -> list[list[str]]:
    """The commands in the calls they are sent in: runs of one-line commands together, each
    command of several lines (a banner) alone, as its lines."""
    groups: list[list[str]] = []
    run: list[str] = []
    for command in commands:
        if "\n" not in command:
            run.append(command)
            continue
        if run:
            groups.append(run)
            run = []
        groups.append(command.split("\n"))
    return groups + ([run] if run else [])

"""How the relay reaches a VM's display from the web process: directly on this machine (TCP or
the display's unix socket), through SSH for a `qemu+ssh` host (the same user, port, key file and
known-hosts file as the host's URI; the port is opened on the far side, never exposed), or
directly for a host reached over TLS/TCP when its display listens on an address other than
loopback. Returns asyncio streams; nothing here blocks the event loop.
"""

import asyncio
import ipaddress
from urllib.parse import parse_qsl, urlsplit

from apps.hosts.validation import is_local

SSH_TRANSPORTS = ("ssh", "libssh", "libssh2")
CONNECT_TIMEOUT = 10


class Unreachable(Exception):
    """The display cannot be reached; the message is shown to the person."""


def _loopback(address):
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def ssh_command(uri, display):
    """The ssh command that carries the display's bytes (as `ssh -W`) for a qemu+ssh URI."""
    parts = urlsplit(uri)
    params = dict(parse_qsl(parts.query))
    command = ["ssh", "-T", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT}"]
    if parts.port:
        command += ["-p", str(parts.port)]
    if params.get("keyfile"):
        command += ["-i", params["keyfile"], "-o", "IdentitiesOnly=yes"]
    if params.get("known_hosts"):
        command += ["-o", f"UserKnownHostsFile={params['known_hosts']}"]
    if display.socket:
        command += ["-W", display.socket]  # a unix socket on the far side
    else:
        address = display.address if ":" not in display.address else f"[{display.address}]"
        command += ["-W", f"{address}:{display.port}"]
    command += ["--", f"{parts.username}@{parts.hostname}"]
    return command


class _ProcessWriter:
    """The writing half of an ssh process, shaped like an asyncio StreamWriter."""

    def __init__(self, process):
        self.process = process

    def write(self, data):
        self.process.stdin.write(data)

    async def drain(self):
        await self.process.stdin.drain()

    def close(self):
        if self.process.returncode is None:
            self.process.kill()

    async def wait_closed(self):
        await self.process.wait()


async def open_display(uri, display):
    """(reader, writer) connected to the display's VNC server."""
    scheme = urlsplit(uri).scheme
    transport = scheme.partition("+")[2]
    try:
        if is_local(uri):
            if display.socket:
                return await asyncio.wait_for(asyncio.open_unix_connection(display.socket), CONNECT_TIMEOUT)
            return await asyncio.wait_for(asyncio.open_connection(display.address, display.port), CONNECT_TIMEOUT)
        if transport in SSH_TRANSPORTS:
            process = await asyncio.create_subprocess_exec(
                *ssh_command(uri, display),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            return process.stdout, _ProcessWriter(process)
        if display.socket or _loopback(display.address):
            raise Unreachable(
                "The VM's display listens only on its host itself; kvmweb reaches such displays on "
                "this machine or through SSH (a qemu+ssh host)."
            )
        return await asyncio.wait_for(asyncio.open_connection(display.address, display.port), CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise Unreachable(f"Could not reach the VM's display: {exc or 'timed out'}.") from None

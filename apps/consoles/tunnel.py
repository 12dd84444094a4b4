"""How the relay reaches a VM's display from the web process: on this machine, a socket libvirt
hands over already connected (virDomainOpenGraphicsFD; it works wherever libvirt's socket does, a
container included, whatever address the display listens on), else directly (TCP or the
display's unix socket); through SSH for a `qemu+ssh` host (the same user, port, key file and
known-hosts file as the host's URI; the port is opened on the far side, never exposed), or
directly for a host reached over TLS/TCP when its display listens on an address other than
loopback. Returns asyncio streams; nothing here blocks the event loop.
"""

import asyncio
import ipaddress
import socket
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings

from apps.compute.virt import consoles as virt_consoles
from apps.core.errors import VirtError
from apps.hosts.validation import is_local
from apps.hosts.virt import connection

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


def _libvirt_socket(uri, uuid):
    """A socket to the display from libvirt, or None where libvirt cannot give one."""
    try:
        with connection.connected(uri) as conn:
            fd = virt_consoles.graphics_fd(conn, uuid)
    except VirtError:
        return None
    sock = socket.socket(fileno=fd)
    sock.setblocking(False)
    return sock


async def open_display(uri, display, uuid=None):
    """(reader, writer) connected to the display's VNC server."""
    scheme = urlsplit(uri).scheme
    transport = scheme.partition("+")[2]
    try:
        if is_local(uri):
            sock = (
                await asyncio.to_thread(_libvirt_socket, uri, uuid)
                if uuid and settings.KVMWEB_CONSOLE_GRAPHICS_FD
                else None
            )
            if sock is not None:
                return await asyncio.open_connection(sock=sock)
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
            raise Unreachable("The display listens on its host only: kvmweb reaches it locally or over SSH.")
        return await asyncio.wait_for(asyncio.open_connection(display.address, display.port), CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise Unreachable(f"Could not reach the VM's display: {exc or 'timed out'}.") from None

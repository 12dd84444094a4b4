"""What the console tests share: a browser's session cookie for the ASGI stack, a tiny QEMU domain
with a VNC display, and noVNC's side of the RFB handshake through kvmweb's relay."""

import struct
import uuid

from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from apps.compute.services import vm_inventory_apply
from apps.compute.virt import domains
from apps.compute.virt.xml import Domain
from apps.compute.virt.xml.devices import Graphics
from kvmweb.asgi import application
from tests.helpers import unique


def headers_for(user):
    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        headers.append((b"cookie", cookie.encode()))
    return headers


def vnc_socket(headers, vm, query=""):
    return WebsocketCommunicator(application, f"/ws/vms/{vm.pk}/vnc/{query}", headers=headers)


def define_vnc_domain(conn, *, password=None, start=True):
    """A diskless 32 MiB QEMU domain with a VNC display on loopback (its firmware paints the
    screen); returns its UUID."""
    display = Graphics("vnc", listen="127.0.0.1")
    if password:
        display.passwd = password
    spec = Domain(unique("console"), memory_mib=32, domain_type="qemu", uuid=str(uuid.uuid4()), graphics=[display])
    dom_uuid = domains.define(conn, spec.to_xml())
    if start:
        domains.power(conn, dom_uuid, "start")
    return dom_uuid


def inventory_row(conn, host, dom_uuid):
    return vm_inventory_apply(host=host, uuid=dom_uuid, info=domains.domain_info(conn, dom_uuid))


async def closed(comm):
    """The close the consumer sent (after accepting), as (code, reason)."""
    connected, _ = await comm.connect()
    assert connected, "a refusal is sent as a close after accepting, so its reason arrives"
    message = await comm.receive_output(timeout=10)
    assert message["type"] == "websocket.close", message
    await comm.disconnect()  # the consumer ends here, not in a loop that closes under it
    return message["code"], message.get("reason", "")


async def until_closed(comm, timeout=2):
    """Skip what the socket still carries (screen updates) up to its close, then end the consumer;
    returns (code, reason)."""
    while (message := await comm.receive_output(timeout=timeout))["type"] != "websocket.close":
        pass
    await comm.disconnect()
    return message["code"], message.get("reason", "")


async def handshake(comm):
    """Be noVNC: the relay's RFB greeting, security type None, ClientInit; returns ServerInit's
    width, height and desktop name."""
    connected, _ = await comm.connect()
    assert connected
    assert await comm.receive_from(timeout=10) == b"RFB 003.008\n"
    await comm.send_to(bytes_data=b"RFB 003.008\n")
    assert await comm.receive_from(timeout=5) == bytes([1, 1])  # one type: None
    await comm.send_to(bytes_data=bytes([1]))
    assert await comm.receive_from(timeout=5) == struct.pack(">I", 0)
    await comm.send_to(bytes_data=bytes([1]))  # ClientInit, shared
    init = b""
    while len(init) < 24:
        init += await comm.receive_from(timeout=10)
    width, height = struct.unpack(">HH", init[:4])
    (name_length,) = struct.unpack(">I", init[20:24])
    while len(init) < 24 + name_length:
        init += await comm.receive_from(timeout=5)
    return width, height, init[24 : 24 + name_length].decode()


async def offered_security(display):
    """The security types the VM's display itself offers (talking to it directly)."""
    import asyncio

    reader, writer = await asyncio.open_connection(display.address, display.port)
    await reader.readexactly(12)
    writer.write(b"RFB 003.008\n")
    count = (await reader.readexactly(1))[0]
    offered = await reader.readexactly(count)
    writer.close()
    return offered

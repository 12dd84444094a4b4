"""A VM's display password and consoles, as settings: set or clear the VNC password, add a VNC
display or a serial console. The password is only ever read here with the secure flag, to change
it; what leaves is whether one is set."""

from dataclasses import dataclass

import libvirt
from lxml import etree

from apps.core.errors import VirtError, from_libvirt

from . import domains
from .domains import lookup
from .xml import Domain
from .xml.devices import Graphics
from .xmledit import secure_inactive

MAX_VNC_PASSWORD = 8  # what VNC's authentication uses of a password; libvirt refuses longer ones


@dataclass(frozen=True)
class DisplaySettings:
    vnc: bool
    spice: bool
    password_set: bool  # the saved definition's VNC display has a password
    serial: bool


def read(conn, uuid) -> DisplaySettings:
    doc = Domain.parse(secure_inactive(conn, uuid))
    vnc = next((g for g in doc.graphics if g.type == "vnc"), None)
    return DisplaySettings(
        vnc=vnc is not None,
        spice=any(g.type == "spice" for g in doc.graphics),
        password_set=bool(vnc is not None and vnc.passwd),
        serial=doc.serial_console,
    )


def _running(dom):
    try:
        return bool(dom.isActive())
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def set_vnc_password(conn, uuid, password):
    """Set (or with None, clear) the VNC password in the saved definition, and when the VM runs
    with a password already, change the running display's too (connected viewers stay). Clearing,
    and a first password, apply from the next boot: QEMU cannot turn a running display's password
    check off or on. Returns what was done."""
    dom = lookup(conn, uuid)
    doc = Domain.parse(secure_inactive(conn, uuid))
    vnc = next(g for g in doc.graphics if g.type == "vnc")
    vnc.passwd = password or None
    domains.define(conn, doc.to_xml(), validate=True)  # not xmledit.define: it would keep the old one
    if not _running(dom):
        return "VNC password set" if password else "VNC password cleared"
    if not password:
        return "VNC password cleared from the next boot (the running display keeps asking for it until then)"
    live = Domain.parse(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE))
    display = next((g for g in live.graphics if g.type == "vnc"), None)
    if display is None:
        return "VNC password set from the next boot (the running VM has no VNC display)"
    if not display.passwd:
        # QEMU checks passwords only on a display started with one: set_password fails on the rest.
        return "VNC password set from the next boot (the display was started without one)"
    display.passwd = password
    display.connected = "keep"
    try:
        dom.updateDeviceFlags(etree.tostring(display.el, encoding="unicode"), libvirt.VIR_DOMAIN_AFFECT_LIVE)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    return "VNC password set, now and from the next boot"


def add_vnc(conn, uuid):
    """A VNC display on loopback (kvmweb's console reaches it; nothing else can), from the next boot."""
    doc = Domain.parse(secure_inactive(conn, uuid))
    if not any(g.type == "vnc" for g in doc.graphics):
        doc.add_device(Graphics("vnc", listen="127.0.0.1"))
        domains.define(conn, doc.to_xml(), validate=True)
    return "VNC display added from the next boot"


def add_serial_console(conn, uuid):
    doc = Domain.parse(secure_inactive(conn, uuid))
    if not doc.serial_console:
        doc.serial_console = True
        domains.define(conn, doc.to_xml(), validate=True)
    return "serial console added from the next boot"


def set_ticket(conn, uuid, graphics_type, password, valid_to):
    """Give the running display of `graphics_type` a password valid until `valid_to` (UTC, ISO
    "YYYY-MM-DDTHH:MM:SS"), leaving connected clients connected: a one-person ticket for a viewer
    such as remote-viewer. Only a display started with a password accepts one."""
    dom = lookup(conn, uuid)
    try:
        live = Domain.parse(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    display = next((g for g in live.graphics if g.type == graphics_type), None)
    if display is None:
        raise VirtError(f"The running VM has no {graphics_type.upper()} display.")
    if not display.passwd:
        raise VirtError(
            f"The {graphics_type.upper()} display was started without a password, so it takes no tickets: "
            "anyone who reaches its port can connect."
        )
    display.passwd, display.passwd_valid_to, display.connected = password, valid_to, "keep"
    try:
        dom.updateDeviceFlags(etree.tostring(display.el, encoding="unicode"), libvirt.VIR_DOMAIN_AFFECT_LIVE)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None

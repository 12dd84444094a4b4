"""Device elements besides disks and NICs: graphics, controllers, and the character devices
(serial ports, consoles, channels). Disk and Interface live in disk.py and interface.py and are
named here too, where the attach code has always found them."""

from lxml import etree

from apps.core.xml import Prop, XMLObject

from .disk import Disk, DiskAuth, DiskHost
from .interface import (
    LINK_STATES,
    MACVTAP_MODES,
    NIC_KINDS,
    NIC_MODELS,
    Interface,
    NicError,
    check_ifname,
    check_network_name,
    normalize_mac,
)

__all__ = [
    "LINK_STATES", "MACVTAP_MODES", "NIC_KINDS", "NIC_MODELS", "Channel", "Console", "Controller", "Disk",
    "DiskAuth", "DiskHost", "Graphics", "Interface", "NicError", "Serial", "check_ifname", "check_network_name",
    "normalize_mac",
]  # fmt: skip


class Graphics(XMLObject):
    """A VNC or SPICE display. `Graphics(type="vnc", listen="127.0.0.1", port=-1)` lets libvirt
    pick a free port (autoport) and listens on one address, written both ways libvirt reads it."""

    TAG = "graphics"
    ORDER = {"": ("listen", "channel", "image", "streaming", "clipboard", "mouse", "filetransfer", "gl", "audio")}

    type = Prop("@type")  # vnc | spice | …
    port = Prop("@port", int)  # -1: libvirt picks one
    autoport = Prop("@autoport", "yesno")
    tls_port = Prop("@tlsPort", int)
    passwd = Prop("@passwd")  # only in XML read with VIR_DOMAIN_XML_SECURE
    passwd_valid_to = Prop("@passwdValidTo")
    connected = Prop("@connected")  # what a password change does to connected clients
    keymap = Prop("@keymap")
    listen_type = Prop("listen/@type")  # address | network | socket | none
    listen_address = Prop("listen/@address")
    listen_socket = Prop("listen/@socket")  # listen type socket: a unix socket on the host

    def __init__(self, type="vnc", listen="127.0.0.1", port=-1):
        self.el = etree.Element(self.TAG)
        self.type = type
        self.port = port
        self.autoport = port == -1
        self.listen = listen

    @property
    def listen(self):
        """The address it listens on (the <listen> child, or the older attribute)."""
        return self.listen_address or self.el.get("listen")

    @listen.setter
    def listen(self, address):
        if address is None:
            self.el.attrib.pop("listen", None)
            self.listen_address = None
            return
        self.el.set("listen", address)
        self.listen_type = "address"
        self.listen_address = address


class Controller(XMLObject):
    """A bus controller: usb, pci, sata, scsi, virtio-serial, …"""

    TAG = "controller"
    ORDER = {"": ("driver", "master", "model", "target", "alias", "address")}
    type = Prop("@type")
    index = Prop("@index", int)
    model = Prop("@model")
    ports = Prop("@ports", int)


class _CharDevice(XMLObject):
    """What serial ports, consoles and channels share: a host side (`type` and `source`) and a
    guest side (`target`)."""

    ORDER = {"": ("source", "protocol", "log", "target", "alias", "address")}
    type = Prop("@type")  # pty | unix | file | tcp | spicevmc | …
    source_path = Prop("source/@path")
    source_mode = Prop("source/@mode")
    source_host = Prop("source/@host")
    source_service = Prop("source/@service")
    target_type = Prop("target/@type")
    target_port = Prop("target/@port", int)
    target_name = Prop("target/@name")


class Serial(_CharDevice):
    TAG = "serial"


class Console(_CharDevice):
    TAG = "console"


class Channel(_CharDevice):
    """A guest channel, e.g. the virtio one qemu-guest-agent talks on."""

    TAG = "channel"
    target_state = Prop("target/@state")  # connected | disconnected, while running

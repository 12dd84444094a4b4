"""Device elements of the domain XML: disks and NICs, as attach-disk / attach-interface add them."""

from dataclasses import dataclass

from lxml import etree

from apps.core.xml import sub as _sub

E = etree.Element


@dataclass
class Disk:
    """A file-backed disk (or CD-ROM) as `virsh attach-disk` would add it."""

    source: str
    target: str = "vda"
    bus: str = "virtio"
    format: str = "qcow2"
    device: str = "disk"
    readonly: bool = False

    @property
    def kind(self):
        """Block devices (LVM volumes, partitions, iSCSI LUNs) are type "block"; images "file"."""
        return "block" if self.source.startswith("/dev/") else "file"

    def to_element(self):
        el = E("disk", type=self.kind, device=self.device)
        _sub(el, "driver", name="qemu", type=self.format)
        if self.kind == "block":
            _sub(el, "source", dev=self.source)
        else:
            _sub(el, "source", file=self.source)
        _sub(el, "target", dev=self.target, bus=self.bus)
        if self.readonly or self.device == "cdrom":
            _sub(el, "readonly")
        return el


@dataclass
class Interface:
    network: str = "default"
    model: str = "virtio"
    mac: str | None = None

    def to_element(self):
        el = E("interface", type="network")
        if self.mac:
            _sub(el, "mac", address=self.mac)
        _sub(el, "source", network=self.network)
        _sub(el, "model", type=self.model)
        return el

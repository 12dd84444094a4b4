"""Volume XML, built with lxml: one small class per element, never string formatting.

Sizes are always written in bytes (unit='bytes'), so what the form parsed is exactly what libvirt
gets; golden files in tests/storage/golden/ pin the output.
"""

from dataclasses import dataclass

from lxml import etree

from apps.core.xml import sub as _sub
from apps.storage.virt.pool_xml import Permissions  # the same <permissions> element for pools and volumes

FORMATS = ("raw", "qcow2")


@dataclass
class BackingStore:
    """The read-only image a qcow2 overlay writes its changes on top of."""

    path: str
    format: str = "qcow2"

    def to_element(self):
        el = etree.Element("backingStore")
        _sub(el, "path", self.path)
        _sub(el, "format", type=self.format)
        return el


@dataclass
class Volume:
    """A volume to create. allocation 0 is sparse (like `dd seek=`); allocation == capacity is
    preallocated (like `dd count=`; qcow2 also needs VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA)."""

    name: str
    capacity: int
    allocation: int = 0
    format: str = "raw"
    backing: BackingStore | None = None
    permissions: Permissions | None = None

    def to_element(self):
        if self.format not in FORMATS:
            raise ValueError(f"volume format must be one of {', '.join(FORMATS)}")
        root = etree.Element("volume")
        _sub(root, "name", self.name)
        _sub(root, "capacity", self.capacity, unit="bytes")
        _sub(root, "allocation", self.allocation, unit="bytes")
        target = _sub(root, "target")
        _sub(target, "format", type=self.format)
        if self.permissions is not None:
            target.append(self.permissions.to_element())
        if self.backing is not None:
            root.append(self.backing.to_element())
        return root

    def to_xml(self):
        return etree.tostring(self.to_element(), pretty_print=True, encoding="unicode")

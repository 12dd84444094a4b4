"""Volume XML as typed classes over lxml (apps/core/xml.py): one class per element that parses,
edits and emits it, never string formatting.

A new volume's sizes are always written in bytes (unit='bytes'), so what the form parsed is
exactly what libvirt gets; `Volume.parse(xml)` reads what libvirt gives back (key, path, format,
sizes in any unit, backing store), keeping what the classes do not model. Golden files in
tests/storage/golden/volumes/ pin the output.
"""

from apps.core.xml import Child, Prop, XMLObject
from apps.storage.virt.pool_xml import Permissions  # the same <permissions> element for pools and volumes

FORMATS = ("raw", "qcow2")
# libvirt's size units, in bytes (bytes when none is written).
UNITS = {
    "b": 1, "bytes": 1, "KB": 10**3, "k": 2**10, "KiB": 2**10, "MB": 10**6, "M": 2**20, "MiB": 2**20,
    "GB": 10**9, "G": 2**30, "GiB": 2**30, "TB": 10**12, "T": 2**40, "TiB": 2**40,
    "PB": 10**15, "P": 2**50, "PiB": 2**50, "EB": 10**18, "E": 2**60, "EiB": 2**60,
}  # fmt: skip


def _bytes(value, unit):
    return value * UNITS.get(unit or "bytes", 1) if isinstance(value, int) else None


class BackingStore(XMLObject):
    """The read-only image a qcow2 overlay writes its changes on top of."""

    TAG = "backingStore"
    ORDER = {"": ("path", "format", "permissions", "timestamps")}
    path = Prop("path")
    format = Prop("format/@type")

    def __init__(self, path, format="qcow2"):
        super().__init__(path=path, format=format)


class Volume(XMLObject):
    """A volume. `Volume(name, capacity, allocation=0, format="raw", backing=None, permissions=None)`
    is one to create: allocation 0 is sparse (like `dd seek=`); allocation == capacity is
    preallocated (like `dd count=`; qcow2 also needs VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA)."""

    TAG = "volume"
    ORDER = {
        "": ("name", "key", "source", "capacity", "allocation", "physical", "target", "backingStore"),
        "target": ("path", "format", "permissions", "timestamps", "encryption", "compat", "clusterSize", "features"),
    }  # fmt: skip
    type = Prop("@type")  # file | block | dir | network | netdir, as libvirt reports it
    name = Prop("name")
    key = Prop("key")
    capacity_value = Prop("capacity", int)
    capacity_unit = Prop("capacity/@unit")
    allocation_value = Prop("allocation", int)
    allocation_unit = Prop("allocation/@unit")
    path = Prop("target/path")
    format = Prop("target/format/@type")
    permissions = Child(Permissions, "target/permissions")
    backing = Child(BackingStore)

    def __init__(self, name, capacity, allocation=0, format="raw", backing=None, permissions=None):
        if format not in FORMATS:
            raise ValueError(f"volume format must be one of {', '.join(FORMATS)}")
        super().__init__(name=name)
        self.capacity = capacity
        self.allocation = allocation
        self.set(format=format, permissions=permissions, backing=backing)

    @property
    def capacity(self):
        """In bytes, whatever unit libvirt wrote."""
        return _bytes(self.capacity_value, self.capacity_unit)

    @capacity.setter
    def capacity(self, value):
        self.capacity_value, self.capacity_unit = value, "bytes"

    @property
    def allocation(self):
        return _bytes(self.allocation_value, self.allocation_unit)

    @allocation.setter
    def allocation(self, value):
        self.allocation_value, self.allocation_unit = value, "bytes"

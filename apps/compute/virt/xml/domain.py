"""The domain document: name, memory, vCPUs, OS and firmware, features, devices.

Each class turns typed fields into its element; `Domain.to_xml()` gives the document libvirt's
defineXML takes. Golden files in tests/compute/golden/ pin what they emit.
"""

from dataclasses import dataclass, field

from lxml import etree

from apps.core.xml import sub as _sub

from .devices import Disk, Interface

E = etree.Element


@dataclass
class Graphics:
    type: str = "vnc"
    listen: str = "127.0.0.1"
    port: int = -1  # -1: libvirt picks a free port

    def to_element(self):
        el = E("graphics", type=self.type, port=str(self.port), autoport="yes" if self.port == -1 else "no")
        el.set("listen", self.listen)
        _sub(el, "listen", type="address", address=self.listen)
        return el


@dataclass
class Domain:
    name: str
    memory_mib: int
    vcpus: int = 1
    domain_type: str = "kvm"
    arch: str = "x86_64"
    machine: str | None = None
    uuid: str | None = None
    description: str | None = None
    acpi: bool = True
    boot: list[str] = field(default_factory=lambda: ["hd"])
    disks: list[Disk] = field(default_factory=list)
    interfaces: list[Interface] = field(default_factory=list)
    graphics: list[Graphics] = field(default_factory=list)
    emulator: str | None = None

    def to_element(self):
        root = E("domain", type=self.domain_type)
        _sub(root, "name", self.name)
        if self.uuid:
            _sub(root, "uuid", self.uuid)
        if self.description:
            _sub(root, "description", self.description)
        _sub(root, "memory", self.memory_mib, unit="MiB")
        _sub(root, "currentMemory", self.memory_mib, unit="MiB")
        _sub(root, "vcpu", self.vcpus, placement="static")
        os_el = _sub(root, "os")
        _sub(os_el, "type", "hvm", arch=self.arch, machine=self.machine)
        for dev in self.boot:
            _sub(os_el, "boot", dev=dev)
        features = _sub(root, "features")
        if self.acpi:
            _sub(features, "acpi")
            _sub(features, "apic")
        _sub(root, "on_poweroff", "destroy")
        _sub(root, "on_reboot", "restart")
        _sub(root, "on_crash", "destroy")
        devices = _sub(root, "devices")
        if self.emulator:
            _sub(devices, "emulator", self.emulator)
        for item in [*self.disks, *self.interfaces, *self.graphics]:
            devices.append(item.to_element())
        return root

    def to_xml(self):
        return etree.tostring(self.to_element(), pretty_print=True, encoding="unicode")

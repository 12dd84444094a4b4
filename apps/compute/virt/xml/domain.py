"""The domain document: name, memory, vCPUs, OS and firmware, features, devices.

Each class turns typed fields into its element; `Domain.to_xml()` gives the document libvirt's
defineXML takes. Fields beyond the basic ones default to "leave it out", so `Domain(name,
memory_mib, vcpus, domain_type, disks, interfaces, graphics)` emits what it always did; the create
wizard sets the rest the way virt-install does (firmware auto-selection, direct kernel boot for an
install tree, the libosinfo metadata, virtio RNG / balloon / video / guest agent channel when the OS
has the drivers). Golden files in tests/compute/golden/ pin what they emit.
"""

from dataclasses import dataclass, field

from lxml import etree

from apps.core.xml import sub as _sub

from .devices import Disk, Interface

E = etree.Element
LIBOSINFO_NS = "http://libosinfo.org/xmlns/libvirt/domain/1.0"


@dataclass
class Graphics:
    type: str = "vnc"  # vnc | spice
    listen: str = "127.0.0.1"
    port: int = -1  # -1: libvirt picks a free port

    def to_element(self):
        el = E("graphics", type=self.type, port=str(self.port), autoport="yes" if self.port == -1 else "no")
        el.set("listen", self.listen)
        _sub(el, "listen", type="address", address=self.listen)
        return el


def libosinfo_metadata(os_id):
    """<metadata><libosinfo:libosinfo><libosinfo:os id=…/></…></metadata>, as virt-install
    writes it; virt-manager and kvmweb's overview read the OS variant back from here."""
    metadata = E("metadata")
    info = etree.SubElement(metadata, f"{{{LIBOSINFO_NS}}}libosinfo", nsmap={"libosinfo": LIBOSINFO_NS})
    etree.SubElement(info, f"{{{LIBOSINFO_NS}}}os", id=os_id)
    return metadata


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
    # What the create wizard adds (None / False: left out).
    title: str | None = None
    os_id: str | None = None  # libosinfo id, written into <metadata>
    firmware: str | None = None  # "efi": libvirt picks the OVMF build itself (<os firmware="efi">)
    kernel: str | None = None  # direct kernel boot (an install tree's kernel and initrd)
    initrd: str | None = None
    cmdline: str | None = None
    cpu_mode: str | None = None  # host-passthrough on KVM, as virt-install does
    clock: str | None = None  # utc | localtime (Windows keeps its clock in local time)
    on_reboot: str = "restart"  # the install phase of a tree install ends with "destroy"
    video: str | None = None  # virtio | qxl | vga …
    tablet: bool = False  # a USB tablet, so the pointer follows the mouse in VNC/SPICE
    serial_console: bool = False  # a pty serial port plus a console on it (`virsh console`)
    guest_agent: bool = False  # the virtio channel qemu-guest-agent talks on
    rng: bool = False  # virtio-rng fed from the host's /dev/urandom
    memballoon: str | None = None  # virtio | none

    def to_element(self):
        root = E("domain", type=self.domain_type)
        _sub(root, "name", self.name)
        if self.uuid:
            _sub(root, "uuid", self.uuid)
        if self.title:
            _sub(root, "title", self.title)
        if self.description:
            _sub(root, "description", self.description)
        if self.os_id:
            root.append(libosinfo_metadata(self.os_id))
        _sub(root, "memory", self.memory_mib, unit="MiB")
        _sub(root, "currentMemory", self.memory_mib, unit="MiB")
        _sub(root, "vcpu", self.vcpus, placement="static")
        self._os(root)
        features = _sub(root, "features")
        if self.acpi:
            _sub(features, "acpi")
            _sub(features, "apic")
        if self.cpu_mode:
            _sub(root, "cpu", mode=self.cpu_mode, check="none" if self.cpu_mode == "host-passthrough" else None)
        if self.clock:
            _sub(root, "clock", offset=self.clock)
        _sub(root, "on_poweroff", "destroy")
        _sub(root, "on_reboot", self.on_reboot)
        _sub(root, "on_crash", "destroy")
        self._devices(root)
        return root

    def _os(self, root):
        os_el = _sub(root, "os", firmware=self.firmware)
        _sub(os_el, "type", "hvm", arch=self.arch, machine=self.machine)
        if self.kernel:
            _sub(os_el, "kernel", self.kernel)
            if self.initrd:
                _sub(os_el, "initrd", self.initrd)
            if self.cmdline:
                _sub(os_el, "cmdline", self.cmdline)
        for dev in self.boot:
            _sub(os_el, "boot", dev=dev)

    def _devices(self, root):
        devices = _sub(root, "devices")
        if self.emulator:
            _sub(devices, "emulator", self.emulator)
        for item in [*self.disks, *self.interfaces]:
            devices.append(item.to_element())
        if self.serial_console:
            serial = _sub(devices, "serial", type="pty")
            _sub(serial, "target", port=0)
            console = _sub(devices, "console", type="pty")
            _sub(console, "target", type="serial", port=0)
        if self.guest_agent:
            channel = _sub(devices, "channel", type="unix")
            _sub(channel, "target", type="virtio", name="org.qemu.guest_agent.0")
        if self.tablet:
            _sub(devices, "input", type="tablet", bus="usb")
        for item in self.graphics:
            devices.append(item.to_element())
        if self.video:
            video = _sub(devices, "video")
            _sub(video, "model", type=self.video)
        if self.memballoon:
            _sub(devices, "memballoon", model=self.memballoon)
        if self.rng:
            rng = _sub(devices, "rng", model="virtio")
            _sub(rng, "backend", "/dev/urandom", model="random")
        return devices

    def to_xml(self):
        return etree.tostring(self.to_element(), pretty_print=True, encoding="unicode")

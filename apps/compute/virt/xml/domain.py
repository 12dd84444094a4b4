"""<domain>: the document as a whole, read, edited and written by one class.

`Domain(name, memory_mib, vcpus, domain_type, disks, interfaces, graphics, …)` builds what the
create wizard defines (the fields beyond the basic ones default to "leave it out"; the wizard sets
them the way virt-install does: firmware auto-selection, direct kernel boot for an install tree,
the libosinfo metadata, virtio RNG / balloon / video / guest agent channel when the OS has the
drivers). `Domain.parse(xml)` reads a definition libvirt wrote, with its devices as typed lists
(`disks`, `interfaces`, `graphics`, `controllers`, `serials`, `consoles`, `channels`); what it
does not model stays in the element and comes out again. Golden files in tests/compute/golden/
pin what it emits and that parse-then-emit gives the same text.
"""

from lxml import etree

from apps.core.xml import Children, Flag, Prop, XMLObject, scale

from .devices import Channel, Console, Controller, Graphics, Serial
from .disk import Disk
from .interface import Interface

LIBOSINFO_NS = "http://libosinfo.org/xmlns/libvirt/domain/1.0"
GUEST_AGENT = "org.qemu.guest_agent.0"

# The order libvirt writes these in (virDomainDefFormatInternal and friends).
DOMAIN_ORDER = (
    "name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory", "currentMemory",
    "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus", "iothreads", "iothreadids", "defaultiothread",
    "cputune", "numatune", "resource", "sysinfo", "bootloader", "bootloader_args", "os", "idmap",
    "throttlegroups", "features", "cpu", "clock", "on_poweroff", "on_reboot", "on_crash", "on_lockfailure",
    "pm", "perf", "devices", "seclabel", "keywrap", "launchSecurity",
)  # fmt: skip
OS_ORDER = (
    "type", "firmware", "loader", "nvram", "varstore", "bootloader", "kernel", "initrd", "cmdline", "shim",
    "dtb", "acpi", "boot", "bootmenu", "smbios", "bios", "init", "initarg", "initenv", "initdir", "inituser",
    "initgroup",
)  # fmt: skip
FEATURES_ORDER = ("acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm", "pvspinlock", "pmu", "vmport")
DEVICE_ORDER = (
    "emulator", "disk", "controller", "lease", "filesystem", "interface", "smartcard", "serial", "parallel",
    "console", "channel", "input", "tpm", "graphics", "sound", "audio", "video", "hostdev", "redirdev",
    "redirfilter", "hub", "watchdog", "memballoon", "rng", "nvram", "panic", "shmem", "memory", "iommu",
    "vsock", "crypto",
)  # fmt: skip
# libvirt's memory units, in bytes (KiB when none is written).
UNITS = {
    "b": 1, "bytes": 1, "KB": 10**3, "k": 2**10, "KiB": 2**10, "MB": 10**6, "M": 2**20, "MiB": 2**20,
    "GB": 10**9, "G": 2**30, "GiB": 2**30, "TB": 10**12, "T": 2**40, "TiB": 2**40,
}  # fmt: skip


def _mib(value, unit):
    if not isinstance(value, int):
        return None
    return value * UNITS.get(unit or "KiB", 2**10) // 2**20


def _kib(value, unit):
    """A memory value in KiB, read as libvirt reads its unit (any case; KiB when none)."""
    factor = scale(unit, default="KiB")
    if not isinstance(value, int) or factor is None:
        return None
    return value * factor // 1024


class Domain(XMLObject):
    TAG = "domain"
    ORDER = {"": DOMAIN_ORDER, "os": OS_ORDER, "features": FEATURES_ORDER, "devices": DEVICE_ORDER}

    domain_type = Prop("@type")  # kvm | qemu | test
    name = Prop("name")
    uuid = Prop("uuid")
    title = Prop("title")
    description = Prop("description")
    memory = Prop("memory", int)
    memory_unit = Prop("memory/@unit")
    current_memory = Prop("currentMemory", int)
    current_memory_unit = Prop("currentMemory/@unit")
    vcpus = Prop("vcpu", int)  # the maximum; `vcpus_current` of them are plugged in
    vcpus_current = Prop("vcpu/@current", int)
    vcpu_placement = Prop("vcpu/@placement")
    firmware = Prop("os/@firmware")  # "efi": libvirt picks the OVMF build itself
    os_type = Prop("os/type")  # hvm
    arch = Prop("os/type/@arch")
    machine = Prop("os/type/@machine")
    loader = Prop("os/loader")
    nvram = Prop("os/nvram")  # the UEFI variable store's file
    nvram_template = Prop("os/nvram/@template")
    kernel = Prop("os/kernel")  # direct kernel boot (an install tree's kernel and initrd)
    initrd = Prop("os/initrd")
    cmdline = Prop("os/cmdline")
    boot_menu = Prop("os/bootmenu/@enable", "yesno")  # True, False, or None when not written
    boot_menu_timeout = Prop("os/bootmenu/@timeout", int)  # ms
    has_os = Flag("os")
    has_nvram = Flag("os/nvram")  # a UEFI guest's variable store (maybe with no path yet)
    acpi = Flag("features/acpi")
    apic = Flag("features/apic")
    cpu_mode = Prop("cpu/@mode")
    cpu_check = Prop("cpu/@check")
    clock = Prop("clock/@offset")  # utc | localtime (Windows keeps its clock in local time)
    on_poweroff = Prop("on_poweroff")
    on_reboot = Prop("on_reboot")
    on_crash = Prop("on_crash")
    emulator = Prop("devices/emulator")
    disks = Children(Disk, "devices/disk")
    controllers = Children(Controller, "devices/controller")
    interfaces = Children(Interface, "devices/interface")
    serials = Children(Serial, "devices/serial")
    consoles = Children(Console, "devices/console")
    channels = Children(Channel, "devices/channel")
    graphics = Children(Graphics, "devices/graphics")
    video = Prop("devices/video/model/@type")  # the first video device's model: virtio, qxl, vga, …
    memballoon = Prop("devices/memballoon/@model")  # virtio | none

    def __init__(
        self, name, memory_mib, vcpus=1, domain_type="kvm", arch="x86_64", machine=None, uuid=None,
        description=None, acpi=True, boot=("hd",), disks=(), interfaces=(), graphics=(), emulator=None,
        title=None, os_id=None, firmware=None, kernel=None, initrd=None, cmdline=None, cpu_mode=None,
        clock=None, on_reboot="restart", video=None, tablet=False, serial_console=False, guest_agent=False,
        rng=False, memballoon=None,
    ):  # fmt: skip
        self.el = etree.Element(self.TAG)
        self.set(domain_type=domain_type, name=name, uuid=uuid, title=title, description=description)
        self.os_id = os_id
        self.memory_mib = memory_mib
        self.current_memory, self.current_memory_unit = memory_mib, "MiB"
        self.vcpus, self.vcpu_placement = vcpus, "static"
        self.set(firmware=firmware, os_type="hvm", arch=arch, machine=machine, kernel=kernel)
        if kernel:
            self.set(initrd=initrd, cmdline=cmdline)
        self.boot = boot
        self.node(["features"], create=True)  # written even when empty, as it always was
        self.acpi = self.apic = acpi
        self.set(cpu_mode=cpu_mode, cpu_check="none" if cpu_mode == "host-passthrough" else None, clock=clock)
        self.on_poweroff, self.on_reboot, self.on_crash = "destroy", on_reboot, "destroy"
        self.node(["devices"], create=True)
        self.emulator = emulator
        for device in [*disks, *interfaces]:
            self.add_device(device)
        self.serial_console = serial_console
        self.guest_agent = guest_agent
        self.tablet = tablet
        for device in graphics:
            self.add_device(device)
        self.set(video=video, memballoon=memballoon)
        self.rng = rng

    # -- values that take more than one path -------------------------------------------------

    @property
    def memory_mib(self):
        return _mib(self.memory, self.memory_unit)

    @memory_mib.setter
    def memory_mib(self, value):
        self.memory, self.memory_unit = value, "MiB"

    @property
    def current_memory_mib(self):
        return _mib(self.current_memory, self.current_memory_unit)

    @property
    def memory_kib(self):
        """The maximum memory in KiB, whatever unit it is written in; None when not written."""
        return _kib(self.memory, self.memory_unit)

    @property
    def current_memory_kib(self):
        return _kib(self.current_memory, self.current_memory_unit)

    @property
    def boot(self):
        """The boot order, as <os><boot dev=…> lists it: ["cdrom", "hd"]."""
        return [b.get("dev") for b in self.el.findall("os/boot")]

    @boot.setter
    def boot(self, devs):
        for old in self.el.findall("os/boot"):
            old.getparent().remove(old)
        for dev in devs or ():
            self.place("os/boot", etree.Element("boot", dev=dev))

    @property
    def device_boot_orders(self):
        """The per-device boot orders (<disk><boot order='1'/>, NICs, host devices …), as
        (device tag, order) in document order. libvirt refuses them beside <os><boot>."""
        return [(el.getparent().tag, el.get("order")) for el in self.el.iterfind("devices//boot[@order]")]

    def drop_device_boot_orders(self):
        for el in list(self.el.iterfind("devices//boot[@order]")):
            el.getparent().remove(el)

    @property
    def smbios_uuid(self):
        """The system UUID the SMBIOS tables give the guest (<sysinfo><system><entry name='uuid'>)."""
        el = self.el.find("sysinfo/system/entry[@name='uuid']")
        return None if el is None else el.text

    def drop_smbios_uuid(self):
        for el in self.el.findall("sysinfo/system/entry[@name='uuid']"):
            el.getparent().remove(el)

    def mask_passwords(self, mask="***"):
        """Replace every display password (VNC, SPICE, and any other <graphics> type that has
        one) with `mask`: what may be shown or recorded of a definition read with
        VIR_DOMAIN_XML_SECURE. Returns how many there were."""
        found = [g for g in self.graphics if g.passwd is not None]
        for graphics in found:
            graphics.passwd = mask
        return len(found)

    @property
    def os_id(self):
        """The libosinfo id in <metadata>, as virt-install writes it (virt-manager and the
        overview read the OS variant from here)."""
        os_el = self.el.find(f"metadata/{{{LIBOSINFO_NS}}}libosinfo/{{{LIBOSINFO_NS}}}os")
        return None if os_el is None else os_el.get("id")

    @os_id.setter
    def os_id(self, value):
        info = self.el.find(f"metadata/{{{LIBOSINFO_NS}}}libosinfo")
        if info is not None:
            metadata = info.getparent()
            metadata.remove(info)
            self.prune(metadata)
        if value:
            metadata = self.node(["metadata"], create=True)
            info = etree.SubElement(metadata, f"{{{LIBOSINFO_NS}}}libosinfo", nsmap={"libosinfo": LIBOSINFO_NS})
            etree.SubElement(info, f"{{{LIBOSINFO_NS}}}os", id=value)

    # -- devices -------------------------------------------------------------------------------

    def add_device(self, device):
        """Add a device object (Disk, Interface, Graphics, …) where libvirt lists its kind."""
        device.el = self.place(f"devices/{device.TAG}", device.el)
        return device

    def remove_device(self, device):
        device.el.getparent().remove(device.el)

    def disk(self, target):
        """The disk on a guest target (vda, sdb), or None."""
        return next((d for d in self.disks if d.target == target), None)

    def interface(self, mac):
        """The NIC with a MAC address (any case), or None."""
        return next((i for i in self.interfaces if (i.mac or "").lower() == mac.lower()), None)

    def _devices(self, tag, **attrs):
        return [el for el in self.el.findall(f"devices/{tag}") if all(el.get(k) == v for k, v in attrs.items())]

    def _drop(self, elements):
        for el in elements:
            el.getparent().remove(el)

    @property
    def tablet(self):
        """A USB tablet, so the pointer follows the mouse in VNC/SPICE."""
        return bool(self._devices("input", type="tablet"))

    @tablet.setter
    def tablet(self, on):
        if on and not self.tablet:
            self.place("devices/input", etree.Element("input", type="tablet", bus="usb"))
        elif not on:
            self._drop(self._devices("input", type="tablet"))

    @property
    def serial_console(self):
        """A serial port with a console on it (`virsh console`)."""
        return bool(self.serials and self.consoles)

    @serial_console.setter
    def serial_console(self, on):
        if on and not self.serial_console:
            self.add_device(Serial(type="pty", target_port=0))
            self.add_device(Console(type="pty", target_type="serial", target_port=0))
        elif not on:
            self.serials, self.consoles = [], []

    @property
    def guest_agent(self):
        """The virtio channel qemu-guest-agent talks on."""
        return any(c.target_name == GUEST_AGENT for c in self.channels)

    @guest_agent.setter
    def guest_agent(self, on):
        if on and not self.guest_agent:
            self.add_device(Channel(type="unix", target_type="virtio", target_name=GUEST_AGENT))
        elif not on:
            self._drop([c.el for c in self.channels if c.target_name == GUEST_AGENT])

    @property
    def rng(self):
        """virtio-rng fed from the host's /dev/urandom."""
        return bool(self._devices("rng"))

    @rng.setter
    def rng(self, on):
        if on and not self.rng:
            rng = etree.Element("rng", model="virtio")
            etree.SubElement(rng, "backend", model="random").text = "/dev/urandom"
            self.place("devices/rng", rng)
        elif not on:
            self._drop(self._devices("rng"))


def libosinfo_metadata(os_id):
    """<metadata> holding only the libosinfo OS id, as virt-install writes it."""
    doc = Domain.wrap(etree.Element("domain"))
    doc.os_id = os_id
    return doc.el.find("metadata")

"""What a host can run, from libvirt's capabilities and domain capabilities XML.

Every field is optional in practice: the test driver reports no CPU model, no topology attribute
and no domain capabilities at all, remote hosts of older libvirt omit <iommu>. Parsing therefore
never fails on a missing element; it leaves the field empty and the page says "—". The XML is
read through the typed classes in capabilities_xml.py.
"""

from dataclasses import dataclass, field, replace

import libvirt

from apps.core.errors import VirtError, from_libvirt

from . import capabilities_xml as xml_types

# Preference when choosing which domain type to ask domain capabilities for.
_DOMAIN_TYPE_ORDER = ("kvm", "qemu", "test")


@dataclass(frozen=True)
class NumaCell:
    id: int
    memory_kib: int | None
    cpus: tuple[int, ...]


@dataclass(frozen=True)
class GuestArch:
    os_type: str
    arch: str
    wordsize: int | None
    emulator: str
    machines: tuple[str, ...]
    domain_types: tuple[str, ...]


@dataclass(frozen=True)
class HostCapabilities:
    arch: str = ""
    cpu_model: str = ""
    cpu_vendor: str = ""
    sockets: int | None = None
    dies: int | None = None
    cores: int | None = None
    threads: int | None = None
    iommu_support: bool | None = None  # None: libvirt did not say
    numa_cells: tuple[NumaCell, ...] = ()
    guests: tuple[GuestArch, ...] = ()
    secmodels: tuple[str, ...] = ()
    node_devices: int | None = None  # None: the driver could not count them

    @property
    def domain_types(self):
        return sorted({t for g in self.guests for t in g.domain_types})

    @property
    def has_kvm(self):
        return "kvm" in self.domain_types

    def best_domain_type(self):
        types = self.domain_types
        return next((t for t in _DOMAIN_TYPE_ORDER if t in types), types[0] if types else "")

    @property
    def cpu_total(self):
        return sum(len(c.cpus) for c in self.numa_cells)


@dataclass(frozen=True)
class DomainCapabilities:
    arch: str = ""
    domain_type: str = ""
    machine: str = ""
    emulator: str = ""
    max_vcpus: int | None = None
    firmware: tuple[str, ...] = ()  # os firmware auto-selection values, e.g. ("efi",)
    loaders: tuple[str, ...] = ()  # firmware loader paths (OVMF_CODE …)
    secure_boot: bool = False
    cpu_modes: tuple[str, ...] = ()  # modes the hypervisor supports: host-passthrough, host-model, …
    cpu_models: tuple[str, ...] = field(default=(), repr=False)  # usable named models for custom mode
    # PCI passthrough backends libvirt offers; it lists "vfio" only when the host has IOMMU groups.
    pci_backends: tuple[str, ...] = ()

    @property
    def uefi(self):
        return "efi" in self.firmware or any("OVMF" in p or "AAVMF" in p or "edk2" in p for p in self.loaders)


def _int(value):
    """A number libvirt wrote, or None (a missing value, or one we cannot read as a number)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value):
    return (value or "").strip()


def parse_capabilities(xml) -> HostCapabilities:
    doc = xml_types.Capabilities.parse(xml)
    cells = tuple(
        NumaCell(
            id=_int(cell.id) or 0,
            memory_kib=cell.memory_kib,
            cpus=tuple(i for i in (_int(c.id) for c in cell.cpus) if i is not None),
        )
        for cell in doc.cells
    )
    guests = tuple(
        GuestArch(
            os_type=_text(guest.os_type),
            arch=arch.name or "",
            wordsize=_int(arch.wordsize),
            emulator=_text(arch.emulator),
            machines=tuple(dict.fromkeys(name for name in (_text(m.name) for m in arch.machines) if name)),
            domain_types=tuple(dict.fromkeys(d.type for d in arch.domains if d.type)),
        )
        for guest in doc.guests
        for arch in guest.arches
    )
    return HostCapabilities(
        arch=_text(doc.arch),
        cpu_model=_text(doc.cpu_model),
        cpu_vendor=_text(doc.cpu_vendor),
        sockets=_int(doc.sockets),
        dies=_int(doc.dies),
        cores=_int(doc.cores),
        threads=_int(doc.threads),
        iommu_support=doc.iommu if isinstance(doc.iommu, bool) else None,
        numa_cells=cells,
        guests=guests,
        secmodels=tuple(m for m in (_text(s.model) for s in doc.secmodels) if m),
    )


def parse_domain_capabilities(xml) -> DomainCapabilities:
    doc = xml_types.DomainCapabilities.parse(xml)
    custom = doc.cpu_mode("custom")
    models = (
        [m.name.strip() for m in custom.models if (m.name or "").strip() and m.usable is True]
        if custom is not None and custom.supported is True
        else []
    )
    hostdev = doc.hostdev
    backends = (
        xml_types.enum_values(hostdev.enums, "pciBackend") if hostdev is not None and hostdev.supported is True else []
    )
    return DomainCapabilities(
        pci_backends=tuple(backends),
        arch=_text(doc.arch),
        domain_type=_text(doc.domain_type),
        machine=_text(doc.machine),
        emulator=_text(doc.emulator),
        max_vcpus=_int(doc.max_vcpus),
        firmware=tuple(xml_types.enum_values(doc.os_enums, "firmware")),
        loaders=tuple(xml_types.texts(doc.loaders)),
        secure_boot="yes" in xml_types.enum_values(doc.loader_enums, "secure"),
        cpu_modes=tuple(m.name or "" for m in doc.cpu_modes if m.supported is True),
        cpu_models=tuple(models),
    )


def host_capabilities(conn) -> HostCapabilities:
    """One adapter call for the page's capabilities section (plus the cheap node device count)."""
    try:
        caps = parse_capabilities(conn.getCapabilities())
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    try:
        count = conn.numOfDevices(None, 0)
    except libvirt.libvirtError:
        count = None  # node devices are a separate driver; a host without it still has capabilities
    return replace(caps, node_devices=count)


def domain_capabilities(conn, arch=None, virttype=None) -> DomainCapabilities | None:
    """Domain capabilities for one arch and domain type, or None when the driver has none (test driver).

    Without arch / virttype the host's own arch and its best domain type (kvm, then qemu) are asked for.
    """
    try:
        if not arch or not virttype:
            caps = parse_capabilities(conn.getCapabilities())
            arch = arch or caps.arch or None
            virttype = virttype or caps.best_domain_type() or None
        return parse_domain_capabilities(conn.getDomainCapabilities(None, arch, None, virttype, 0))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
            return None
        raise from_libvirt(exc) from None


@dataclass(frozen=True)
class RawFacts:
    """What the monitor stores on the Host row at connect, so the host page needs no libvirt call."""

    capabilities_xml: str
    domain_capabilities_xml: str  # "" when the driver has none (test driver)
    node_devices: int | None


def read_facts(conn) -> RawFacts:
    try:
        caps_xml = conn.getCapabilities()
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    caps = parse_capabilities(caps_xml)
    try:
        domcaps_xml = conn.getDomainCapabilities(None, caps.arch or None, None, caps.best_domain_type() or None, 0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            raise from_libvirt(exc) from None
        domcaps_xml = ""
    try:
        count = conn.numOfDevices(None, 0)
    except libvirt.libvirtError:
        count = None
    return RawFacts(caps_xml, domcaps_xml, count)


@dataclass(frozen=True)
class HostLimits:
    """What a new VM on this host may ask for, and which firmware it can have."""

    domain_type: str  # kvm, qemu (TCG) or test
    arch: str
    max_vcpus: int | None
    efi: bool  # <os firmware="efi"> auto-selection works here
    machine: str | None = None


def host_limits(conn, arch="x86_64") -> HostLimits:
    """Domain type, max vCPUs and EFI support from the domain capabilities; the test driver has
    none, so it gets its own type and no EFI."""
    try:
        driver = conn.getType().lower()
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    if driver == "test":
        return HostLimits(domain_type="test", arch=arch, max_vcpus=None, efi=False)
    caps = None
    for virttype in ("kvm", "qemu"):
        try:
            caps = domain_capabilities(conn, arch, virttype)
        except VirtError:  # no such virt type here (no /dev/kvm): try the next one
            caps = None
        if caps is not None:
            break
    if caps is None:
        return HostLimits(domain_type="qemu", arch=arch, max_vcpus=None, efi=False)
    return HostLimits(
        domain_type=caps.domain_type or "qemu",
        arch=arch,
        max_vcpus=caps.max_vcpus,
        efi="efi" in caps.firmware,
        machine=None,
    )

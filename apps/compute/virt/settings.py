"""A domain's settings: vCPUs and memory (live and saved), autostart, boot order and menu, title and
description. Changes are made live where the hypervisor allows it; each setter says what it did.
Definitions are read, and the boot order changed, through the typed Domain (virt/xml/)."""

from dataclasses import dataclass, field

import libvirt

from apps.core.errors import VirtError, from_libvirt

from .domains import lookup
from .xml import Domain

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
BOOT_DEVICES = ("hd", "cdrom", "network")


@dataclass(frozen=True)
class Settings:
    running: bool  # active (running or paused): live changes are possible
    vcpus: int  # saved definition
    max_vcpus: int
    live_vcpus: int | None
    live_max_vcpus: int | None
    memory_kib: int
    max_memory_kib: int
    live_memory_kib: int | None
    live_max_memory_kib: int | None
    autostart: bool
    boot: list[str] = field(default_factory=list)
    bootmenu: bool = False
    device_boot_order: bool = False  # some device has its own <boot order=…>
    title: str = ""
    description: str = ""
    host_cpus: int = 0  # what the host can give: the vCPU limit is the smaller of these two
    hypervisor_max_vcpus: int = 0
    host_memory_kib: int = 0


def _vcpus(doc):
    """(vCPUs plugged in, maximum): a definition without <vcpu> has one."""
    maximum = doc.vcpus if isinstance(doc.vcpus, int) else 1
    current = doc.vcpus_current
    return (current if isinstance(current, int) else maximum), maximum


def read(conn, uuid) -> Settings:
    dom = lookup(conn, uuid)
    try:
        saved_xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        running = bool(dom.isActive())
        live_xml = dom.XMLDesc(0) if running else None
        autostart = bool(dom.autostart())
        _model, host_mib, host_cpus, *_rest = conn.getInfo()
        saved = Domain.parse(saved_xml)
        try:
            hyp_max = conn.getMaxVcpus(saved.domain_type)
        except libvirt.libvirtError:
            hyp_max = host_cpus
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    live = Domain.parse(live_xml) if live_xml is not None else None
    vcpus, max_vcpus = _vcpus(saved)
    live_vcpus, live_max = _vcpus(live) if live is not None else (None, None)
    return Settings(
        running=running,
        vcpus=vcpus,
        max_vcpus=max_vcpus,
        live_vcpus=live_vcpus,
        live_max_vcpus=live_max,
        memory_kib=saved.current_memory_kib or saved.memory_kib or 0,
        max_memory_kib=saved.memory_kib or 0,
        live_memory_kib=(live.current_memory_kib or 0) if live is not None else None,
        live_max_memory_kib=(live.memory_kib or 0) if live is not None else None,
        autostart=autostart,
        boot=saved.boot,
        bootmenu=saved.boot_menu is True,
        device_boot_order=bool(saved.device_boot_orders),
        title=saved.title or "",
        description=saved.description or "",
        host_cpus=host_cpus,
        hypervisor_max_vcpus=hyp_max,
        host_memory_kib=host_mib * 1024,
    )


def _call(fn, *args):
    try:
        return fn(*args)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def _live_or_saved(set_flags, running, fits_live):
    """Apply to the running VM where it can be done now, and always to the saved definition.
    Returns "now", or "from the next boot (the running VM refused: …)" with libvirt's words.
    Two calls, live then saved: some drivers refuse the two flags together."""
    when = "from the next boot" if running else "from the next start"
    if running and fits_live:
        try:
            set_flags(LIVE)
            when = "now"
        except libvirt.libvirtError as exc:
            when = f"from the next boot (the running VM refused the live change: {from_libvirt(exc)})"
    _call(set_flags, CONFIG)
    return when


def set_vcpus(conn, uuid, *, vcpus, max_vcpus, current: Settings) -> str:
    """vCPUs (and their maximum, which only the saved definition can change). Returns a sentence."""
    dom = lookup(conn, uuid)
    parts = []
    if max_vcpus != current.max_vcpus:
        maximum = libvirt.VIR_DOMAIN_VCPU_MAXIMUM | CONFIG
        if max_vcpus < current.vcpus:  # the saved count must fit under the new maximum first
            _call(dom.setVcpusFlags, max_vcpus, CONFIG)
        _call(dom.setVcpusFlags, max_vcpus, maximum)
        parts.append(f"maximum vCPUs {current.max_vcpus} → {max_vcpus} from the next boot")
    live_now = current.live_vcpus if current.running else current.vcpus
    if vcpus != live_now or vcpus != current.vcpus:
        fits = current.live_max_vcpus is not None and vcpus <= current.live_max_vcpus
        when = _live_or_saved(lambda flags: dom.setVcpusFlags(vcpus, flags), current.running, fits)
        parts.append(f"vCPUs {live_now} → {vcpus} {when}")
    return "; ".join(parts)


def set_memory(conn, uuid, *, memory_kib, max_memory_kib, current: Settings) -> str:
    dom = lookup(conn, uuid)
    parts = []
    if max_memory_kib != current.max_memory_kib:
        maximum = libvirt.VIR_DOMAIN_MEM_MAXIMUM | CONFIG
        if max_memory_kib < current.memory_kib:
            _call(dom.setMemoryFlags, max_memory_kib, CONFIG)
        _call(dom.setMemoryFlags, max_memory_kib, maximum)
        parts.append(
            f"maximum memory {current.max_memory_kib // 1024} → {max_memory_kib // 1024} MiB from the next boot"
        )
    live_now = current.live_memory_kib if current.running else current.memory_kib
    if memory_kib != live_now or memory_kib != current.memory_kib:
        fits = current.live_max_memory_kib is not None and memory_kib <= current.live_max_memory_kib
        when = _live_or_saved(lambda flags: dom.setMemoryFlags(memory_kib, flags), current.running, fits)
        if when == "now":
            when = "now (the balloon target; the guest gives memory back only with its balloon driver)"
        parts.append(f"memory {live_now // 1024} → {memory_kib // 1024} MiB {when}")
    return "; ".join(parts)


def set_autostart(conn, uuid, on):
    _call(lookup(conn, uuid).setAutostart, 1 if on else 0)


def set_metadata(conn, uuid, *, title=None, description=None, running=False):
    """Title and description, in the running VM too when it runs. "" removes one."""
    dom = lookup(conn, uuid)
    flags = CONFIG | (LIVE if running else 0)
    for kind, value in (
        (libvirt.VIR_DOMAIN_METADATA_TITLE, title),
        (libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, description),
    ):
        if value is not None:
            _call(dom.setMetadata, kind, value or None, None, None, flags)


def boot_xml(inactive_xml, *, boot, bootmenu):
    """The saved definition with a new <os><boot dev> list and boot menu, changed through the
    typed model (everything else, a menu timeout included, stays). Per-device <boot order>
    elements go: libvirt refuses them together with <os><boot>."""
    doc = Domain.parse(inactive_xml)
    if not doc.has_os:
        raise VirtError("the domain has no <os> element")
    doc.boot = boot
    doc.boot_menu = bool(bootmenu)
    doc.drop_device_boot_orders()
    return doc.to_xml()


def inactive_xml(conn, uuid):
    return _call(lookup(conn, uuid).XMLDesc, libvirt.VIR_DOMAIN_XML_INACTIVE)

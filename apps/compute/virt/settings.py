"""A domain's settings: vCPUs and memory (live and saved), autostart, boot order and menu, title and
description. Changes are made live where the hypervisor allows it; each setter says what it did."""

from dataclasses import dataclass, field

import libvirt
from lxml import etree

from apps.core.errors import VirtError, from_libvirt

from .domains import lookup

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


def _kib(el):
    """A memory element in KiB, whatever unit it was written in."""
    units = {"b": 1 / 1024, "bytes": 1 / 1024, "k": 1, "kib": 1, "kb": 1000 / 1024, "m": 1024, "mib": 1024}
    units |= {"mb": 10**6 / 1024, "g": 1024**2, "gib": 1024**2, "gb": 10**9 / 1024, "t": 1024**3, "tib": 1024**3}
    if el is None or not (el.text or "").strip():
        return 0
    return int(int(el.text) * units.get(el.get("unit", "KiB").lower(), 1))


def _vcpu(root):
    el = root.find("vcpu")
    maximum = int(el.text) if el is not None and el.text else 1
    return int(el.get("current", maximum)) if el is not None else 1, maximum


def read(conn, uuid) -> Settings:
    dom = lookup(conn, uuid)
    try:
        saved = etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        running = bool(dom.isActive())
        live = etree.fromstring(dom.XMLDesc(0)) if running else None
        autostart = bool(dom.autostart())
        _model, host_mib, host_cpus, *_rest = conn.getInfo()
        try:
            hyp_max = conn.getMaxVcpus(saved.get("type"))
        except libvirt.libvirtError:
            hyp_max = host_cpus
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    vcpus, max_vcpus = _vcpu(saved)
    live_vcpus, live_max = _vcpu(live) if live is not None else (None, None)
    bootmenu = saved.find("os/bootmenu")
    return Settings(
        running=running,
        vcpus=vcpus,
        max_vcpus=max_vcpus,
        live_vcpus=live_vcpus,
        live_max_vcpus=live_max,
        memory_kib=_kib(saved.find("currentMemory")) or _kib(saved.find("memory")),
        max_memory_kib=_kib(saved.find("memory")),
        live_memory_kib=_kib(live.find("currentMemory")) if live is not None else None,
        live_max_memory_kib=_kib(live.find("memory")) if live is not None else None,
        autostart=autostart,
        boot=[b.get("dev") for b in saved.findall("os/boot")],
        bootmenu=bootmenu is not None and bootmenu.get("enable") == "yes",
        device_boot_order=saved.find("devices//boot[@order]") is not None,
        title=saved.findtext("title", ""),
        description=saved.findtext("description", ""),
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
    """The saved definition with a new <os><boot dev> list and boot menu. Per-device
    <boot order> elements go: libvirt refuses them together with <os><boot>."""
    root = etree.fromstring(inactive_xml)
    os_el = root.find("os")
    if os_el is None:
        raise VirtError("the domain has no <os> element")
    for el in os_el.findall("boot") + os_el.findall("bootmenu"):
        os_el.remove(el)
    for el in root.findall("devices//boot[@order]"):
        el.getparent().remove(el)
    # Keep libvirt's order of <os> children: type, then loader/nvram, then boot and bootmenu.
    anchor = None
    for tag in ("type", "firmware", "loader", "nvram"):
        if os_el.find(tag) is not None:
            anchor = os_el.find(tag)
    index = list(os_el).index(anchor) + 1 if anchor is not None else 0
    for offset, dev in enumerate(boot):
        el = etree.Element("boot", dev=dev)
        os_el.insert(index + offset, el)
    menu = etree.Element("bootmenu", enable="yes" if bootmenu else "no")
    os_el.insert(index + len(boot), menu)
    return etree.tostring(root, encoding="unicode")


def inactive_xml(conn, uuid):
    return _call(lookup(conn, uuid).XMLDesc, libvirt.VIR_DOMAIN_XML_INACTIVE)

"""A domain's disks: `virsh domblklist --details` plus bus, format and sizes, attach and detach."""

from dataclasses import dataclass

import libvirt
from lxml import etree

from apps.compute.virt.domains import lookup
from apps.core.errors import VirtError, from_libvirt

from .xml import Disk

AFFECT_LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
AFFECT_CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG


@dataclass(frozen=True)
class DiskInfo:
    type: str
    device: str
    target: str
    bus: str
    source: str
    format: str
    readonly: bool
    capacity: int | None = None
    allocation: int | None = None


def _source(disk_el):
    src = disk_el.find("source")
    if src is None:
        return ""
    for attr in ("file", "dev", "volume", "name", "dir"):
        if src.get(attr):
            return src.get(attr) if attr != "volume" else f"{src.get('pool')}/{src.get('volume')}"
    return ""


def list_disks(conn, uuid, *, inactive=False) -> list[DiskInfo]:
    """The disks of the running domain (or its persistent definition), with block sizes when
    the domain runs and the hypervisor can tell."""
    dom = lookup(conn, uuid)
    try:
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0
        root = etree.fromstring(dom.XMLDesc(flags))
        active = dom.isActive()
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    disks = []
    for el in root.findall("devices/disk"):
        target = el.find("target")
        driver = el.find("driver")
        dev = target.get("dev", "") if target is not None else ""
        capacity = allocation = None
        if active and _source(el):
            try:
                capacity, allocation, _physical = dom.blockInfo(dev)
            except libvirt.libvirtError:
                pass  # empty CD-ROM, or a driver without block info
        disks.append(
            DiskInfo(
                type=el.get("type", ""),
                device=el.get("device", "disk"),
                target=dev,
                bus=target.get("bus", "") if target is not None else "",
                source=_source(el),
                format=driver.get("type", "") if driver is not None else "",
                readonly=el.find("readonly") is not None,
                capacity=capacity,
                allocation=allocation,
            )
        )
    return disks


def next_target(existing, bus="virtio"):
    """The first free device name for a bus: vda, vdb, … for virtio; hda, … for ide; sda, … for
    scsi/sata."""
    prefix = {"virtio": "vd", "ide": "hd"}.get(bus, "sd")
    for letter in "abcdefghijklmnopqrstuvwxyz":
        if f"{prefix}{letter}" not in existing:
            return f"{prefix}{letter}"
    raise VirtError(f"no free {bus} disk names left")


def _flags(live, config):
    if not (live or config):
        raise VirtError("choose live, config or both")
    return (AFFECT_LIVE if live else 0) | (AFFECT_CONFIG if config else 0)


def attach(conn, uuid, disk: Disk, *, live, config):
    """`virsh attach-disk` with --live and/or --config."""
    try:
        lookup(conn, uuid).attachDeviceFlags(
            etree.tostring(disk.to_element(), encoding="unicode"), _flags(live, config)
        )
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def detach(conn, uuid, target, *, live, config):
    """`virsh detach-disk TARGET` with --live and/or --config: the element libvirt has for that
    target is sent back as it is, so nothing about it needs to be guessed."""
    dom = lookup(conn, uuid)
    try:
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE if config and not live else 0
        root = etree.fromstring(dom.XMLDesc(flags))
        for el in root.findall("devices/disk"):
            t = el.find("target")
            if t is not None and t.get("dev") == target:
                dom.detachDeviceFlags(etree.tostring(el, encoding="unicode"), _flags(live, config))
                return
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    raise VirtError(f"the domain has no disk {target}")


def resize(conn, uuid, target, size):
    """`virsh blockresize TARGET SIZE` on the running domain, grow only: shrinking a disk under a
    running guest cuts off data its file systems still use, so it is refused here, not tried."""
    dom = lookup(conn, uuid)
    try:
        if not dom.isActive():
            raise VirtError("the VM is not running: a live resize needs it running")
        capacity, _allocation, _physical = dom.blockInfo(target)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    if size <= capacity:
        raise VirtError(f"{target} is already {capacity} bytes; a disk can only grow ({size} bytes asked)")
    try:
        dom.blockResize(target, size, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    return capacity


def change_media(conn, uuid, target, path, *, live, config):
    """`virsh change-media TARGET [PATH] --insert/--eject`: the CD-ROM element libvirt holds
    (in the running VM and/or the saved definition) gets a new source, or none, through
    updateDeviceFlags."""
    dom = lookup(conn, uuid)
    scopes = []
    if live:
        scopes.append((AFFECT_LIVE, 0))
    if config:
        scopes.append((AFFECT_CONFIG, libvirt.VIR_DOMAIN_XML_INACTIVE))
    if not scopes:
        raise VirtError("choose live, config or both")
    for flag, xml_flags in scopes:
        try:
            root = etree.fromstring(dom.XMLDesc(xml_flags))
        except libvirt.libvirtError as exc:
            raise from_libvirt(exc) from None
        el = next(
            (
                d
                for d in root.findall("devices/disk")
                if d.get("device") == "cdrom" and d.find("target") is not None and d.find("target").get("dev") == target
            ),
            None,
        )
        if el is None:
            raise VirtError(f"the VM has no CD-ROM drive {target}")
        for old in el.findall("source"):
            el.remove(old)
        if path:
            el.set("type", "file")
            if el.find("driver") is not None:
                el.find("driver").set("type", "raw")  # ISO images are raw
            source = etree.Element("source", file=path)
            el.find("target").addprevious(source)
        try:
            dom.updateDeviceFlags(etree.tostring(el, encoding="unicode"), flag)
        except libvirt.libvirtError as exc:
            raise from_libvirt(exc) from None

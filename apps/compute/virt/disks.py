"""A domain's disks: `virsh domblklist --details` plus bus, format and sizes, attach and detach.

Every <disk> is read through the typed Disk (apps/compute/virt/xml/disk.py). `disk_for_volume`
gives the Disk that attaches a pool's volume the way libvirt wants it for that pool's type.
"""

from dataclasses import dataclass

import libvirt

from apps.compute.virt.domains import lookup
from apps.core.errors import VirtError, from_libvirt

from .xml import Disk, Domain, PoolSource, disk_for_volume

__all__ = [
    "DiskInfo", "PoolSource", "attach", "change_media", "detach", "disk_for_volume", "list_disks", "next_target",
    "resize", "disk_users",
]  # fmt: skip

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


def _domain(dom, *, inactive=False) -> Domain:
    """The domain's definition as the typed model (the persistent one when `inactive`)."""
    try:
        return Domain.parse(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def list_disks(conn, uuid, *, inactive=False) -> list[DiskInfo]:
    """The disks of the running domain (or its persistent definition), with block sizes when
    the domain runs and the hypervisor can tell."""
    dom = lookup(conn, uuid)
    doc = _domain(dom, inactive=inactive)
    try:
        active = dom.isActive()
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    disks = []
    for disk in doc.disks:
        capacity = allocation = None
        if active and disk.has_source:
            try:
                capacity, allocation, _physical = dom.blockInfo(disk.target or "")
            except libvirt.libvirtError:
                pass  # empty CD-ROM, or a driver without block info
        disks.append(
            DiskInfo(
                type=disk.type or "",
                device=disk.device or "disk",
                target=disk.target or "",
                bus=disk.bus or "",
                source=disk.source,
                format=disk.format or "",
                readonly=disk.readonly,
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
        lookup(conn, uuid).attachDeviceFlags(disk.to_xml(), _flags(live, config))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def detach(conn, uuid, target, *, live, config):
    """`virsh detach-disk TARGET` with --live and/or --config: the element libvirt has for that
    target is sent back as it is, so nothing about it needs to be guessed."""
    dom = lookup(conn, uuid)
    disk = _domain(dom, inactive=config and not live).disk(target)
    if disk is None:
        raise VirtError(f"the domain has no disk {target}")
    try:
        dom.detachDeviceFlags(disk.to_xml(), _flags(live, config))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


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
        scopes.append((AFFECT_LIVE, False))
    if config:
        scopes.append((AFFECT_CONFIG, True))
    if not scopes:
        raise VirtError("choose live, config or both")
    for flag, inactive in scopes:
        drive = _domain(dom, inactive=inactive).disk(target)
        if drive is None or drive.device != "cdrom":
            raise VirtError(f"the VM has no CD-ROM drive {target}")
        drive.eject()
        if path:
            drive.path = path
            if drive.has_driver:
                drive.format = "raw"  # ISO images are raw
        try:
            dom.updateDeviceFlags(drive.to_xml(), flag)
        except libvirt.libvirtError as exc:
            raise from_libvirt(exc) from None


@dataclass(frozen=True)
class DiskUser:
    domain_uuid: str
    domain_name: str
    shareable: bool
    readonly: bool


def disk_users(conn, *, except_uuid=None) -> dict[str, list[DiskUser]]:
    """{source path: the domains (running or defined) whose disks name it}, as their live and
    saved definitions say, every domain read once: one volume written by two VMs destroys its
    file system unless both mark it <shareable/>."""
    try:
        doms = conn.listAllDomains(0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    found = {}
    for dom in doms:
        try:
            uuid = dom.UUIDString()
            if uuid == except_uuid:
                continue
            flags = [0, libvirt.VIR_DOMAIN_XML_INACTIVE] if dom.isPersistent() else [0]
            docs = [Domain.parse(dom.XMLDesc(f)) for f in flags]
            name = dom.name()
        except libvirt.libvirtError:
            continue  # undefined while we looked: it uses nothing any more
        seen = set()
        for disk in (d for doc in docs for d in doc.disks):
            if disk.source and disk.source not in seen:
                seen.add(disk.source)
                found.setdefault(disk.source, []).append(DiskUser(uuid, name, disk.shareable, disk.readonly))
    return found

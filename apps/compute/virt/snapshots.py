"""Domain snapshots: the tree, create (internal, or external disk-only), revert, delete.

Internal snapshots live inside the qcow2 images (with the guest's memory when the domain runs).
External disk-only snapshots put a new qcow2 overlay next to each disk and switch the domain to
write there; libvirt 9 cannot revert to them nor always delete them, and says so in its words.
"""

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

import libvirt

from apps.core.errors import VirtError, from_libvirt

from .domains import lookup
from .xml import Domain, Snapshot


@dataclass
class SnapshotInfo:
    name: str
    description: str
    state: str  # the domain's state when it was taken: running, shutoff, paused, disk-snapshot
    created: datetime | None
    parent: str
    current: bool
    external: bool
    memory: bool  # holds the guest's memory (a running VM's internal snapshot)
    depth: int = 0
    children: list[str] = field(default_factory=list)


def _parse(xml, current):
    doc = Snapshot.parse(xml)
    stamp = doc.creation_time
    return SnapshotInfo(
        name=doc.name or "",
        description=doc.description or "",
        state=doc.state or "",
        created=datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int) else None,
        parent=doc.parent or "",
        current=current,
        external=doc.external,
        memory=doc.has_memory,
    )


def list_snapshots(conn, uuid) -> list[SnapshotInfo]:
    """Every snapshot, in tree order (each parent before its children, oldest first), with depth."""
    dom = lookup(conn, uuid)
    try:
        infos = {}
        for snap in dom.listAllSnapshots(0):
            info = _parse(snap.getXMLDesc(0), bool(snap.isCurrent()))
            infos[info.name] = info
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    oldest = sorted(infos.values(), key=lambda s: (s.created or datetime.min.replace(tzinfo=UTC), s.name))
    for info in oldest:
        if info.parent in infos:
            infos[info.parent].children.append(info.name)
    ordered = []

    def walk(info, depth):
        info.depth = depth
        ordered.append(info)
        for child in info.children:
            walk(infos[child], depth + 1)

    for info in oldest:
        if info.parent not in infos:
            walk(info, 0)
    return ordered


def _disks(dom):
    """The domain's disks as it is now (typed)."""
    return Domain.parse(dom.XMLDesc(0)).disks


def overlay_path(source, name):
    """Where the external snapshot NAME of a disk goes: beside it, `web.qcow2` → `web.NAME.qcow2`."""
    base, _ext = os.path.splitext(source)
    return f"{base}.{name}.qcow2"


def snapshot_xml(name, description, *, external_disks=None):
    """The <domainsnapshot> document. external_disks: [(target, overlay or None)] for a disk-only
    snapshot (None: leave that device out of it, as for CD-ROMs)."""
    return Snapshot(name, description, external_disks=external_disks).to_xml()


def create(conn, uuid, *, name, description="", external=False) -> SnapshotInfo:
    """Take a snapshot. Internal: libvirt includes the memory when the domain runs. External:
    disk-only, one qcow2 overlay beside each file-backed disk. libvirt refuses an overlay file that
    already exists (we never pass REUSE_EXT), and it checks on the host itself, where the files are."""
    dom = lookup(conn, uuid)
    try:
        if external:
            plan = []
            for disk in _disks(dom):
                if (disk.device or "disk") != "disk" or disk.type != "file" or not disk.path:
                    plan.append((disk.target, None))
                    continue
                plan.append((disk.target, overlay_path(disk.path, name)))
            if not any(overlay for _t, overlay in plan):
                raise VirtError("the domain has no file-backed disk to take an external snapshot of")
            flags = libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
            if dom.isActive():
                flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC
            snap = dom.snapshotCreateXML(snapshot_xml(name, description, external_disks=plan), flags)
        else:
            snap = dom.snapshotCreateXML(snapshot_xml(name, description), 0)
        return _parse(snap.getXMLDesc(0), bool(snap.isCurrent()))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def _lookup(dom, name):
    try:
        return dom.snapshotLookupByName(name, 0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def revert(conn, uuid, name):
    """Go back to a snapshot: the disks (and the memory and run state, when it has them) become
    what they were; everything since is lost."""
    dom = lookup(conn, uuid)
    snap = _lookup(dom, name)
    try:
        dom.revertToSnapshot(snap, 0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def delete(conn, uuid, name):
    """Delete one snapshot; its children are kept and hang from its parent."""
    snap = _lookup(lookup(conn, uuid), name)
    try:
        snap.delete(0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def names(conn, uuid) -> set[str]:
    dom = lookup(conn, uuid)
    try:
        return set(dom.snapshotListNames(0))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None

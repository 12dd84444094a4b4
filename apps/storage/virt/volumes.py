"""Volume adapters: what `vol-list --details` and `qemu-img info` show."""

from dataclasses import dataclass

import libvirt

from apps.core.errors import from_libvirt

from .volume_xml import Volume


@dataclass(frozen=True)
class VolumeInfo:
    name: str
    key: str
    path: str
    format: str
    capacity: int
    allocation: int
    backing_path: str


def _info(vol) -> VolumeInfo:
    _type, capacity, allocation = vol.info()
    doc = Volume.parse(vol.XMLDesc(0))
    return VolumeInfo(
        name=vol.name(),
        key=vol.key(),
        path=vol.path(),
        format=doc.format or "",
        capacity=capacity,
        allocation=allocation,
        backing_path=(doc.backing.path if doc.backing is not None else None) or "",
    )


def list_volumes(conn, pool_uuid) -> list[VolumeInfo]:
    """Every volume of an active pool (an inactive pool has none to list)."""
    try:
        pool = conn.storagePoolLookupByUUIDString(pool_uuid)
        if not pool.isActive():
            return []
        volumes = pool.listAllVolumes(0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    infos = []
    for vol in volumes:
        try:
            infos.append(_info(vol))
        except libvirt.libvirtError:
            continue
    return infos


# -- changes: each takes the pool's UUID and the volume's name, the inventory's stable handles


def _pool(conn, pool_uuid):
    try:
        return conn.storagePoolLookupByUUIDString(pool_uuid)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def lookup(conn, pool_uuid, name):
    """The libvirt volume object (for the stream adapters); VirtError when it is not there."""
    try:
        return _pool(conn, pool_uuid).storageVolLookupByName(name)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def volume_info(conn, pool_uuid, name) -> VolumeInfo | None:
    try:
        return _info(_pool(conn, pool_uuid).storageVolLookupByName(name))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
            return None
        raise from_libvirt(exc) from None


def create(conn, pool_uuid, xml, *, prealloc_metadata=False) -> VolumeInfo:
    """createXML. prealloc_metadata is VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA: for qcow2 with
    allocation == capacity libvirt then runs `qemu-img create -o preallocation=falloc` (the whole
    size reserved on disk); without it qcow2 ignores allocation and stays sparse. libvirt refuses
    the flag for raw (whose allocation alone decides) and for overlays with a backing store."""
    flags = libvirt.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA if prealloc_metadata else 0
    try:
        return _info(_pool(conn, pool_uuid).createXML(xml, flags))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def clone(conn, pool_uuid, source_name, xml, *, source_pool_uuid=None) -> VolumeInfo:
    """createXMLFrom: a full, independent copy (qcow2 backing chains are flattened) into this
    pool, of a volume in the same pool or, with source_pool_uuid, in another one."""
    pool = _pool(conn, pool_uuid)
    source_pool = _pool(conn, source_pool_uuid) if source_pool_uuid and source_pool_uuid != pool_uuid else pool
    try:
        return _info(pool.createXMLFrom(xml, source_pool.storageVolLookupByName(source_name), 0))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def resize(conn, pool_uuid, name, capacity, *, shrink=False, allocate=False):
    """Grow, or shrink only when asked (VIR_STORAGE_VOL_RESIZE_SHRINK): shrinking loses data.
    `allocate` (VIR_STORAGE_VOL_RESIZE_ALLOCATE, raw volumes only) reserves the added part on
    disk: fallocate, or glibc writing a byte per block where the file system has no fallocate."""
    flags = libvirt.VIR_STORAGE_VOL_RESIZE_SHRINK if shrink else 0
    if allocate:
        flags |= libvirt.VIR_STORAGE_VOL_RESIZE_ALLOCATE
    try:
        lookup(conn, pool_uuid, name).resize(capacity, flags)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def unsupported(exc) -> bool:
    """The driver has no such call (the test driver cannot resize a volume)."""
    return getattr(exc, "code", None) == libvirt.VIR_ERR_NO_SUPPORT


def wipe(conn, pool_uuid, name):
    """Overwrite with zeros. libvirt wipes format headers too: a qcow2 volume comes back raw."""
    try:
        # libvirt wipes as many bytes as it last recorded for the volume (0 for a sparse one just
        # made): a refresh first, or data written since stays and the wipe "succeeds".
        _pool(conn, pool_uuid).refresh(0)
        lookup(conn, pool_uuid, name).wipe(0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def delete(conn, pool_uuid, name):
    try:
        lookup(conn, pool_uuid, name).delete(0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def delete_quietly(conn, pool_uuid, name):
    """Remove a volume a failed transfer left half written; never raises, it is cleanup."""
    try:
        conn.storagePoolLookupByUUIDString(pool_uuid).storageVolLookupByName(name).delete(0)
    except libvirt.libvirtError:
        pass

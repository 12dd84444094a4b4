"""Volume adapters: what `vol-list --details` and `qemu-img info` show."""

from dataclasses import dataclass

import libvirt
from lxml import etree

from apps.hosts.virt.errors import from_libvirt


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
    root = etree.fromstring(vol.XMLDesc(0))
    return VolumeInfo(
        name=vol.name(),
        key=vol.key(),
        path=vol.path(),
        format=root.find("target/format").get("type", "") if root.find("target/format") is not None else "",
        capacity=capacity,
        allocation=allocation,
        backing_path=root.findtext("backingStore/path") or "",
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

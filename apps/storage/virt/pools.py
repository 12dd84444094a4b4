"""Storage pool adapters: plain dataclasses out, VirtError with libvirt's words for refusals."""

from dataclasses import dataclass

import libvirt

from apps.core.errors import VirtError, from_libvirt

from .pool_xml import Pool

STATES = {
    libvirt.VIR_STORAGE_POOL_INACTIVE: "inactive",
    libvirt.VIR_STORAGE_POOL_BUILDING: "building",
    libvirt.VIR_STORAGE_POOL_RUNNING: "running",
    libvirt.VIR_STORAGE_POOL_DEGRADED: "degraded",
    libvirt.VIR_STORAGE_POOL_INACCESSIBLE: "inaccessible",
}


@dataclass(frozen=True)
class PoolInfo:
    uuid: str
    name: str
    pool_type: str
    state: str
    autostart: bool
    persistent: bool
    capacity: int
    allocation: int
    available: int
    target_path: str


def _info(pool) -> PoolInfo:
    state, capacity, allocation, available = pool.info()
    doc = Pool.parse(pool.XMLDesc(0))
    return PoolInfo(
        uuid=pool.UUIDString(),
        name=pool.name(),
        pool_type=doc.type or "",
        state=STATES.get(state, "inactive"),
        autostart=bool(pool.autostart()),
        persistent=bool(pool.isPersistent()),
        capacity=capacity,
        allocation=allocation,
        available=available,
        target_path=doc.target_path or "",
    )


def list_pools(conn) -> list[PoolInfo]:
    try:
        pools = conn.listAllStoragePools(0)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    infos = []
    for pool in pools:
        try:
            infos.append(_info(pool))
        except libvirt.libvirtError:
            continue  # undefined while we looked; the next pass settles it
    return infos


def _lookup(conn, uuid):
    try:
        return conn.storagePoolLookupByUUIDString(uuid)
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def pool_info(conn, uuid) -> PoolInfo | None:
    try:
        return _info(conn.storagePoolLookupByUUIDString(uuid))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
            return None
        raise from_libvirt(exc) from None


def pool_xml(conn, uuid, *, inactive=True) -> str:
    """The pool's XML, by default its persistent definition (what an edit starts from)."""
    pool = _lookup(conn, uuid)
    try:
        try:
            return pool.XMLDesc(libvirt.VIR_STORAGE_XML_INACTIVE if inactive else 0)
        except libvirt.libvirtError as exc:
            if not inactive or exc.get_error_code() != libvirt.VIR_ERR_INVALID_ARG:
                raise
            return pool.XMLDesc(0)  # drivers without the flag (the test driver) have one definition
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def define(conn, xml) -> str:
    """Define a persistent pool; returns its UUID."""
    try:
        return conn.storagePoolDefineXML(xml, 0).UUIDString()
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


ACTIONS = {
    "build": lambda pool: pool.build(libvirt.VIR_STORAGE_POOL_BUILD_NEW),
    "start": lambda pool: pool.create(0),
    "stop": lambda pool: pool.destroy(),
    "refresh": lambda pool: pool.refresh(0),
    "autostart_on": lambda pool: pool.setAutostart(1),
    "autostart_off": lambda pool: pool.setAutostart(0),
    "delete": lambda pool: pool.delete(libvirt.VIR_STORAGE_POOL_DELETE_NORMAL),
    "undefine": lambda pool: pool.undefine(),
}


def act(conn, uuid, action):
    if action not in ACTIONS:
        raise VirtError(f"unknown pool action {action!r}")
    try:
        ACTIONS[action](_lookup(conn, uuid))
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None


def undefine_quietly(conn, uuid):
    """Remove a pool definition left by a failed create, so nothing stays half-defined."""
    try:
        pool = conn.storagePoolLookupByUUIDString(uuid)
        if pool.isActive():
            pool.destroy()
        pool.undefine()
    except libvirt.libvirtError:
        pass

"""The <disk> for a volume of a storage pool, as libvirt wants it for that pool's type.

A volume of a pool with host paths (dir, fs, netfs, logical, disk, iscsi, scsi, mpath, zfs,
vstorage) is a file or a block device, named by its path. A volume of a network pool has no
host path at all, so it is reached the way the pool reaches its storage:

- rbd: `<disk type='network'>` with protocol rbd, the Ceph pool and image as its name, the
  monitors as hosts and the cephx user and secret as auth;
- gluster: `<disk type='network'>` with protocol gluster, "volume/dir/file" as its name and the
  servers as hosts;
- iscsi-direct: `<disk type='volume'>` naming the pool and the volume (the LUN): libvirt fills in
  the portal, target, initiator and CHAP secret from the pool when the domain starts.

libvirt refuses `type='volume'` disks of rbd and gluster pools, which is why those two are spelt
out. The pool's facts come in as plain values (PoolSource): compute's adapters do not read
storage's XML classes, the caller hands over what it read.
"""

from dataclasses import dataclass

from apps.core.errors import VirtError

from .disk import Disk, DiskAuth, DiskHost

# The secret type a disk's <auth> names, from the pool's <auth type>.
SECRET_TYPES = {"ceph": "ceph", "chap": "iscsi"}
NETWORK_POOLS = ("rbd", "gluster")
VOLUME_POOLS = ("iscsi-direct",)


@dataclass(frozen=True)
class PoolSource:
    """What a network pool's <source> says about reaching its volumes.

    hosts: (name, port or None) per server (Ceph monitors, Gluster servers); name: the Ceph pool or
    Gluster volume; dir: the pool's directory inside a Gluster volume; auth_*: the pool's
    <auth type= username=> and the secret it names (by UUID, or by usage)."""

    hosts: tuple = ()
    name: str | None = None
    dir: str | None = None
    auth_type: str | None = None  # ceph | chap
    auth_username: str | None = None
    secret_uuid: str | None = None
    secret_usage: str | None = None

    @classmethod
    def of(cls, pool):
        """From a typed pool definition (storage's `Pool.parse(xml)`, or anything shaped like it:
        `.source.hosts[i].name/.port`, `.source.name`, `.source.dir`, `.source.auth`)."""
        source = pool.source
        if source is None:
            return cls()
        auth = source.auth
        return cls(
            hosts=tuple((h.name, h.port) for h in source.hosts),
            name=source.name,
            dir=source.dir,
            auth_type=auth.type if auth is not None else None,
            auth_username=auth.username if auth is not None else None,
            secret_uuid=auth.secret_uuid if auth is not None else None,
            secret_usage=auth.secret_usage if auth is not None else None,
        )


def _network(disk, protocol, name, source):
    disk.type = "network"
    disk.protocol = protocol
    disk.source_name = name
    disk.hosts = [DiskHost(name=host, port=port) for host, port in source.hosts]
    if source.auth_username and (source.secret_uuid or source.secret_usage):
        disk.auth = DiskAuth(
            username=source.auth_username,
            secret_type=SECRET_TYPES.get(source.auth_type, source.auth_type),
            secret_uuid=source.secret_uuid,
            secret_usage=None if source.secret_uuid else source.secret_usage,
        )


def disk_for_volume(
    *, pool_type, pool_name, volume_name, path, format, pool_source=None, target="vda", bus="virtio",
    device="disk", readonly=False,
) -> Disk:  # fmt: skip
    """The Disk that attaches volume `volume_name` (host path or libvirt's name for it: `path`)
    of pool `pool_name` of type `pool_type`. rbd and gluster need `pool_source` (PoolSource)."""
    fmt = format or "raw"
    if pool_type in VOLUME_POOLS:
        disk = Disk(target=target, bus=bus, format=fmt, device=device, readonly=readonly)
        disk.type = "volume"
        disk.pool, disk.volume = pool_name, volume_name
        return disk
    if pool_type in NETWORK_POOLS:
        source = pool_source or PoolSource()
        if not source.hosts or not source.name:
            raise VirtError(f"pool {pool_name} ({pool_type}) names no server or no {pool_type} volume")
        disk = Disk(target=target, bus=bus, format=fmt, device=device, readonly=readonly)
        if pool_type == "rbd":
            _network(disk, "rbd", f"{source.name}/{volume_name}", source)
        else:
            parts = [source.name, *(source.dir or "").split("/"), volume_name]
            _network(disk, "gluster", "/".join(p for p in parts if p), source)
        return disk
    if not path:
        raise VirtError(f"volume {pool_name}/{volume_name} has no path on the host")
    return Disk(source=path, target=target, bus=bus, format=fmt, device=device, readonly=readonly)

"""Disks and the CD-ROM on the worker: attach, detach, a new volume attached, live resize,
insert/eject/add a CD-ROM (services/disks.py queues them)."""

from django.db.models import F

from apps.compute.models import VirtualMachine
from apps.compute.virt import disks
from apps.compute.virt.xml import Disk, Domain, PoolSource
from apps.core import realtime
from apps.core.errors import OperationError
from apps.core.units import human_bytes as human
from apps.hosts.virt import connection
from apps.operations.runners import require, runner
from apps.operations.services import operation_check_cancel
from apps.storage.access import authorize_use
from apps.storage.models import StoragePool, StorageVolume
from apps.storage.runs.allocation import create_volume
from apps.storage.services.pools import pool_refresh_inventory
from apps.storage.services.volumes import refresh_quietly
from apps.storage.virt import pools as pool_virt
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.pool_xml import Pool

VM_RELATED = ("host", "team")


def devices_changed(vm):
    """The open VM page re-reads its tab."""
    realtime.publish_on_commit(realtime.host_group(vm.host_id), "vm", id=vm.pk, change="devices")


def next_free_target(conn, uuid, bus):
    existing = {d.target for d in disks.list_disks(conn, uuid)}
    existing |= {d.target for d in disks.list_disks(conn, uuid, inactive=True)}
    return disks.next_target(existing, bus)


def require_volume(op, host, path, *, iso):
    """The volume at `path` on `host` must still be one the requester may use, as the service
    checked (grants change while operations wait): an ISO from the host's ISO library
    (storage.view), any other volume with storage.use on its pool."""
    volume = StorageVolume.objects.select_related("pool__host").filter(pool__host=host, path=path).first()
    if volume is None:
        raise OperationError(f"{path} is no longer a volume kvmweb knows on {host.name}.")
    if iso:
        if not volume.pool.is_iso_library:
            raise OperationError(f"{volume.name} is no longer in {host.name}'s ISO library.")
        require(op, "storage.view", volume.pool)
    elif op.actor is not None:
        authorize_use(op.actor, volume.pool)


def _volume_rights(op, vm):
    path = (op.params or {}).get("path")
    if path and op.kind != "vm.disk_detach":
        require_volume(op, vm.host, path, iso=op.kind.startswith("vm.cdrom_"))


def refuse_if_used_elsewhere(conn, vm, paths):  # vm None: a VM that is being created
    """A volume written by two VMs at once destroys its file system: each of `paths` is refused
    unless every domain that has it marked it <shareable/> (an administrator's choice, for cluster
    file systems). The host's domains are read once, however many paths."""
    holders = disks.disk_users(conn, except_uuid=str(vm.uuid) if vm else None)
    for path in paths:
        users = [u for u in holders.get(path, []) if not (u.shareable or u.readonly)]
        if users:
            names = ", ".join(sorted(u.domain_name for u in users))
            raise OperationError(
                f"{path} is a disk of {names}; a volume is attached to one VM at a time unless marked shareable."
            )


def refuse_new_disks_used_elsewhere(conn, vm, root, before=None):
    """The same rule for hand-written XML (the XML tab, define from XML): every writable disk the
    definition adds must not be another domain's."""
    old = {d.source for d in Domain.wrap(before).disks} if before is not None else set()
    new = [d.source for d in Domain.wrap(root).disks if d.writable and d.source and d.source not in old]
    if new:
        refuse_if_used_elsewhere(conn, vm, new)


def volume_disk(conn, pool, *, volume_name, path, format, target, bus):
    """The <disk> for a pool's volume as libvirt wants it for the pool's type (rbd and gluster as
    network disks with the pool's hosts and auth, iscsi-direct by pool and volume)."""
    source = None
    if pool.pool_type in ("rbd", "gluster"):
        source = PoolSource.of(Pool.parse(pool_virt.pool_xml(conn, str(pool.uuid))))
    return disks.disk_for_volume(
        pool_type=pool.pool_type,
        pool_name=pool.name,
        volume_name=volume_name,
        path=path,
        format=format,
        pool_source=source,
        target=target,
        bus=bus,
    )


@runner(
    "vm.disk_attach",
    "vm.disk_detach",
    permission="vm.edit",
    target=VirtualMachine,
    related=VM_RELATED,
    policy=_volume_rights,
)
def attach_detach(op, vm):
    p = op.params
    with connection.connected(vm.host.uri) as conn:
        if p["op"] == "attach":
            pool = StoragePool.objects.get(pk=p["pool_id"])
            refuse_if_used_elsewhere(conn, vm, [p["path"]])
            target = next_free_target(conn, str(vm.uuid), p["bus"])
            disk = volume_disk(
                conn,
                pool,
                volume_name=p["volume_name"],
                path=p["path"],
                format=p["format"],
                target=target,
                bus=p["bus"],
            )
            disks.attach(conn, str(vm.uuid), disk, live=p["live"], config=p["config"])
            message = f"{p['volume']} attached to {vm.name} as {target}"
        else:
            disks.detach(conn, str(vm.uuid), p["target"], live=p["live"], config=p["config"])
            message = f"{p['target']} detached from {vm.name}"
            if p["live"] and p["target"] in {d.target for d in disks.list_disks(conn, str(vm.uuid))}:
                # QEMU unplugs a disk only when the guest lets it go (ACPI hot-unplug).
                message += "; the running guest has not released it yet, it goes when the guest does"
    devices_changed(vm)
    return message


def _new(op, vm, conn):
    p = op.params
    pool = StoragePool.objects.select_related("host").get(pk=p["pool_id"])
    require(op, "storage.manage", pool)
    try:
        # Leaves no volume behind when it fails or is cancelled (a preallocation reports progress).
        info = create_volume(
            op, conn, pool, name=p["name"], capacity=p["capacity"], format=p["format"], preallocate=p["preallocate"]
        )
    except BaseException:
        refresh_quietly(conn, pool)
        raise
    try:
        operation_check_cancel(op, f" before {p['name']} was attached")
        target = next_free_target(conn, str(vm.uuid), p["bus"])
        disk = volume_disk(
            conn, pool, volume_name=p["name"], path=info.path, format=p["format"], target=target, bus=p["bus"]
        )
        disks.attach(conn, str(vm.uuid), disk, live=p["live"], config=p["config"])
    except BaseException:
        # One operation, one outcome: a volume nobody asked for on its own is not left behind.
        volume_virt.delete_quietly(conn, str(pool.uuid), p["name"])
        pool_refresh_inventory(conn, pool.host, str(pool.uuid))
        raise
    pool_refresh_inventory(conn, pool.host, str(pool.uuid))
    VirtualMachine.objects.filter(pk=vm.pk).update(disk_bytes=F("disk_bytes") + p["capacity"])
    kind = "preallocated" if p["preallocate"] else "sparse"
    return (
        f"created {kind} {p['format']} volume {pool.name}/{p['name']} ({human(p['capacity'])}) "
        f"and attached it to {vm.name} as {target}"
    )


def _resize(op, vm, conn):
    p = op.params
    source = next((d.source for d in disks.list_disks(conn, str(vm.uuid)) if d.target == p["target"]), "")
    before = disks.resize(conn, str(vm.uuid), p["target"], p["capacity"])
    VirtualMachine.objects.filter(pk=vm.pk).update(disk_bytes=F("disk_bytes") + (p["capacity"] - before))
    volume = StorageVolume.objects.select_related("pool").filter(pool__host=vm.host, path=source).first()
    if volume is not None:  # the pool's page shows the new size and free space
        pool_refresh_inventory(conn, vm.host, str(volume.pool.uuid))
    return f"{p['target']} of {vm.name} grew from {human(before)} to {human(p['capacity'])}"


# A new disk may be preallocated, which is long where the file system writes every block.
@runner("vm.disk_new", permission="vm.edit", target=VirtualMachine, related=VM_RELATED, cancellable=True)
@runner("vm.disk_resize", permission="vm.edit", target=VirtualMachine, related=VM_RELATED)
def new_or_resize(op, vm):
    with connection.connected(vm.host.uri) as conn:
        message = {"vm.disk_new": _new, "vm.disk_resize": _resize}[op.kind](op, vm, conn)
    devices_changed(vm)
    return message


@runner(
    "vm.cdrom_insert",
    "vm.cdrom_eject",
    "vm.cdrom_add",
    permission="vm.edit",
    target=VirtualMachine,
    related=VM_RELATED,
    policy=_volume_rights,
)
def cdrom(op, vm):
    p = op.params
    with connection.connected(vm.host.uri) as conn:
        if op.kind == "vm.cdrom_add":
            target = next_free_target(conn, str(vm.uuid), p["bus"])
            drive = Disk(source=p["path"], target=target, bus=p["bus"], format="raw", device="cdrom")
            disks.attach(conn, str(vm.uuid), drive, live=False, config=True)
            what = f" with {p['iso']}" if p["iso"] else ""
            message = f"CD-ROM drive {target}{what} added to {vm.name}; the VM sees it from its next start"
        elif op.kind == "vm.cdrom_insert":
            disks.change_media(conn, str(vm.uuid), p["target"], p["path"], live=p["live"], config=p["config"])
            message = f"{p['iso']} inserted into {p['target']} of {vm.name}"
        else:
            disks.change_media(conn, str(vm.uuid), p["target"], None, live=p["live"], config=p["config"])
            message = f"{p['target']} of {vm.name} ejected"
    devices_changed(vm)
    return message

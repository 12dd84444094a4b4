"""Disks: attach an existing volume or a new one made on a pool, detach, grow live
(`virsh attach-disk` / `detach-disk` / `vol-create` / `blockresize`); and the CD-ROM: insert an
ISO from the host's ISO library, eject it (`virsh change-media`), or add an empty drive to a VM
that has none (saved configuration only: QEMU cannot hot-plug a CD-ROM).

Input is checked before anything is queued (DiskError, VolumeError and QuotaExceeded are all
ValueErrors whose message is for the form); the worker checks rights and space again, since they
may have changed while the operation waited.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from apps.audit import registry
from apps.authz.rights import authorize, deny
from apps.compute.quotas import GIB, quota_check
from apps.compute.virt import disks
from apps.core.errors import VirtError
from apps.core.units import human_bytes as human
from apps.hosts.virt import connection
from apps.operations.services import operation_queue
from apps.storage.access import authorize_use
from apps.storage.services.volumes import (
    VolumeError,
    check_new_name,
    check_pool,
    check_space,
    parse_size,
)
from apps.storage.virt.volume_xml import FORMATS

registry.register("vm.disk_attach", "attached a disk to VM")
registry.register("vm.disk_detach", "detached a disk from VM")
registry.register("vm.disk_new", "created a volume and attached it to VM")
registry.register("vm.disk_resize", "resized a disk of VM")

BUSES = ("virtio", "scsi", "sata")


class DiskError(ValueError):
    """A disk request that cannot be done as asked; the message is for the user."""


def check_flags(live, config):
    if not (live or config):
        raise DiskError("Choose live, config or both.")


def check_target(target):
    if not target or not target.isalnum() or len(target) > 16:
        raise DiskError(f"{target!r} is not a disk target such as vdb.")
    return target


def _queue(actor, vm, kind, params):
    with transaction.atomic():
        return operation_queue(actor=actor, kind=kind, target=vm, params=params)


def vm_disk_attach(*, actor, vm, volume, bus="virtio", live=True, config=True):
    """Attach an existing volume (`virsh attach-disk … --live --config`). The user needs vm.edit
    on the VM and storage.use (or storage.manage) on the volume's pool: seeing a pool is not
    enough to hand its volumes to a VM. The worker refuses a volume another domain uses unless
    that domain marked it shareable."""
    check_flags(live, config)
    authorize(actor, "vm.edit", vm)
    authorize_use(actor, volume.pool)
    if volume.pool.host_id != vm.host_id:
        deny(actor, "", vm, attempt="vm.disk_attach", reason="The volume is on another host.")
        raise PermissionDenied("The volume is on another host.")
    if bus not in BUSES:
        raise DiskError(f"Unknown bus {bus!r}: use one of {', '.join(BUSES)}.")
    params = {
        "op": "attach",
        "path": volume.path,
        "format": volume.format or "raw",
        "bus": bus,
        "live": live,
        "config": config,
        "volume": f"{volume.pool.name}/{volume.name}",
        "pool_id": volume.pool_id,
        "volume_name": volume.name,
    }
    return _queue(actor, vm, "vm.disk_attach", params)


def vm_disk_detach(*, actor, vm, target, live=True, config=True):
    check_flags(live, config)
    authorize(actor, "vm.edit", vm)
    check_target(target)
    params = {"op": "detach", "target": target, "live": live, "config": config}
    return _queue(actor, vm, "vm.disk_detach", params)


def vm_disk_new(
    *, actor, vm, pool, name, capacity, unit="GiB", format="qcow2", preallocate=False, bus="virtio", live, config
):
    """Create a volume on a pool and attach it, in one operation (`virt-install --disk size=`
    for a VM that already exists). Needs vm.edit on the VM and storage.manage on the pool; the
    new size counts against the VM's team disk quota."""
    authorize(actor, "vm.edit", vm)
    authorize(actor, "storage.manage", pool)
    check_flags(live, config)
    if pool.host_id != vm.host_id:
        raise DiskError("The pool is on another host than the VM.")
    check_pool(pool)
    check_new_name(pool, name)
    if format not in FORMATS:
        raise VolumeError(f"Format must be one of {', '.join(FORMATS)}.")
    if bus not in BUSES:
        raise DiskError(f"Unknown bus {bus!r}: use one of {', '.join(BUSES)}.")
    size = parse_size(capacity, unit)
    check_space(capacity=size, pool_capacity=pool.capacity, available=pool.available, preallocate=preallocate)
    quota_check(vm.team, disk_gib=size / GIB)
    params = {
        "pool_id": pool.pk,
        "name": name,
        "capacity": size,
        "format": format,
        "preallocate": bool(preallocate),
        "bus": bus,
        "live": bool(live),
        "config": bool(config),
    }
    return _queue(actor, vm, "vm.disk_new", params)


def vm_disk_resize(*, actor, vm, target, capacity, unit="GiB"):
    """Grow a disk of a running VM (`virsh blockresize`). Shrinking is refused: the guest's file
    systems still use the end of the disk. A shut-off VM's disks are resized as volumes."""
    authorize(actor, "vm.edit", vm)
    check_target(target)
    if vm.state not in ("running", "paused"):
        raise DiskError(
            "A live resize needs the VM running. While it is shut off, resize the disk's volume on its pool's page."
        )
    size = parse_size(capacity, unit)
    current = None
    try:  # one read, to refuse a shrink on the form; the worker checks again with fresh figures
        with connection.connected(vm.host.uri) as conn:
            found = [d for d in disks.list_disks(conn, str(vm.uuid)) if d.target == target]
    except VirtError:
        found = None
    if found == []:
        raise DiskError(f"The VM has no disk {target}.")
    if found:
        if found[0].device != "disk":
            raise DiskError(f"{target} is a {found[0].device}, not a disk.")
        current = found[0].capacity
    if current is not None and size <= current:
        raise DiskError(f"{target} is {human(current)} now; a disk can only grow, give more than that.")
    quota_check(vm.team, disk_gib=(size - (current or 0)) / GIB)
    params = {"target": target, "capacity": size}
    return _queue(actor, vm, "vm.disk_resize", params)


# -- the CD-ROM ------------------------------------------------------------------------------

registry.register("vm.cdrom_insert", "inserted an ISO into VM")
registry.register("vm.cdrom_eject", "ejected the CD-ROM of VM")
registry.register("vm.cdrom_add", "added a CD-ROM drive to VM")

CDROM_BUSES = ("sata", "ide", "scsi")


def _check_iso(actor, vm, volume, attempt):
    """An ISO comes from the VM's host's ISO library, whatever else the user may read: a refusal
    is recorded like a missing right (no right lifts it)."""
    authorize(actor, "storage.view", volume.pool)
    if volume.pool.host_id != vm.host_id:
        deny(actor, "", vm, attempt=attempt, reason="The ISO is on another host.")
        raise PermissionDenied("The ISO is on another host.")
    if not volume.pool.is_iso_library:
        message = f"{volume.name} is not in this host's ISO library."
        deny(actor, "", vm, attempt=attempt, reason=message)
        raise DiskError(message)


def vm_cdrom_insert(*, actor, vm, target, volume, live=True, config=False):
    authorize(actor, "vm.edit", vm)
    check_flags(live, config)
    check_target(target)
    _check_iso(actor, vm, volume, "vm.cdrom_insert")
    params = {"target": target, "path": volume.path, "iso": volume.name, "live": live, "config": config}
    return _queue(actor, vm, "vm.cdrom_insert", params)


def vm_cdrom_eject(*, actor, vm, target, live=True, config=False):
    authorize(actor, "vm.edit", vm)
    check_flags(live, config)
    check_target(target)
    return _queue(actor, vm, "vm.cdrom_eject", {"target": target, "live": live, "config": config})


def vm_cdrom_add(*, actor, vm, bus="sata", volume=None):
    """A new CD-ROM drive in the saved configuration, empty or with an ISO; the VM sees it from
    its next start."""
    authorize(actor, "vm.edit", vm)
    if bus not in CDROM_BUSES:
        raise DiskError(f"Unknown CD-ROM bus {bus!r}: use one of {', '.join(CDROM_BUSES)}.")
    params = {"bus": bus, "path": "", "iso": ""}
    if volume is not None:
        _check_iso(actor, vm, volume, "vm.cdrom_add")
        params.update(path=volume.path, iso=volume.name)
    return _queue(actor, vm, "vm.cdrom_add", params)



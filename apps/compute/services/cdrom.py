"""CD-ROM: insert an ISO from the host's ISO library, eject it (`virsh change-media`), or add an
empty drive to a VM that has none (saved configuration only: QEMU cannot hot-plug a CD-ROM)."""

from django.core.exceptions import PermissionDenied

from apps.audit import registry
from apps.authz.rights import authorize

from .disks import DiskError, _queue, check_flags, check_target

registry.register("vm.cdrom_insert", "inserted an ISO into VM")
registry.register("vm.cdrom_eject", "ejected the CD-ROM of VM")
registry.register("vm.cdrom_add", "added a CD-ROM drive to VM")

CDROM_BUSES = ("sata", "ide", "scsi")


def _check_iso(actor, vm, volume):
    authorize(actor, "storage.view", volume.pool)
    if volume.pool.host_id != vm.host_id:
        raise PermissionDenied("The ISO is on another host.")
    if not volume.pool.is_iso_library:
        raise DiskError(f"{volume.name} is not in this host's ISO library.")


def vm_cdrom_insert(*, actor, vm, target, volume, live=True, config=False):
    authorize(actor, "vm.edit", vm)
    check_flags(live, config)
    check_target(target)
    _check_iso(actor, vm, volume)
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
        _check_iso(actor, vm, volume)
        params.update(path=volume.path, iso=volume.name)
    return _queue(actor, vm, "vm.cdrom_add", params)



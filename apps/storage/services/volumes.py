"""Volume changes: create, resize, clone, wipe, delete.

Each service checks its input first (the forms apply the same rules, to show them by the field, but
the API and commands come here directly), so bad input is refused with a clear message before any
Operation or audit record exists. Then it authorizes storage.manage on the pool and queues an
Operation on the host's worker. The worker checks the right again, calls apps/storage/virt and
refreshes the pool's inventory, since libvirt has no volume events.

Space rule: a preallocated volume must fit in what the pool has available now. A sparse one may
overcommit (that is the point of thin provisioning, and libvirt allows it), but never beyond the
pool's whole capacity: such a volume could never be filled.
"""

from decimal import Decimal, InvalidOperation

from django.db import transaction

from apps.audit import registry
from apps.authz.rights import authorize
from apps.core.units import human_bytes as human
from apps.operations.services import OperationError, operation_queue
from apps.storage.models import StorageVolume
from apps.storage.services.pools import pool_refresh_inventory
from apps.storage.virt.volume_xml import FORMATS

for _code, _label in {
    "volume.create": "created volume",
    "volume.resize": "resized volume",
    "volume.clone": "cloned volume",
    "volume.wipe": "wiped volume",
    "volume.delete": "deleted volume",
}.items():
    registry.register(_code, _label)

UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
_UNIT_LOOKUP = {k.lower(): v for k, v in UNITS.items()} | {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
NAME_MAX_BYTES = 255  # a file name on every Linux file system


class VolumeError(ValueError):
    """A request that cannot be done as asked; the message is for the user. Nothing was changed."""


def parse_size(amount, unit="B"):
    """Bytes from an amount and a binary unit (B, KiB … TiB, or K/M/G/T meaning the same)."""
    factor = _UNIT_LOOKUP.get(str(unit or "").strip().lower())
    if factor is None:
        raise VolumeError(f"Unknown unit {unit!r}: use B, KiB, MiB, GiB or TiB (K, M, G and T are binary too).")
    if amount is None or not str(amount).strip():
        raise VolumeError("Give a capacity.")
    try:
        value = Decimal(str(amount).strip())
    except (InvalidOperation, ValueError):
        raise VolumeError(f"Capacity {amount!r} is not a number.") from None
    if not value.is_finite():
        raise VolumeError("Capacity must be a finite number.")
    if value < 0:
        raise VolumeError("Capacity cannot be negative.")
    size = int(value * factor)
    if size <= 0:
        raise VolumeError("Capacity must be more than 0 bytes.")
    return size


def validate_name(name):
    """A volume name is a file name in the pool's directory; refuse what could leave it or confuse
    the tools that will be handed the path."""
    if not isinstance(name, str) or not name.strip():
        raise VolumeError("Give the volume a name.")
    if "\x00" in name:
        raise VolumeError("A volume name cannot contain a NUL character.")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise VolumeError("A volume name cannot contain control characters.")
    if "/" in name or "\\" in name:
        raise VolumeError("A volume name cannot contain '/' or '\\': it is a file name, not a path.")
    if ".." in name:
        raise VolumeError("A volume name cannot contain '..'.")
    if name.startswith("-"):
        raise VolumeError("A volume name cannot start with '-': tools like qemu-img would read it as an option.")
    if name.startswith("."):
        raise VolumeError("A volume name cannot start with '.': it would be a hidden file.")
    if name != name.strip():
        raise VolumeError("A volume name cannot start or end with spaces.")
    if len(name.encode()) > NAME_MAX_BYTES:
        raise VolumeError(f"A volume name can be at most {NAME_MAX_BYTES} bytes long.")
    return name


def check_pool(pool):
    if not pool.present or not pool.active:
        raise VolumeError(f"Pool {pool.name} is not active: start it first.")


def check_new_name(pool, name):
    validate_name(name)
    if StorageVolume.objects.filter(pool=pool, name=name).exists():
        raise VolumeError(f"A volume named {name} already exists in pool {pool.name}.")
    return name


def check_space(*, capacity, pool_capacity, available, preallocate):
    if pool_capacity and capacity > pool_capacity:
        raise VolumeError(f"{human(capacity)} is more than the whole pool ({human(pool_capacity)}).")
    if preallocate and pool_capacity and capacity > available:  # 0: the backend does not say
        raise VolumeError(
            f"Preallocating {human(capacity)} needs that much free space; the pool has {human(available)}."
        )


class NewVolume:
    """The audit/operation target of a volume that does not exist yet."""

    def __init__(self, pool, name):
        self.pool, self.name = pool, name

    def audit_target(self):
        return {
            "target_type": "volume",
            "target_id": "",
            "target_name": f"{self.pool.name}/{self.name}",
            "host_id": self.pool.host_id,
            "host_name": self.pool.host.name,
        }


def queue(actor, kind, target, pool, params):
    with transaction.atomic():
        return operation_queue(
            actor=actor,
            kind=kind,
            target=target,
            params={"pool_id": pool.pk, **params},
        )


def volume_create(*, actor, pool, name, capacity=None, unit="B", format="raw", preallocate=False, backing=None):
    """Queue a new raw or qcow2 volume, sparse or preallocated; `backing` (a StorageVolume of the
    same pool) makes a qcow2 overlay, and its capacity is the default."""
    authorize(actor, "storage.manage", pool)
    check_pool(pool)
    check_new_name(pool, name)
    if format not in FORMATS:
        raise VolumeError(f"Format must be one of {', '.join(FORMATS)}.")
    if backing is not None:
        if format != "qcow2":
            raise VolumeError("Only a qcow2 volume can have a backing volume.")
        if backing.pool_id != pool.pk:
            raise VolumeError("The backing volume must be in the same pool.")
        if preallocate:
            raise VolumeError("An overlay on a backing volume cannot be preallocated (libvirt refuses it).")
    size = backing.capacity if backing is not None and capacity in (None, "") else parse_size(capacity, unit)
    check_space(capacity=size, pool_capacity=pool.capacity, available=pool.available, preallocate=preallocate)
    params = {"name": name, "capacity": size, "format": format, "preallocate": bool(preallocate)}
    if backing is not None:
        params["backing"] = {"path": backing.path, "format": backing.format or "raw", "name": backing.name}
    return queue(actor, "volume.create", NewVolume(pool, name), pool, params)


def volume_resize(*, actor, volume, capacity, unit="B", shrink=False):
    """Grow a volume; shrinking (which cuts off data) only with shrink=True."""
    pool = volume.pool
    authorize(actor, "storage.manage", volume)
    check_pool(pool)
    size = parse_size(capacity, unit)
    if size == volume.capacity:
        raise VolumeError(f"{volume.name} is already {human(size)}.")
    if size < volume.capacity and not shrink:
        raise VolumeError("That is smaller than the volume: shrinking cuts off its data, so tick 'allow shrinking'.")
    check_space(capacity=size, pool_capacity=pool.capacity, available=pool.available, preallocate=False)
    params = {"name": volume.name, "capacity": size, "shrink": size < volume.capacity}
    return queue(actor, "volume.resize", volume, pool, params)


def volume_clone(*, actor, volume, new_name):
    pool = volume.pool
    authorize(actor, "storage.manage", volume)
    check_pool(pool)
    check_new_name(pool, new_name)
    if volume.allocation > pool.available:
        raise VolumeError(f"The copy needs about {human(volume.allocation)}; the pool has {human(pool.available)}.")
    return queue(actor, "volume.clone", volume, pool, {"name": volume.name, "new_name": new_name})


def volume_wipe(*, actor, volume):
    authorize(actor, "storage.manage", volume)
    check_pool(volume.pool)
    return queue(actor, "volume.wipe", volume, volume.pool, {"name": volume.name})


def volume_delete(*, actor, volume):
    authorize(actor, "storage.manage", volume)
    check_pool(volume.pool)
    return queue(actor, "volume.delete", volume, volume.pool, {"name": volume.name})


# -- the worker side -------------------------------------------------------------------------


def refresh_quietly(conn, pool):
    """After a failure the table should still show what is there; a refresh failing too must not
    hide the first error."""
    try:
        pool_refresh_inventory(conn, pool.host, str(pool.uuid))
    except OperationError:
        pass



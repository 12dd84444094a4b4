"""Pool changes: each one authorized, an Operation with audit records, run on the host's worker."""

from django.db import transaction

from apps.audit import registry
from apps.authz.rights import authorize
from apps.hosts.models import NewOnHost
from apps.operations.services import operation_queue
from apps.storage.pool_policy import PoolPolicyError, check_pool
from apps.storage.virt import pools as pool_virt
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.pool_xml import Pool

from .inventory import pool_inventory_apply, volume_inventory_sync

POOL_ACTIONS = {
    "build": "built pool",
    "start": "started pool",
    "stop": "stopped pool",
    "refresh": "refreshed pool",
    "autostart_on": "turned autostart on for pool",
    "autostart_off": "turned autostart off for pool",
    "delete": "deleted the storage of pool",
    "undefine": "undefined pool",
}
for _action, _label in POOL_ACTIONS.items():
    registry.register(f"pool.{_action}", _label)
registry.register("pool.create", "created pool")
registry.register("pool.iso_library", "changed the ISO library")


def pool_refresh_inventory(conn, host, uuid):
    """Re-read one pool and its volumes after a change (volumes have no libvirt events)."""
    pool = pool_inventory_apply(host=host, uuid=uuid, info=pool_virt.pool_info(conn, uuid))
    if pool is not None and pool.present:
        volume_inventory_sync(pool=pool, read=lambda: volume_virt.list_volumes(conn, uuid))
    return pool


def check_definition(actor, host, xml):
    """Device-backed pools need host.manage; directory pools stay where an administrator allows
    (apps/storage/pool_policy.py). Run in the request and again on the worker."""
    try:
        pool = Pool.parse(xml)
    except Exception as exc:  # noqa: BLE001 — the forms built or checked it; libvirt has the last word
        raise PoolPolicyError(f"This is not a pool definition: {exc}") from None
    check_pool(actor, host, pool.type, pool.target_path)


def pool_create(*, actor, host, name, xml, build=False, start=True, autostart=True):
    """Define a pool from XML (built by the typed forms or pasted), then build/start it.

    If any step fails the definition is removed again, so nothing is left half-defined.
    """
    authorize(actor, "storage.manage", host)
    check_definition(actor, host, xml)
    params = {"name": name, "build": build, "start": start, "autostart": autostart, "xml": xml}
    with transaction.atomic():
        return operation_queue(
            actor=actor,
            kind="pool.create",
            target=NewOnHost("pool", host, name),
            params=params,
        )


def pool_action(*, actor, pool, action):
    if action not in POOL_ACTIONS:
        raise ValueError(f"unknown pool action {action!r}")
    authorize(actor, "storage.manage", pool)
    with transaction.atomic():
        return operation_queue(
            actor=actor,
            kind=f"pool.{action}",
            target=pool,
            params={"action": action},
        )


def pool_set_iso_library(*, actor, pool, on=True):
    """Mark (or unmark) the pool whose volumes the VM wizard offers as installation media. An
    operation like every change (requested, then its outcome); a refusal stays in the audit log."""
    authorize(actor, "storage.manage", pool)
    with transaction.atomic():
        return operation_queue(actor=actor, kind="pool.iso_library", target=pool, params={"iso_library": bool(on)})

"""Pools on the worker: define (and build, start, autostart) from the checked XML, and the pool
actions (services/pools.py queues them)."""

from django.db import transaction

from apps.core.errors import OperationError
from apps.hosts.models import Host
from apps.hosts.virt import connection
from apps.operations.runners import runner
from apps.storage.models import StoragePool
from apps.storage.pool_policy import PoolPolicyError
from apps.storage.services.inventory import publish_pool_change
from apps.storage.services.pools import POOL_ACTIONS, check_definition, pool_refresh_inventory
from apps.storage.virt import pools as pool_virt


def _host(op):
    return Host.objects.filter(pk=op.host_id).first()


def _policy(op, host):
    try:
        check_definition(op.actor, host, op.params["xml"])
    except PoolPolicyError as exc:
        raise OperationError(str(exc)) from None


@runner("pool.create", permission="storage.manage", target=_host, policy=_policy)
def create(op, host):
    p = op.params
    with connection.connected(host.uri) as conn:
        uuid = pool_virt.define(conn, p["xml"])
        try:
            if p["build"]:
                pool_virt.act(conn, uuid, "build")
            if p["start"]:
                pool_virt.act(conn, uuid, "start")
            if p["autostart"]:
                pool_virt.act(conn, uuid, "autostart_on")
        except OperationError:
            pool_virt.undefine_quietly(conn, uuid)
            raise
        pool = pool_refresh_inventory(conn, host, uuid)
    op.target_id = str(pool.pk)
    op.save(update_fields=["target_id"])
    return f"pool {pool.name} defined" + (" and started" if p["start"] else "")


@runner(*(f"pool.{a}" for a in POOL_ACTIONS), permission="storage.manage", target=StoragePool, related=["host"])
def act(op, pool):
    action = op.params["action"]
    with connection.connected(pool.host.uri) as conn:
        pool_virt.act(conn, str(pool.uuid), action)
        pool_refresh_inventory(conn, pool.host, str(pool.uuid))
    return f"{pool.name}: {POOL_ACTIONS[action]}"



@runner("pool.iso_library", permission="storage.manage", target=StoragePool, related=["host"])
@transaction.atomic
def iso_library(op, pool):
    on = op.params["iso_library"]
    if on:
        others = StoragePool.objects.filter(host=pool.host, is_iso_library=True).exclude(pk=pool.pk)
        for other in others:
            publish_pool_change(other, "iso_library")
        others.update(is_iso_library=False)
    StoragePool.objects.filter(pk=pool.pk).update(is_iso_library=on)
    publish_pool_change(pool, "iso_library")
    return f"{pool.name} is {'now' if on else 'no longer'} the ISO library of {pool.host.name}"

"""What the monitor does for storage: pools on connect and on a slow tick, pool events at once."""

from apps.hosts import monitor

from .services.inventory import pool_inventory_sync, volume_inventory_sync
from .services.pools import pool_refresh_inventory
from .virt import pools as pool_virt
from .virt import volumes as volume_virt

SLOW_TICK = 15.0  # seconds; volumes have no events, and operations refresh their pool themselves


@monitor.on_connect
@monitor.on_tick(every=SLOW_TICK)
def sync_pools(host, conn):
    """Each pool, and each pool's volume list, is synced apart: one that cannot be stored is
    logged (once) and skipped, and the host's other pools are still kept current."""

    def isolate(label):
        return monitor.isolated(host, conn, label)

    for pool in pool_inventory_sync(host=host, infos=pool_virt.list_pools(conn), isolate=isolate):
        if pool is not None and pool.present:
            uuid = str(pool.uuid)
            with isolate(f"volumes of pool {pool.name}"):
                volume_inventory_sync(pool=pool, read=lambda uuid=uuid: volume_virt.list_volumes(conn, uuid))


@monitor.on_event("pool")
def pool_changed(host, conn, payload):
    pool_refresh_inventory(conn, host, payload["uuid"])


@monitor.on_connect
@monitor.on_tick(every=SLOW_TICK)
def sync_secrets(host, conn):
    """Secrets have no libvirt events: resync them with the pools. A host without a secret
    driver (the test driver) lists None and is left alone rather than dropped."""
    from .services.secrets import secret_inventory_sync
    from .virt import secrets as secret_virt

    secret_inventory_sync(host=host, infos=secret_virt.list_secrets(conn))

"""What the monitor does for compute: resync on connect and tick, follow domain events."""

from apps.hosts import monitor

from .services import vm_inventory_apply, vm_inventory_sync
from .virt import domains


@monitor.on_connect
@monitor.on_tick
def sync_all(host, conn):
    vm_inventory_sync(host=host, infos=domains.list_domains(conn))


@monitor.on_event("domain")
def domain_changed(host, conn, payload):
    uuid = payload["uuid"]
    vm_inventory_apply(host=host, uuid=uuid, info=domains.domain_info(conn, uuid))

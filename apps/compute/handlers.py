"""What the monitor does for compute: resync on connect and tick, follow domain events."""

from apps.hosts import monitor

from .models import VirtualMachine
from .services import vm_inventory_apply, vm_inventory_sync
from .virt import domains


@monitor.on_connect
def first_sync(host, conn):
    # A host's first listing is its discovery, not a change: record outside changes only when
    # there was an inventory to compare with (a reconnect after downtime).
    known = VirtualMachine.objects.filter(host=host).exists()
    vm_inventory_sync(host=host, infos=domains.list_domains(conn), detected=known)


@monitor.on_tick
def sync_all(host, conn):
    vm_inventory_sync(host=host, infos=domains.list_domains(conn), detected=True)


@monitor.on_event("domain")
def domain_changed(host, conn, payload):
    uuid = payload["uuid"]
    vm_inventory_apply(host=host, uuid=uuid, info=domains.domain_info(conn, uuid), detected=True)

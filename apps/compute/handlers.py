"""What the monitor does for compute: resync on connect and tick, follow domain events.

Cost per host: the tick is one bulk stats call (state, reason, vCPUs, memory, and the usage
counters the graphs are made of) and the host's CPU and memory figures. The domain's
configuration (autostart, title, description, OS variant) is read in full on connect and on
each domain event; autostart, which no event announces, is re-read in one listing now and then.
"""

from apps.core import realtime
from apps.hosts import monitor

from .models import VirtualMachine
from .services.inventory import (
    vm_inventory_apply,
    vm_inventory_autostart,
    vm_inventory_fill_since,
    vm_inventory_stopped,
    vm_inventory_sync,
)
from .stats import recorder
from .virt import domains, process

# Seconds between re-reads of autostart (one listAllDomains call per host).
AUTOSTART_EVERY = 30


def _started(conn):
    return lambda name: process.started_at(conn, name)


def _isolate(host, conn):
    """Each VM's write apart: one that cannot be stored is logged (once) and skipped, and the
    host's other VMs are still kept current."""
    return lambda label: monitor.isolated(host, conn, label)


@monitor.on_connect
def first_sync(host, conn):
    # A host's first listing is its discovery, not a change: record outside changes only when
    # there was an inventory to compare with (a reconnect after downtime).
    known = VirtualMachine.objects.filter(host=host).exists()
    infos = domains.list_domains(conn, config=True)
    vm_inventory_sync(host=host, infos=infos, detected=known, started=_started(conn), isolate=_isolate(host, conn))
    vm_inventory_fill_since(host=host, started=_started(conn))


@monitor.on_tick
def sync_all(host, conn):
    infos = domains.list_domains(conn)
    recorder.record(host, conn, infos)  # the graphs, from the counters the same call brought
    vm_inventory_sync(
        host=host,
        infos=infos,
        detected=True,
        full_info=lambda uuid: domains.domain_info(conn, uuid),
        started=_started(conn),
        isolate=_isolate(host, conn),
    )


@monitor.on_tick(every=AUTOSTART_EVERY)
def sync_autostart(host, conn):
    vm_inventory_autostart(host=host, uuids=domains.autostart_uuids(conn))


@monitor.on_event("domain")
def domain_changed(host, conn, payload):
    uuid = payload["uuid"]
    info = domains.domain_info(conn, uuid)
    if info is None:
        # The domain is gone by the time we look (events queue up behind a busy monitor). A stop
        # it announced is still recorded before the removal; other older events (a pause, a
        # metadata change) are skipped: its UNDEFINED event, or the tick, records the removal.
        event = payload.get("event")
        reason = domains.stopped_reason(event, payload.get("detail"))
        if reason is not None:
            vm_inventory_stopped(host=host, uuid=uuid, reason=reason)
        elif event != domains.EVENT_UNDEFINED:
            return
    vm = vm_inventory_apply(host=host, uuid=uuid, info=info, detected=True, started=_started(conn))
    if vm is not None and isinstance(payload.get("event"), str):
        # A device plugged, a tray opened, a block job ended, the balloon moved, …: nothing the
        # inventory keeps may have changed, but the VM's open tabs show it, so they re-read.
        realtime.publish_on_commit(realtime.host_group(host.pk), "vm", id=vm.pk, change=payload["event"])

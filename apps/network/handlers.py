"""What the monitor does for networks: all of them on connect, one at each lifecycle event, and a
slow tick for what no event announces (autostart, DHCP leases)."""

from apps.hosts import monitor

from .services.inventory import network_inventory_sync, network_refresh_inventory, network_set_leases
from .virt import networks as network_virt

SLOW_TICK = 15.0  # seconds; leases and autostart have no events


@monitor.on_connect
@monitor.on_tick(every=SLOW_TICK)
def sync_networks(host, conn):
    def isolate(label):
        return monitor.isolated(host, conn, label)

    for net in network_inventory_sync(host=host, infos=network_virt.list_networks(conn), isolate=isolate):
        if net is not None and net.present:
            with isolate(f"leases of network {net.name}"):
                network_set_leases(net, network_virt.leases(conn, str(net.uuid)))


@monitor.on_event("network")
def network_changed(host, conn, payload):
    network_refresh_inventory(conn, host, payload["uuid"])

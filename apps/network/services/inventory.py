"""The network inventory: networks written by the monitor and after every network operation;
ports (which VM NIC is plugged into what) written by compute's inventory with each VM's
configuration."""

from contextlib import nullcontext

from django.db import transaction

from apps.core import realtime
from apps.core.inventory import mirror_apply, mirror_sync
from apps.network.models import Port, VirtualNetwork
from apps.network.virt import networks as network_virt

NETWORK_FIELDS = (
    "name",
    "forward_mode",
    "bridge",
    "openvswitch",
    "active",
    "autostart",
    "persistent",
    "addresses",
    "dhcp_ranges",
    "dhcp_hosts",
    "devices",
    "portgroups",
    "dns_hosts",
)
PORT_FIELDS = ("kind", "source", "portgroup", "openvswitch", "model", "target", "link_up")


def _together(_label):
    return nullcontext()


def publish_network_change(net, change):
    """Open network lists, network pages and the host's wiring diagram re-read it after commit."""
    realtime.publish_on_commit(realtime.host_group(net.host_id), "network", id=net.pk, change=change)


def publish_wiring(host_id):
    """What is plugged into what changed on the host: its diagram re-reads itself."""
    realtime.publish_on_commit(realtime.host_group(host_id), "wiring", id=host_id)


def network_inventory_apply(*, host, uuid, info):
    """Bring one network's row in line with libvirt (info None: the network is gone)."""
    net = mirror_apply(
        VirtualNetwork,
        host=host,
        uuid=uuid,
        info=info,
        fields=NETWORK_FIELDS,
        publish=lambda n, change: (publish_network_change(n, change), publish_wiring(n.host_id)),
    )
    if net is not None and not net.present and net.leases:
        VirtualNetwork.objects.filter(pk=net.pk).update(leases=[])
    return net


def network_inventory_sync(*, host, infos, isolate=_together):
    """Reconcile the host's networks with one listing; `isolate(label)` keeps one network's
    failure from stopping the others."""

    def apply(uuid, info):
        with isolate(f"network {info.name if info is not None else uuid}"):
            return network_inventory_apply(host=host, uuid=uuid, info=info)
        return None

    return mirror_sync(VirtualNetwork, host=host, infos=infos, fields=NETWORK_FIELDS, apply=apply)


@transaction.atomic
def network_refresh_inventory(conn, host, uuid):
    """Re-read one network (and its leases) into the inventory: after an operation on it, and on
    each of its lifecycle events. The row is locked before libvirt is read: two operations that
    end together (a DNS host and a portgroup added live) then write in the order they read, so
    the later read, which holds both changes, is the one that stays."""
    VirtualNetwork.objects.select_for_update().filter(host=host, uuid=uuid).first()
    net = network_inventory_apply(host=host, uuid=uuid, info=network_virt.network_info(conn, uuid))
    if net is not None and net.present:
        network_set_leases(net, network_virt.leases(conn, uuid))
    return net


def network_set_leases(net, leases):
    """Store the network's DHCP leases when they changed (None: the driver keeps none)."""
    leases = leases or []
    if leases != net.leases:
        VirtualNetwork.objects.filter(pk=net.pk).update(leases=leases)
        net.leases = leases
        publish_network_change(net, "leases")


@transaction.atomic
def ports_sync(*, host, nics_by_vm):
    """Make the ports of these VMs (vm pk -> its NicInfo list, empty for a VM that is gone) what
    their XML says, in a handful of queries whatever their number; tell the pages of the
    networks (and the diagram) whose VMs changed."""
    if not nics_by_vm:
        return False
    rows = {(p.vm_id, p.mac): p for p in Port.objects.select_for_update().filter(vm_id__in=list(nics_by_vm))}
    wanted = {(vm_id, n.mac): n for vm_id, nics in nics_by_vm.items() for n in nics}
    touched = set()
    create, update = [], []
    for key, nic in wanted.items():
        row = rows.get(key)
        values = {f: getattr(nic, f) for f in PORT_FIELDS}
        if row is None:
            create.append(Port(vm_id=key[0], host=host, mac=key[1], **values))
        elif any(getattr(row, f) != v for f, v in values.items()) or row.host_id != host.pk:
            touched.add((row.kind, row.source))
            for f, v in values.items():
                setattr(row, f, v)
            row.host = host
            update.append(row)
        else:
            continue
        touched.add((nic.kind, nic.source))
    gone = [row for key, row in rows.items() if key not in wanted]
    touched.update((row.kind, row.source) for row in gone)
    if create:
        Port.objects.bulk_create(create)
    if update:
        Port.objects.bulk_update(update, [*PORT_FIELDS, "host"])
    if gone:
        Port.objects.filter(pk__in=[row.pk for row in gone]).delete()
    if not touched:
        return False
    names = {source for kind, source in touched if kind == "network"}
    for net in VirtualNetwork.objects.filter(host=host, name__in=names, present=True):
        publish_network_change(net, "ports")
    publish_wiring(host.pk)
    return True


def publish_vm_wiring(vm):
    """A VM's state colours its box in the diagram: tell the host's diagram when a VM with NICs
    changed (one query; diagrams debounce the re-reads)."""
    if Port.objects.filter(vm_id=vm.pk).exists():
        publish_wiring(vm.host_id)

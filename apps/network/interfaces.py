"""A host's interfaces in the inventory: synced by the monitor on connect and once a minute
(interfaces have no libvirt events), read by the interfaces page, the wiring diagram and the
network forms."""

from dataclasses import asdict
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from apps.hosts import monitor

from .models import HostInterface
from .services.inventory import publish_wiring
from .virt.interfaces import list_interfaces

TICK = 60.0  # seconds
FIELDS = (
    "kind",
    "mac",
    "state",
    "speed_mbps",
    "mtu",
    "driver",
    "addresses",
    "master",
    "vlan_id",
    "parent",
    "sriov_total",
    "sriov_used",
    "pci_address",
)
# Not offered as forward devices or macvtap lowers: they come and go with the VMs, or go nowhere.
NOT_OFFERED = ("loopback", "tap", "macvtap")


def is_local(host):
    """This machine: qemu:///system or session, or a test driver reached through the local
    daemon's socket (test+unix:///…), whose daemon runs here."""
    parts = urlsplit(host.uri)
    return host.is_local or (parts.scheme == "test+unix" and not parts.netloc)


def _values(info):
    values = asdict(info)
    values["addresses"] = list(values["addresses"])
    return {f: values[f] for f in FIELDS}


@transaction.atomic
def interfaces_sync(*, host, infos):
    """Make the host's rows what the listing says, touching only what changed; True (and the
    diagram told, after commit) if anything did."""
    rows = {r.name: r for r in HostInterface.objects.select_for_update().filter(host=host)}
    seen = {i.name: _values(i) for i in infos}
    create, update = [], []
    now = timezone.now()
    for name, values in seen.items():
        row = rows.get(name)
        if row is None:
            create.append(HostInterface(host=host, name=name, **values))
        elif any(getattr(row, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(row, f, v)
            row.updated_at = now  # bulk_update leaves auto_now alone
            update.append(row)
    gone = [r.pk for name, r in rows.items() if name not in seen]
    if create:
        HostInterface.objects.bulk_create(create)
    if update:
        HostInterface.objects.bulk_update(update, [*FIELDS, "updated_at"])
    if gone:
        HostInterface.objects.filter(pk__in=gone).delete()
    changed = bool(create or update or gone)
    if changed:
        publish_wiring(host.pk)
    return changed


@monitor.on_connect
@monitor.on_tick(every=TICK)
def sync_interfaces(host, conn):
    interfaces_sync(host=host, infos=list_interfaces(conn, local=is_local(host)))


def interface_names(host):
    """Names of the host's interfaces a network can forward through or put macvtap devices on
    (its NICs, bonds, VLANs, bridges; not loopback nor the VMs' own taps)."""
    return list(
        HostInterface.objects.filter(host=host)
        .exclude(kind__in=NOT_OFFERED)
        .order_by("name")
        .values_list("name", flat=True)
    )

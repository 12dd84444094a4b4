"""NICs on the worker: add, remove, link up/down (services/nics.py queues them)."""

from apps.compute.models import VirtualMachine
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.services.nics import check_source_right
from apps.compute.virt import domains, nics
from apps.compute.virt.xml import Interface
from apps.hosts.virt import connection
from apps.operations.runners import runner

from .disks import VM_RELATED, devices_changed


def _source_right(op, vm):
    """The right on what a new NIC connects to, again (services/nics.py)."""
    if op.kind == "vm.nic_add":
        check_source_right(op.actor, vm.host, op.params["kind"], op.params["source"])


@runner(
    "vm.nic_add",
    "vm.nic_remove",
    "vm.nic_link",
    permission="vm.edit",
    target=VirtualMachine,
    related=VM_RELATED,
    policy=_source_right,
)
def nic(op, vm):
    p = op.params
    uuid = str(vm.uuid)
    with connection.connected(vm.host.uri) as conn:
        if op.kind == "vm.nic_add":
            iface = Interface(kind=p["kind"], source=p["source"], model=p["model"], mac=p["mac"], mode=p["mode"])
            mac = nics.attach(conn, uuid, iface.validate(), live=p["live"], config=p["config"])
            message = f"{p['model']} NIC {mac} on {p['kind']} {p['source']} added to {vm.name}"
        elif op.kind == "vm.nic_remove":
            nics.detach(conn, uuid, p["mac"], live=p["live"], config=p["config"])
            message = f"NIC {p['mac']} removed from {vm.name}"
            if p["live"] and p["mac"] in {n.mac for n in nics.list_nics(conn, uuid)}:
                # QEMU unplugs a PCI NIC only when the guest lets it go (ACPI hot-unplug).
                message += "; the running guest has not released it yet, it goes when the guest does"
        else:
            nics.set_link(conn, uuid, p["mac"], p["state"], live=p["live"], config=p["config"])
            message = f"link of NIC {p['mac']} of {vm.name} is {p['state']}"
        # The inventory's ports now, not at the next event: libvirt announces no change of a
        # saved definition's devices (a NIC added to a VM that is off), and a NIC's live link
        # state has no event either.
        vm_inventory_apply(host=vm.host, uuid=uuid, info=domains.domain_info(conn, uuid))
    devices_changed(vm)
    return message


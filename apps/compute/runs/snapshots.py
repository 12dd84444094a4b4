"""Snapshots on the worker: take, revert, delete (services/snapshots.py queues them)."""

from apps.compute.models import VirtualMachine
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.virt import domains, snapshots
from apps.core import realtime
from apps.hosts.virt import connection
from apps.operations.runners import runner


@runner(
    "vm.snapshot_create",
    "vm.snapshot_revert",
    "vm.snapshot_delete",
    permission="vm.snapshot",
    target=VirtualMachine,
    related=["host"],
)
def snapshot(op, vm):
    p, uuid = op.params, str(vm.uuid)
    with connection.connected(vm.host.uri) as conn:
        if p["op"] == "create":
            info = snapshots.create(conn, uuid, name=p["name"], description=p["description"], external=p["external"])
            kind = "external disk-only" if info.external else "internal"
            memory = " with the guest's memory" if info.memory else ""
            message = f"{kind} snapshot {info.name} of {vm.name} taken{memory}"
        elif p["op"] == "revert":
            snapshots.revert(conn, uuid, p["name"])
            message = f"{vm.name} reverted to snapshot {p['name']}"
        else:
            snapshots.delete(conn, uuid, p["name"])
            message = f"snapshot {p['name']} of {vm.name} deleted"
        vm_inventory_apply(host=vm.host, uuid=uuid, info=domains.domain_info(conn, uuid))
    realtime.publish_on_commit(realtime.host_group(vm.host_id), "vm", id=vm.pk, change="snapshots")
    return message


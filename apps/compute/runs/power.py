"""vm.start, vm.shutdown, vm.reboot, vm.destroy, vm.suspend, vm.resume (services/power.py queues them)."""

from apps.compute.models import VirtualMachine
from apps.compute.services.inventory import vm_inventory_apply
from apps.compute.services.power import POWER_ACTIONS
from apps.compute.virt import domains
from apps.hosts.virt import connection
from apps.operations.runners import runner


@runner(*(f"vm.{action}" for action in POWER_ACTIONS), permission="vm.power", target=VirtualMachine, related=["host"])
def power(op, vm):
    action = op.params["action"]
    with connection.connected(vm.host.uri) as conn:
        domains.power(conn, str(vm.uuid), action)
        vm_inventory_apply(host=vm.host, uuid=str(vm.uuid), info=domains.domain_info(conn, str(vm.uuid)))
    return f"{vm.name} {POWER_ACTIONS[action]}"

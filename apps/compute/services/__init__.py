"""Every change to a VM goes through here: views, commands and runners call these services, nothing
else writes VMs or calls the compute adapters for a change. One module per area."""

# Every module, so that importing any service (as every runner does) registers every audit action
# in this process, the worker's included.
from . import bulk, clone, create, create_xml, delete, disks, display, nics, settings, snapshots, xmledit  # noqa: F401
from .disks import vm_disk_attach, vm_disk_detach
from .inventory import vm_inventory_apply, vm_inventory_sync
from .power import POWER_ACTIONS, vm_power

__all__ = [
    "POWER_ACTIONS",
    "vm_disk_attach",
    "vm_disk_detach",
    "vm_inventory_apply",
    "vm_inventory_sync",
    "vm_power",
]

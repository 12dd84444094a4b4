"""Tasks of the devices area: disks made on a pool, live resize, CD-ROM media, NICs (see
apps/compute/services/disks.py, cdrom.py, nics.py). Attach/detach of existing volumes stays in
core.vm_disk_task."""

from celery import shared_task

from apps.compute.services.cdrom import vm_cdrom_execute
from apps.compute.services.disks import vm_disk_change_execute
from apps.compute.services.nics import vm_nic_execute
from apps.operations.services import operation_run


@shared_task(name="compute.vm_disk_change")
def vm_disk_change_task(operation_id):
    operation_run(operation_id, vm_disk_change_execute)


@shared_task(name="compute.vm_cdrom")
def vm_cdrom_task(operation_id):
    operation_run(operation_id, vm_cdrom_execute)


@shared_task(name="compute.vm_nic")
def vm_nic_task(operation_id):
    operation_run(operation_id, vm_nic_execute)

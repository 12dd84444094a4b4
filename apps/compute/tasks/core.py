from celery import shared_task

from apps.compute.services.disks import vm_disk_execute
from apps.compute.services.power import vm_power_execute
from apps.operations.services import operation_run


@shared_task(name="compute.vm_power")
def vm_power_task(operation_id):
    operation_run(operation_id, vm_power_execute)


@shared_task(name="compute.vm_disk")
def vm_disk_task(operation_id):
    operation_run(operation_id, vm_disk_execute)

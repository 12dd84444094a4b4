"""Tasks of the create area: thin, the work is in apps/compute/services/create_run.py."""

from celery import shared_task

from apps.compute.services.create_run import vm_create_execute, vm_define_execute
from apps.operations.services import operation_run


@shared_task(name="compute.vm_create")
def vm_create_task(operation_id):
    operation_run(operation_id, vm_create_execute)


@shared_task(name="compute.vm_define")
def vm_define_task(operation_id):
    operation_run(operation_id, vm_define_execute)

"""Tasks of the state area: snapshots, settings, XML edits (see apps/compute/services/)."""

from celery import shared_task

from apps.compute.services.settings import vm_settings_execute
from apps.compute.services.snapshots import vm_snapshot_execute
from apps.compute.services.xmledit import vm_xml_execute
from apps.operations.services import operation_run


@shared_task(name="compute.vm_snapshot")
def vm_snapshot_task(operation_id):
    operation_run(operation_id, vm_snapshot_execute)


@shared_task(name="compute.vm_settings")
def vm_settings_task(operation_id):
    operation_run(operation_id, vm_settings_execute)


@shared_task(name="compute.vm_xml")
def vm_xml_task(operation_id):
    operation_run(operation_id, vm_xml_execute)

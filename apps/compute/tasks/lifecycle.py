"""Tasks of the lifecycle area: clone and delete (see apps/compute/services/clone.py, delete.py)."""

from celery import shared_task

from apps.compute.services.clone import CLONE_TIME_LIMIT
from apps.compute.services.clone_run import vm_clone_execute
from apps.compute.services.delete import vm_delete_execute
from apps.operations.services import operation_run


# Copying big disks outlasts the default task limit; the operation declares this limit in its
# params (time_limit), which the stale-operation reaper honours.
@shared_task(name="compute.vm_clone", soft_time_limit=CLONE_TIME_LIMIT, time_limit=CLONE_TIME_LIMIT + 60)
def vm_clone_task(operation_id):
    operation_run(operation_id, vm_clone_execute)


@shared_task(name="compute.vm_delete")
def vm_delete_task(operation_id):
    operation_run(operation_id, vm_delete_execute)

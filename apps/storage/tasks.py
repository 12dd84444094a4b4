from celery import shared_task

from apps.operations.services import operation_run

from .services import pools


@shared_task(name="storage.pool_create")
def pool_create_task(operation_id):
    operation_run(operation_id, pools.pool_create_execute)


@shared_task(name="storage.pool_action")
def pool_action_task(operation_id):
    operation_run(operation_id, pools.pool_action_execute)

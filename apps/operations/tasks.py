from celery import shared_task

from .services import RUN_TASK, operation_run, operations_reap_stale


@shared_task(name=RUN_TASK)
def run(operation_id):
    """The one task for every operation: the runner is found by the operation's kind."""
    operation_run(operation_id)


@shared_task(name="operations.reap_stale")
def reap_stale():
    return operations_reap_stale()

from celery import shared_task

from .services import operations_reap_stale


@shared_task(name="operations.reap_stale")
def reap_stale():
    return operations_reap_stale()

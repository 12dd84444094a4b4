from celery import shared_task

from apps.operations.services import operation_run

from .services import pools


@shared_task(name="storage.pool_create")
def pool_create_task(operation_id):
    operation_run(operation_id, pools.pool_create_execute)


@shared_task(name="storage.pool_action")
def pool_action_task(operation_id):
    operation_run(operation_id, pools.pool_action_execute)


# -- secrets (apps/storage/services/secrets.py): ids only; the value waits in Redis for the worker


@shared_task(name="storage.secret_define")
def secret_define_task(operation_id):
    from .services import secrets

    operation_run(operation_id, secrets.secret_define_execute)


@shared_task(name="storage.secret_set_value")
def secret_set_value_task(operation_id):
    from .services import secrets

    operation_run(operation_id, secrets.secret_set_value_execute)


@shared_task(name="storage.secret_delete")
def secret_delete_task(operation_id):
    from .services import secrets

    operation_run(operation_id, secrets.secret_delete_execute)


# -- volumes (apps/storage/services/volumes.py and transfer.py): ids only, like every task.
# Transfers run as long as the data keeps coming (a stall ends them sooner), so they carry their
# own limit; it equals services.transfer.TIME_LIMIT, which the reaper honours.
TRANSFER_TIME_LIMIT = 24 * 3600


@shared_task(name="storage.volume")
def volume_task(operation_id):
    from .services import volumes

    operation_run(operation_id, volumes.volume_execute)


@shared_task(name="storage.volume_upload", soft_time_limit=TRANSFER_TIME_LIMIT, time_limit=TRANSFER_TIME_LIMIT + 60)
def volume_upload_task(operation_id):
    from .services import transfer

    operation_run(operation_id, transfer.volume_upload_execute)


@shared_task(name="storage.volume_download", soft_time_limit=TRANSFER_TIME_LIMIT, time_limit=TRANSFER_TIME_LIMIT + 60)
def volume_download_task(operation_id):
    from .services import transfer

    operation_run(operation_id, transfer.volume_download_execute)

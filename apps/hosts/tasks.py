from dataclasses import asdict

from celery import shared_task

from apps.core.errors import VirtError

from .services.connection_test import CONNECTION_TEST_TASK, connection_test_reply
from .virt.probe import probe


@shared_task(name=CONNECTION_TEST_TASK, soft_time_limit=60, time_limit=90)
def host_connection_test(uri, reply_key):
    """Open the URI once for the host form waiting on `reply_key` (see services.connection_test)."""
    try:
        info = probe(uri)
    except VirtError as exc:
        connection_test_reply(reply_key, {"ok": False, "error": str(exc)})
    else:
        connection_test_reply(reply_key, {"ok": True, "info": asdict(info)})

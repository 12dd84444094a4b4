"""The connection test behind the host form: a worker opens the URI once and answers through a
one-time Redis list the request waits on."""

import json
import uuid
from functools import lru_cache

import redis
from celery import current_app
from django.conf import settings

from apps.core.queues import DEFAULT

from .errors import HostError

# How long the form waits for a worker to open the connection. libvirt gives up sooner on a
# refused port or a rejected key; an address that never answers takes the TCP timeout, and the
# form says the test did not finish rather than keeping the browser waiting for minutes.
TEST_TIMEOUT = 15


TEST_REPLY_PREFIX = "kvmweb:host-test:"


CONNECTION_TEST_TASK = "hosts.connection_test"


@lru_cache
def _redis(url):
    return redis.Redis.from_url(url)


def connection_test(uri, *, timeout=TEST_TIMEOUT):
    """Open `uri` once on a worker and return the facts it read (a dict), or raise HostError with
    libvirt's own message.

    Why a worker, and why the form waits for it: the web process never calls libvirt, and the
    worker is where the host's connections will live (its key, its known_hosts). Someone adding a
    hypervisor in Proxmox or oVirt expects to hear at once that the key was refused or the name
    does not resolve, on the form they can still correct, rather than find a host "down" later;
    so the answer comes back through a one-time Redis list the request blocks on for a few seconds.
    The task expires with the wait, so a busy worker does not test a host nobody waits for.
    """
    key = TEST_REPLY_PREFIX + uuid.uuid4().hex
    # By name: services never import tasks (the worker registers hosts.tasks).
    current_app.send_task(CONNECTION_TEST_TASK, args=[uri, key], queue=DEFAULT, expires=timeout)
    answer = _redis(settings.REDIS_URL).blpop([key], timeout=timeout)
    if answer is None:
        raise HostError(
            f"The connection test did not finish within {timeout} s: the host does not answer, or no worker is running."
        )
    result = json.loads(answer[1])
    if not result["ok"]:
        raise HostError(f"Could not connect: {result['error']}")
    return result["info"]


def connection_test_reply(key, result):
    """Called by the worker with {"ok": …, "info" | "error": …}."""
    r = _redis(settings.REDIS_URL)
    r.rpush(key, json.dumps(result))
    r.expire(key, TEST_TIMEOUT * 2)

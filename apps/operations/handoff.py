"""A write-only value's one trip to the worker (a secret's value, a VNC password).

It must reach the worker, yet never be stored in the database, in an audit row, in the Celery
message or in a log. It travels through Redis under a random one-time key that expires after
VALUE_TTL seconds; only that key's token goes into the Operation's params (under a name ending
in "key", which the audit scrubber masks), and the worker takes the value with GETDEL, so it is
read exactly once. Encrypting the value into the params with a key derived from SECRET_KEY was
the alternative, and was refused: the ciphertext would then live in every database backup for
ever, readable by anyone who later obtains SECRET_KEY, while a Redis entry is gone after one use
or five minutes.
"""

import secrets as tokens
from functools import lru_cache

import redis
from django.conf import settings
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from apps.core.errors import OperationError

VALUE_TTL = 300  # seconds a value waits in Redis for its worker before it is dropped
VALUE_PREFIX = "kvmweb:secret-value:"


@lru_cache(maxsize=4)
def _redis(url):
    return redis.Redis.from_url(url)


@sensitive_variables("raw")
def stash_on_commit(raw):
    """A fresh token for the value; the value is written to Redis only once the Operation is
    committed (a rolled-back request leaves nothing behind), and before its task is sent, since
    on_commit callbacks run in the order they were registered."""
    token = tokens.token_urlsafe(32)
    transaction.on_commit(lambda: _redis(settings.REDIS_URL).set(VALUE_PREFIX + token, raw, ex=VALUE_TTL))
    return token


def discard(token):
    _redis(settings.REDIS_URL).delete(VALUE_PREFIX + token)


def claim(token):
    raw = _redis(settings.REDIS_URL).getdel(VALUE_PREFIX + token)
    if raw is None:
        raise OperationError(
            f"The value was not picked up within {VALUE_TTL // 60} minutes and has been discarded; set it again."
        )
    return raw


# -- an answer the request waits for ------------------------------------------------------------

REPLY_PREFIX = "kvmweb:reply:"


def reply_key():
    return REPLY_PREFIX + tokens.token_urlsafe(16)


def reply(key, answer: str, *, ttl=60):
    """The worker's answer to a request that waits for it (see wait_reply)."""
    r = _redis(settings.REDIS_URL)
    r.rpush(key, answer)
    r.expire(key, ttl)


def wait_reply(key, timeout):
    """The answer pushed to `key`, or None after `timeout` seconds."""
    answer = _redis(settings.REDIS_URL).blpop([key], timeout=timeout)
    return None if answer is None else answer[1].decode()

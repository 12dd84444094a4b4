"""Who is asking, from where: carried from the request (or an Operation) to the audit records.

A context variable rather than a function argument, because the same services run in views,
Celery tasks and management commands, and only the first has a request.
"""

import contextvars
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    source_ip: str | None = None
    user_agent: str = ""


_current = contextvars.ContextVar("kvmweb_request_context", default=RequestContext())  # noqa: B039 (frozen, immutable)


def current() -> RequestContext:
    return _current.get()


def use(ctx: RequestContext):
    """Set the context for a block of work outside a request (a task, a command)."""
    return _current.set(ctx)


def reset(token):
    _current.reset(token)


@contextmanager
def using(ctx: RequestContext):
    """use() for a block."""
    token = use(ctx)
    try:
        yield ctx
    finally:
        reset(token)


def client_ip(meta) -> str | None:
    remote = meta.get("REMOTE_ADDR") or None
    header = getattr(settings, "KVMWEB_PROXY_IP_HEADER", "")
    trusted = set(getattr(settings, "KVMWEB_TRUSTED_PROXIES", ()))
    # A forwarded-for header is only believed when the direct peer is a proxy we trust, and then
    # read from the right: each proxy appends the address it saw, and anything left of the last
    # trusted hop may have been written by the client itself.
    if not (header and remote in trusted and meta.get(header)):
        return remote
    for hop in reversed([h.strip() for h in meta[header].split(",") if h.strip()]):
        if hop not in trusted:
            return hop
    return remote


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ctx = RequestContext(
            request_id=request.headers.get("X-Request-ID") or uuid.uuid4().hex,
            source_ip=client_ip(request.META),
            user_agent=request.headers.get("User-Agent", "")[:300],
        )
        token = _current.set(ctx)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = ctx.request_id
        return response

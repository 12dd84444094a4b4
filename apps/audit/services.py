"""Writing audit records. Services call these explicitly; nothing is recorded from signals,
because Celery work and the monitor have no request to hang a signal on."""

import ipaddress

from django.db import connection, transaction
from django.utils import timezone

from apps.authz.rights import may
from apps.core import context, realtime

from . import chain, registry
from .models import AuditEvent, Outcome
from .scrub import scrub

# pg_advisory_xact_lock key that serializes audit writers ("kvmaudit" in ASCII, as an int).
CHAIN_LOCK = 0x6B766D6175646974
LIVE_GROUP = "audit"


def _target_fields(target):
    if target is None:
        return {}
    fields = target.audit_target()
    return {k: fields.get(k) for k in ("target_type", "target_id", "target_name", "host_id", "host_name")}


def _clean_ip(value):
    """An unparsable address (a misconfigured proxy header) is dropped rather than failing the action."""
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def _fit(event):
    """Cut text to its column's size (a long X-Request-ID header, a long name) so that recording
    never fails the action it records — and so the hash covers exactly what is stored."""
    for field in event._meta.concrete_fields:
        value = getattr(event, field.attname)
        if field.max_length and isinstance(value, str) and len(value) > field.max_length:
            setattr(event, field.attname, value[: field.max_length])


def lock_chain():
    """Make this transaction the only audit writer until it ends. SQLite needs nothing: it
    allows one writing transaction at a time already (and kvmweb opens them IMMEDIATE)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])


def diff(before, after):
    """The changes of an edit as {field: {"before": …, "after": …}}, only for fields that differ.
    record() scrubs it like params, so a changed password shows as changed, never as a value."""
    keys = sorted(set(before) | set(after), key=str)
    return {k: {"before": before.get(k), "after": after.get(k)} for k in keys if before.get(k) != after.get(k)}


def record(action, outcome, *, actor=None, target=None, params=None, changes=None, error="", operation=None):
    registry.get(action)  # unknown codes fail loudly in tests rather than silently in production
    ctx = context.current()
    if operation is not None and not ctx.request_id:
        # Outcome records written by a worker inherit the request that asked for the work.
        ctx = context.RequestContext(operation.request_id, operation.source_ip, operation.user_agent)
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    fields = _target_fields(target)
    fields["target_id"] = str(fields.get("target_id") or "")
    fields = {k: v if v is not None or k == "host_id" else "" for k, v in fields.items()}
    event = AuditEvent(
        actor=user,
        actor_name=user.get_username() if user else "",
        source_ip=_clean_ip(ctx.source_ip),
        user_agent=ctx.user_agent,
        request_id=ctx.request_id,
        action=action,
        outcome=outcome,
        params=scrub(params or {}),
        changes=scrub(changes or {}),
        error=error or "",
        operation_id=operation.pk if operation is not None else None,
        **fields,
    )
    _fit(event)
    with transaction.atomic():
        lock_chain()
        last = AuditEvent.objects.order_by("-id").values_list("hash", "time").first()
        prev_hash, last_time = last or ("", None)
        now = timezone.now()
        # A clock stepping back must not make time run backwards in id order (time filters rely on it).
        event.time = max(now, last_time) if last_time else now
        event.prev_hash = prev_hash
        event.hash = chain.row_hash(prev_hash, event)
        event.save(force_insert=True)
        realtime.publish_on_commit(LIVE_GROUP, "audit", id=event.pk)
    return event


class _Unseen:
    """A target named by id only: a refusal must not tell the user the name of an object (or of
    its host) they may not see, in their own "denied" rows or anywhere else."""

    def __init__(self, fields, show_host):
        self.fields = {
            **fields,
            "target_name": f"#{fields.get('target_id') or '?'}",
            "host_name": fields.get("host_name")
            if show_host
            else (f"#{fields['host_id']}" if fields.get("host_id") else ""),
        }

    def audit_target(self):
        return self.fields


def _as_seen_by(actor, target):
    from .selectors import view_permission

    if target is None or not hasattr(target, "authz_scopes"):
        return target
    fields = target.audit_target()
    permission = view_permission(fields.get("target_type"))
    if permission is None or may(actor, permission, target):
        return target
    host_id = fields.get("host_id")
    show_host = host_id is not None and may(actor, "host.view", _HostScope(host_id))
    return _Unseen(fields, show_host)


class _HostScope:
    def __init__(self, host_id):
        self.host_id = host_id

    def authz_scopes(self):
        return [("host", self.host_id)]


def record_denied(*, actor, permission, target=None, attempt="", reason=""):
    target = _as_seen_by(actor, target)
    params = {"permission": permission, **({"attempt": attempt} if attempt else {})}
    return record("auth.denied", Outcome.DENIED, actor=actor, target=target, params=params, error=reason)

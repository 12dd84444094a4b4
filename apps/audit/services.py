"""Writing audit records. Services call these explicitly; nothing is recorded from signals,
because Celery work and the monitor have no request to hang a signal on."""

from apps.core import context

from . import registry
from .models import AuditEvent, Outcome
from .scrub import scrub


def _target_fields(target):
    if target is None:
        return {}
    fields = target.audit_target()
    return {k: fields.get(k) for k in ("target_type", "target_id", "target_name", "host_id", "host_name")}


def record(action, outcome, *, actor=None, target=None, params=None, error="", operation=None):
    registry.get(action)  # unknown codes fail loudly in tests rather than silently in production
    ctx = context.current()
    if operation is not None and not ctx.request_id:
        # Outcome records written by a worker inherit the request that asked for the work.
        ctx = context.RequestContext(operation.request_id, operation.source_ip, operation.user_agent)
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    fields = _target_fields(target)
    fields["target_id"] = str(fields.get("target_id") or "")
    fields = {k: v if v is not None or k == "host_id" else "" for k, v in fields.items()}
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user else "",
        source_ip=ctx.source_ip,
        user_agent=ctx.user_agent,
        request_id=ctx.request_id,
        action=action,
        outcome=outcome,
        params=scrub(params or {}),
        error=error or "",
        operation_id=operation.pk if operation is not None else None,
        **fields,
    )


def record_denied(*, actor, permission, target=None):
    return record("auth.denied", Outcome.DENIED, actor=actor, target=target, params={"permission": permission})

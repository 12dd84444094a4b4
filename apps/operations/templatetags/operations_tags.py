from django import template

from apps.audit import registry as audit_actions
from apps.operations import labels

register = template.Library()


@register.filter
def op_label(op):
    return labels.label(op.kind)


@register.filter
def op_target_url(op):
    return labels.target_url(op)


@register.filter
def op_badge(status):
    return {"queued": "secondary", "running": "info", "succeeded": "success", "failed": "danger", "lost": "danger"}.get(
        str(status), "warning"
    )


@register.filter
def action_sentence(code):
    """The audit registry's sentence for an action ("took a snapshot of VM"), or the code."""
    try:
        return audit_actions.get(code).label
    except KeyError:
        return code

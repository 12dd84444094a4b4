"""Template helpers of the audit log; how a record reads is apps.audit.present."""

from django import template
from django.utils.text import slugify

from apps.audit import present
from apps.audit.models import AuditEvent, Outcome

register = template.Library()


@register.simple_tag
def activity_dom_id(target_type, target_id):
    """The id of an Activity list on a page, shared by the partial and the live tail."""
    return f"activity-rows-{slugify(target_type)}-{slugify(str(target_id))}"


@register.simple_tag
def live_line(event):
    """The line for a record pushed live. An outcome record comes with its request, so the line
    that showed "requested" now shows how it ended; the two share target and actor, so whoever may
    read one may read the other."""
    if event.operation_id and event.outcome in present.FINAL:
        request = AuditEvent.objects.filter(operation_id=event.operation_id, outcome=Outcome.REQUESTED).first()
        if request is not None:
            return present.line(request, event)
    return present.line(event)

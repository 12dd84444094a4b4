"""Showing params and changes readably: strings as they are, anything else as compact JSON."""

import json

from django import template
from django.utils.text import slugify

from apps.audit import registry
from apps.audit.scrub import MASK

register = template.Library()


@register.filter
def audit_value(value):
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@register.filter
def action_label(code):
    try:
        return registry.get(code).label
    except KeyError:
        return ""


@register.filter
def change_rows(changes):
    """(field, before, after) for each change; a masked (secret) change shows as changed only."""
    rows = []
    for field, change in (changes or {}).items():
        if change == MASK:
            rows.append((field, "***", "***"))
        elif isinstance(change, dict) and {"before", "after"} >= set(change):
            rows.append((field, audit_value(change.get("before")), audit_value(change.get("after"))))
        else:
            rows.append((field, "", audit_value(change)))
    return rows


@register.simple_tag
def activity_dom_id(target_type, target_id):
    """The id of an Activity list on a page, shared by the partial and the live tail."""
    return f"activity-rows-{slugify(target_type)}-{slugify(str(target_id))}"

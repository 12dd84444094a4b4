"""What an empty list tells the user about their own rights.

{% load access %}
{% empty_list "host.view" "hosts" %}      in a list's empty row
"""

from django import template
from django.template.loader import render_to_string

from apps.authz.granters import granters, has_no_access
from apps.authz.rights import rights

register = template.Library()


@register.simple_tag(takes_context=True)
def empty_list(context, permission, noun):
    """The empty row's sentence: "No hosts yet." for someone who sees everything, "No hosts
    that you may see." for someone with some access, and for an account with no grants at all
    that it has no access yet and who can grant it."""
    request = context.get("request")
    if request is None:  # rendered outside a request (a live fragment): no one to word it for
        return f"No {noun}."
    user = request.user
    return render_to_string(
        "errors/_empty_list.html",
        {
            "noun": noun,
            "everything": rights(user, permission).everything,
            "no_access": has_no_access(user),
            "granters": granters() if has_no_access(user) else [],
        },
    )

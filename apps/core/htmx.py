"""The one place that decides between a full page and a named partial of the same template."""

from django.shortcuts import render


def render_page(request, template_name, context, partial=None, status=200):
    """Render the full page, or for an htmx request the template's named partial."""
    name = template_name
    if partial and getattr(request, "htmx", False) and not request.htmx.boosted:
        name = f"{template_name}#{partial}"
    return render(request, name, context, status=status)

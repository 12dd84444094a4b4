"""The one place that decides between a full page and a named partial of the same template."""

from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def render_page(request, template_name, context, partial=None, status=200):
    """Render the full page, or for an htmx request the template's named partial."""
    name = template_name
    if partial and getattr(request, "htmx", False) and not request.htmx.boosted:
        name = f"{template_name}#{partial}"
    response = render(request, name, context, status=status)
    # The same URL answers a full page or a partial by the HX-Request header: without Vary the
    # browser's cache may hand the bare partial back for Back after a live re-read.
    patch_vary_headers(response, ("HX-Request",))
    return response

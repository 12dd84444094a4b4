"""The refusal and not-found pages (settings' handler403 / handler404): in the app's layout, with
the reason in plain words, who can grant access, and a way back.

A 404 says the same whatever was asked for, so a page the user may not see (answered 404 by the
views) cannot be told from one that does not exist.
"""

from django.http import HttpResponse
from django.shortcuts import render

from .granters import granters

FORBIDDEN = "You may not do that here."


def _answer(request, template, status, context):
    if getattr(request, "htmx", False) and not request.htmx.boosted:
        # A fragment request shows the reason in place (kvmweb.js); a whole page would not fit.
        return HttpResponse(context["reason"], status=status, content_type="text/plain; charset=utf-8")
    user = getattr(request, "user", None)  # absent when a middleware above auth refused first
    context["granters"] = granters() if user is not None and user.is_authenticated else []
    return render(request, template, context, status=status)


def forbidden(request, exception=None):
    # PermissionDenied carries the sentence authorize() wrote ("You may not … here."), which names
    # the missing right in the catalogue's words.
    reason = str(exception) if exception and str(exception) else FORBIDDEN
    return _answer(request, "errors/403.html", 403, {"title": "Not allowed", "reason": reason})


def not_found(request, exception=None):
    return _answer(
        request,
        "errors/404.html",
        404,
        {"title": "Not found", "reason": "There is nothing here that your account may see."},
    )

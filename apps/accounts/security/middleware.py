"""Administrators without a second factor go to the enrolment page, when the deployment says so."""

import time

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from . import services

CHECKED_SESSION_KEY = "kvmweb_2fa_checked_at"
# A passed check is trusted for this long, so a page costs no queries for it; a grant of the
# Administrator role (or a removed device) is noticed within this time.
RECHECK_SECONDS = 300
# Where such a user may still go: their own security pages, and out.
ALLOWED_NAMESPACES = {"security"}
ALLOWED_NAMES = {"login", "logout"}


class RequireSecondFactorMiddleware:
    """With KVMWEB_REQUIRE_2FA_FOR_ADMINS on, a superuser or global Administrator who has not
    enrolled a TOTP device can only reach the enrolment page (and log out) until they do.

    It costs nothing when the setting is off. WebSocket connections do not pass through here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.KVMWEB_REQUIRE_2FA_FOR_ADMINS or not request.user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and (match.namespace in ALLOWED_NAMESPACES or match.url_name in ALLOWED_NAMES):
            return None
        checked = request.session.get(CHECKED_SESSION_KEY)
        if checked is not None and 0 <= time.time() - checked < RECHECK_SECONDS:
            return None
        if not services.must_enrol(request.user):
            request.session[CHECKED_SESSION_KEY] = time.time()
            return None
        url = reverse("security:setup")  # which says why
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(url)
        return redirect(url)


def forget_check(request):
    """After a device is added or removed, check again on the next page."""
    request.session.pop(CHECKED_SESSION_KEY, None)

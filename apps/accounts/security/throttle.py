"""The glue between django-axes and kvmweb: which address a client has, how a lock-out looks,
and a backend that tolerates authenticate() calls made without a request."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render

from apps.core import context

PENDING_SESSION_KEY = "kvmweb_2fa_pending"


class AxesBackend(AxesStandaloneBackend):
    """axes' lock-out check, skipped when authenticate() is called without a request.

    axes raises in that case. Such calls are in-process only (the test client's login(), a shell,
    a management command): every web login passes its request, so it is throttled. Refusing them
    would break every test that signs in with the test client.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request):
    """The same client address the audit log records, honouring only trusted proxies."""
    return context.client_ip(request.META)


def cool_off_minutes():
    cool_off = settings.AXES_COOLOFF_TIME
    return int(cool_off.total_seconds() // 60) if cool_off else None


def lockout_response(request, original_response=None, credentials=None):
    """The login page with the lock-out message (HTTP 429), instead of axes' bare text."""
    if hasattr(request, "session"):
        request.session.pop(PENDING_SESSION_KEY, None)
    context_ = {"form": AuthenticationForm(request), "lockout": True, "cool_off_minutes": cool_off_minutes()}
    return render(request, "registration/login.html", context_, status=settings.AXES_HTTP_RESPONSE_CODE)

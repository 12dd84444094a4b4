"""Signing in, in one or two steps: the password, then (for users with a device) a code.

Between the steps nobody is logged in: the session only remembers, for a few minutes, which user
gave a right password. So no part of the site (the WebSocket included) sees a half-signed-in user.
"""

import time

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect
from django.utils.crypto import constant_time_compare
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from apps.accounts.security import services
from apps.accounts.security.forms import CodeForm
from apps.accounts.security.receivers import SECOND_FACTOR_ATTR, STAGE_ATTR
from apps.accounts.security.throttle import PENDING_SESSION_KEY
from apps.authz.decorators import public

PENDING_SECONDS = 300


class LoginView(auth_views.LoginView):
    """Django's login, which hands users with a second factor on to the code step."""

    def form_valid(self, form):
        user = form.get_user()
        if not services.has_second_factor(user):
            return super().form_valid(form)
        session = self.request.session
        session.cycle_key()
        session[PENDING_SESSION_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            # Tied to the password and session epoch: changing either cancels the pending login.
            "hash": user.get_session_auth_hash(),
            "next": self.get_success_url(),
            "at": time.time(),
        }
        return redirect("security:login_code")


def _pending(request):
    """The user waiting to give a code, or None when there is none (or it is stale)."""
    data = request.session.get(PENDING_SESSION_KEY)
    if not data:
        return None, None
    user = get_user_model()._default_manager.filter(pk=data.get("user"), is_active=True).first()
    fresh = 0 <= time.time() - data.get("at", 0) < PENDING_SECONDS
    if user is None or not fresh or not constant_time_compare(user.get_session_auth_hash(), data.get("hash", "")):
        request.session.pop(PENDING_SESSION_KEY, None)
        return None, None
    return user, data


@method_decorator([sensitive_post_parameters("otp_token"), never_cache], name="dispatch")
class LoginCodeView(FormView):
    """The second step. Wrong codes count as failed logins for axes (same lock-out) and the audit."""

    template_name = "registration/login_code.html"
    form_class = CodeForm

    def dispatch(self, request, *args, **kwargs):
        self.user, self.pending = _pending(request)
        if self.user is None:
            return redirect("login")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        request = self.request
        credentials = {get_user_model().USERNAME_FIELD: self.user.get_username()}
        if settings.AXES_ENABLED and not AxesProxyHandler.is_allowed(request, credentials):
            request.axes_locked_out = True  # the lock-out page replaces this response (AxesMiddleware)
            return self._failed(form, credentials, "Too many failed attempts.")
        try:
            device = services.verify(self.user, form.cleaned_data["otp_token"])
        except services.SecondFactorError as exc:
            form.add_error("otp_token", str(exc))
            return self.form_invalid(form)
        if device is None:
            return self._failed(form, credentials, "That code is not valid.")
        request.session.pop(PENDING_SESSION_KEY, None)
        self.user.backend = self.pending["backend"]
        setattr(request, SECOND_FACTOR_ATTR, "recovery code" if isinstance(device, StaticDevice) else "totp")
        auth_login(request, self.user)
        otp_login(request, device)
        return redirect(self.pending["next"])

    def _failed(self, form, credentials, message):
        request = self.request
        setattr(request, STAGE_ATTR, "wrong second-factor code")
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            request.session.pop(PENDING_SESSION_KEY, None)
        form.add_error("otp_token", message)
        return self.form_invalid(form)


login = public(LoginView.as_view())
login_code = public(LoginCodeView.as_view())
logout = public(auth_views.LogoutView.as_view())

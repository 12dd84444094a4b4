"""The password asked again before a change a stolen session must not make alone: the password
itself, and enrolling, removing or renewing the second factor.

A wrong password here is a guess like one at the login, so it is counted by django-axes in the
same place (per account and address): after KVMWEB_LOGIN_FAILURE_LIMIT wrong ones these forms and
the login refuse that account from that address for the cool-off time, and a right password clears
the count as a login does. Every refusal is an audit record of the change that was tried, with the
reason only; the lock-out itself is recorded by the receivers as at the login.
"""

import math

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max
from django.http import QueryDict
from django.utils import timezone

from apps.audit.models import Outcome
from apps.audit.services import record

from .receivers import REAUTH_ATTR
from .services import UserTarget

WRONG = "wrong password"
MISSING = "no password given"
LOCKED = "locked out"
MASK = "********"


class PasswordRefused(Exception):
    """The password was not accepted; the message is for the user."""

    def __init__(self, message, *, locked=False):
        super().__init__(message)
        self.locked = locked

    @property
    def status(self):
        return settings.AXES_HTTP_RESPONSE_CODE if self.locked else 400


def confirm_password(request, *, action, password):
    """Return if `password` is the signed-in user's; raise PasswordRefused otherwise.

    `action` is the audit code of the change asked for: refusals are recorded under it. While the
    account is locked out from this address the password is not even compared, so the right one
    is refused too, as at the login.
    """
    user = request.user
    credentials = {get_user_model().USERNAME_FIELD: user.get_username()}
    setattr(request, REAUTH_ATTR, action)
    if _locked(request, credentials):
        _refused(action, user, LOCKED)
        raise PasswordRefused(_locked_message(request, user), locked=True)
    if not password:
        # Not a guess, so not counted; still recorded, as a script posting without it is one.
        _refused(action, user, MISSING)
        raise PasswordRefused("Enter your current password.")
    if user.check_password(password):
        if settings.AXES_ENABLED and settings.AXES_RESET_ON_SUCCESS:
            AxesProxyHandler.reset_attempts(ip_address=request.axes_ip_address, username=user.get_username())
        return
    _refused(action, user, WRONG)  # before the count, so the lock-out's record follows it
    if _count_failure(request, credentials):
        raise PasswordRefused(_locked_message(request, user), locked=True)
    raise PasswordRefused("That is not your current password.")


def _locked(request, credentials):
    return settings.AXES_ENABLED and not AxesProxyHandler.is_allowed(request, credentials)


def _refused(action, user, reason):
    record(action, Outcome.FAILED, actor=user, target=UserTarget(user), params={"reason": reason}, error=reason)


def _count_failure(request, credentials):
    """Count a wrong password as axes counts a failed login; True when this one locks the account."""
    if not settings.AXES_ENABLED:
        return False
    posted = request.POST
    # axes stores the posted fields with each failure and masks only those it knows by name
    # ("password", AXES_SENSITIVE_PARAMETERS); these forms carry passwords as old_password,
    # new_password1 … So it sees the field names only.
    masked = QueryDict(mutable=True)
    for name in posted:
        masked[name] = MASK
    request.POST = masked
    try:
        # axes' own receiver of user_login_failed, called directly: the signal's other receiver
        # would record a failed sign-in, and this is recorded above as the change it was.
        AxesProxyHandler.user_login_failed(sender=__name__, credentials=credentials, request=request)
    finally:
        request.POST = posted
    locked = bool(getattr(request, "axes_locked_out", False))
    # AxesMiddleware would swap this page for the login page's lock-out; the form says it instead.
    request.axes_locked_out = False
    return locked


def minutes_left(request, user):
    """Whole minutes (at least 1) until the lock-out of this account from this address ends, or
    None when it lasts until an administrator lifts it (no cool-off configured)."""
    cool_off = get_cool_off(request)
    if cool_off is None:
        return None
    attempts = AccessAttempt.objects.filter(username=user.get_username(), ip_address=request.axes_ip_address)
    # Failures during a lock-out do not move it (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT),
    # so it ends one cool-off after the failure that caused it.
    last = attempts.aggregate(last=Max("attempt_time"))["last"] or timezone.now()
    return max(1, math.ceil((last + cool_off - timezone.now()).total_seconds() / 60))


def _locked_message(request, user):
    minutes = minutes_left(request, user)
    until = "until an administrator lifts it" if minutes is None else f"for {minutes} more minute{'s' * (minutes != 1)}"
    return (
        "Too many failed attempts: changes that need your password, and signing in to your account "
        f"from your address, are blocked {until}."
    )

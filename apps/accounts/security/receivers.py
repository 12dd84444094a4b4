"""Audit records for signing in and out, hung on Django's and axes' signals.

Signals rather than explicit calls because sign-in happens inside Django's and axes' code
(authenticate(), login(), logout(), the lock-out check), not in a kvmweb service. They fire only in
the web process, which has the request context that gives each record its source address.
"""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import services
from .throttle import cool_off_minutes

# Attributes the login views set on the request to tell these receivers more.
SECOND_FACTOR_ATTR = "kvmweb_second_factor"
STAGE_ATTR = "kvmweb_login_stage"
# Set by reauth.confirm_password: the audit code of the change whose password check failed.
REAUTH_ATTR = "kvmweb_reauth"


@receiver(user_logged_in, dispatch_uid="kvmweb.security.logged_in")
def on_logged_in(sender, request, user, **kwargs):
    services.record_login(user=user, second_factor=getattr(request, SECOND_FACTOR_ATTR, None))


@receiver(user_logged_out, dispatch_uid="kvmweb.security.logged_out")
def on_logged_out(sender, request, user, **kwargs):
    if user is not None:
        services.record_logout(user=user)


def _reason(request):
    # axes' backend marks a request it refused because of an existing lock-out before this signal
    # is sent; a failure that *causes* the lock-out also has its failure count set, by axes' own
    # receiver. Reading both makes the answer independent of which receiver runs first.
    if getattr(request, "axes_locked_out", False) and getattr(request, "axes_failures_since_start", None) is None:
        return "locked out"
    return getattr(request, STAGE_ATTR, None) or "wrong username or password"


@receiver(user_login_failed, dispatch_uid="kvmweb.security.login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    # Only the username is read: Django masks the password in `credentials`, and nothing else
    # in there belongs in the audit log.
    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username") or ""
    services.record_login_failed(username=str(username), reason=_reason(request))


@receiver(user_locked_out, dispatch_uid="kvmweb.security.locked_out")
def on_locked_out(sender, request, username, ip_address, **kwargs):
    # axes sends this on the failure that locks and again on every refused attempt during the
    # lock-out; only the first carries a failure count. Refused attempts are login_failed records.
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None:
        return
    services.record_lockout(
        username=username,
        failures=failures,
        cool_off_minutes=cool_off_minutes(),
        during=getattr(request, REAUTH_ATTR, None),
    )

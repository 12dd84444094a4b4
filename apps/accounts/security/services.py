"""The second factor and the audit records of signing in, one function each.

django-otp keeps the devices: a TOTPDevice is the authenticator app, a StaticDevice holds the
recovery codes as its tokens. Secrets (the TOTP key, the codes) are handed back to the caller to
show once and are never passed to record(): its params land in the audit log, which people read.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import services as account_services
from apps.audit import registry
from apps.audit.models import Outcome
from apps.audit.services import record
from apps.authz.rights import authorize, has_global

for _code, _label in {
    "auth.login": "signed in",
    "auth.login_failed": "failed to sign in",
    "auth.lockout": "locked out after failed sign-ins",
    "auth.logout": "signed out",
    "auth.password_change": "changed their own password",
    "auth.2fa_enabled": "turned on two-factor authentication",
    "auth.2fa_disabled": "turned off two-factor authentication",
    "auth.recovery_codes_regenerated": "made new recovery codes",
    "auth.recovery_code_used": "used a recovery code",
}.items():
    registry.register(_code, _label)

RECOVERY_CODES = 10
TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
MAX_USERNAME = 150  # what is kept of an attempted username: the field's own length


class SecondFactorError(ValueError):
    """A code that cannot be accepted; the message is for the user."""


class UserTarget:
    """An account as an audit target (also for a failed login: whose account was tried)."""

    def __init__(self, user):
        self.user = user

    def audit_target(self):
        return {"target_type": "user", "target_id": self.user.pk, "target_name": self.user.get_username()}


def _target(username):
    User = get_user_model()
    user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first() if username else None
    return UserTarget(user) if user else None


# -- sign-in records (called by the receivers of Django's and axes' signals) ------------------------


def record_login(*, user, second_factor=None):
    record(
        "auth.login", Outcome.SUCCEEDED, actor=user, target=UserTarget(user), params={"second_factor": second_factor}
    )


def record_logout(*, user):
    record("auth.logout", Outcome.SUCCEEDED, actor=user, target=UserTarget(user))


def record_login_failed(*, username, reason):
    """Only the attempted name and why: the password (or code) never reaches this function."""
    username = (username or "")[:MAX_USERNAME]
    params = {"username": username, "reason": reason}
    record("auth.login_failed", Outcome.FAILED, target=_target(username), params=params, error=reason)


def record_lockout(*, username, failures, cool_off_minutes, during=None):
    """`during` is the audit code of the change whose password check locked the account, when it
    was not the login (see reauth)."""
    username = (username or "")[:MAX_USERNAME]
    params = {"username": username, "failures": failures, "cool_off_minutes": cool_off_minutes}
    error = "too many failed sign-ins"
    if during:
        params["during"] = during
        error = "too many wrong passwords"
    record("auth.lockout", Outcome.FAILED, target=_target(username), params=params, error=error)


# -- the signed-in user's own password ----------------------------------------------------------


def password_change(*, actor, user, password):
    """The user's own change, after the view has confirmed the current password (reauth). The
    accounts service sets it (and records user.password, as for an administrator's reset); the
    auth.password_change record completes the form's series, whose refusals reauth records."""
    with transaction.atomic():
        account_services.user_set_password(actor=actor, user=user, password=password)
        record("auth.password_change", Outcome.SUCCEEDED, actor=actor, target=UserTarget(user))


# -- the second factor --------------------------------------------------------------------------


def has_second_factor(user):
    """Whether signing in needs a code: any confirmed device counts."""
    return user_has_device(user, confirmed=True)


def must_enrol(user):
    """Administrators without a device, when the deployment requires them to have one."""
    if not settings.KVMWEB_REQUIRE_2FA_FOR_ADMINS:
        return False
    if not (user.is_superuser or has_global(user, "user.manage")):
        return False
    return not has_second_factor(user)


def recovery_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _normalize(token):
    return "".join(str(token or "").split()).replace("-", "").lower()


def _throttled_message(info):
    until = (info or {}).get("locked_until")
    if until is None:
        return "Too many wrong codes: wait a moment and try again."
    seconds = max(1, int((until - timezone.now()).total_seconds()) + 1)
    return f"Too many wrong codes: wait {seconds} s and try again."


def verify(user, token):
    """The confirmed device that accepts the code, or None. Six digits are checked against the
    authenticator app, anything else against the recovery codes, so a typo does not slow down
    (throttle) the other device; a recovery code that matches is used up and recorded.

    Raises SecondFactorError while django-otp throttles the device after wrong codes.
    """
    token = _normalize(token)
    if not token:
        return None
    model = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    matched = None
    with transaction.atomic():
        # Row locks: two requests cannot both use one recovery code or one TOTP step.
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            allowed, info = device.verify_is_allowed()
            if not allowed:
                # Raised after the block: raising inside would roll back other devices' counts.
                matched = SecondFactorError(_throttled_message(info))
                break
            if device.verify_token(token):
                matched = device
                break
    if isinstance(matched, SecondFactorError):
        raise matched
    if isinstance(matched, StaticDevice):
        record(
            "auth.recovery_code_used",
            Outcome.SUCCEEDED,
            actor=user,
            target=UserTarget(user),
            params={"remaining": matched.token_set.count()},
        )
    return matched


@transaction.atomic
def totp_begin(*, user):
    """The unconfirmed device being set up, made on first call and kept until confirmed, so the
    key stays the same while the user scans it. Not audited: nothing is protected by it yet."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def _new_recovery_codes(user):
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = set()
    while len(codes) < RECOVERY_CODES:
        codes.add(StaticToken.random_token())
    codes = sorted(codes)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    device.confirmed = True
    device.throttle_reset(commit=False)
    device.save()
    return codes


def totp_confirm(*, actor, user, token):
    """Turn two-factor on once the app shows a right code; returns the recovery codes (show once)."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise SecondFactorError("Two-factor authentication is already on.")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        raise SecondFactorError("Start the set-up again: no authenticator is waiting to be confirmed.")
    # Verified outside the transaction below so that a wrong code's throttle count is kept.
    if not device.verify_token(_normalize(token)):
        allowed, info = device.verify_is_allowed()
        raise SecondFactorError(
            "That code is not right: check the clock of the device and try the next one."
            if allowed
            else _throttled_message(info)
        )
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        codes = _new_recovery_codes(user)
        record(
            "auth.2fa_enabled",
            Outcome.SUCCEEDED,
            actor=actor,
            target=UserTarget(user),
            params={"method": "totp", "recovery_codes": len(codes)},
        )
    return device, codes


def _check_code(action, *, actor, user, token):
    """A code proving the person at the keyboard holds the second factor; a wrong one is recorded."""
    if not has_second_factor(user):
        raise SecondFactorError("Two-factor authentication is not on.")
    try:
        device = verify(user, token)
    except SecondFactorError as exc:
        record(action, Outcome.FAILED, actor=actor, target=UserTarget(user), error=str(exc))
        raise
    if device is None:
        error = "The code is not valid."
        record(action, Outcome.FAILED, actor=actor, target=UserTarget(user), error=error)
        raise SecondFactorError(error)
    return device


def recovery_codes_regenerate(*, actor, user, token):
    """New recovery codes replace all the old ones; returns them (show once)."""
    _check_code("auth.recovery_codes_regenerated", actor=actor, user=user, token=token)
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        params = {"recovery_codes": len(codes)}
        record(
            "auth.recovery_codes_regenerated", Outcome.SUCCEEDED, actor=actor, target=UserTarget(user), params=params
        )
    return codes


def _remove_devices(user):
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def two_factor_disable(*, actor, user, token):
    """Turn two-factor off; needs a valid code so a borrowed session cannot do it."""
    _check_code("auth.2fa_disabled", actor=actor, user=user, token=token)
    with transaction.atomic():
        _remove_devices(user)
        record("auth.2fa_disabled", Outcome.SUCCEEDED, actor=actor, target=UserTarget(user))


@transaction.atomic
def two_factor_reset(*, actor, user):
    """An administrator removes someone's devices (lost phone and codes); they enrol again."""
    authorize(actor, "user.manage")
    _remove_devices(user)
    record(
        "auth.2fa_disabled", Outcome.SUCCEEDED, actor=actor, target=UserTarget(user), params={"reset_by_admin": True}
    )

"""The signed-in user's own security page: password, two-factor, recovery codes, sessions.

Every change goes through a service (apps.accounts.services or ..services), which audits it.
Changing the password and enrolling, removing or renewing the second factor first ask for the
current password again (reauth): a session alone, borrowed or stolen, must not be enough.
"""

from base64 import b32encode

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import services as account_services
from apps.accounts.security import qr, reauth, services
from apps.accounts.security.forms import ConfirmedCodeForm, PasswordChangeForm
from apps.accounts.security.middleware import forget_check

OWN_ACCOUNT = "own account"


def own_account(view):
    """Any signed-in user may come here: the page acts on their own account only, so no
    permission code applies. Declared for the route matrix as accounts.decorators.needs would."""
    protected = login_required(never_cache(view))
    protected.kvm_permission = OWN_ACCOUNT
    protected.kvm_per_object = True
    return protected


def _page(request, *, password_form=None, code_form=None, status=200):
    user = request.user
    context = {
        "two_factor": services.has_second_factor(user),
        "recovery_codes_left": services.recovery_codes_left(user),
        "must_enrol": services.must_enrol(user),
        "password_form": password_form or PasswordChangeForm(user),
        "code_form": code_form or ConfirmedCodeForm(),
        "session_expires": request.session.get_expiry_date(),
        "expires_at_browser_close": request.session.get_expire_at_browser_close(),
    }
    return render(request, "accounts/security/index.html", context, status=status)


@own_account
@require_GET
def index(request):
    return _page(request)


@own_account
@require_POST
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
def password_change(request):
    """The current password is confirmed (counted and audited) even when the new one is not
    acceptable: each wrong one is a guess. The accounts service sets the new one; other sessions
    end, as the password is part of their hash."""
    user = request.user
    form = PasswordChangeForm(user, request.POST)
    valid = form.is_valid()
    try:
        reauth.confirm_password(request, action="auth.password_change", password=form.cleaned_data.get("old_password"))
    except reauth.PasswordRefused as exc:
        form.add_error("old_password", str(exc))
        return _page(request, password_form=form, status=exc.status)
    if not valid:
        return _page(request, password_form=form, status=400)
    services.password_change(actor=user, user=user, password=form.cleaned_data["new_password1"])
    update_session_auth_hash(request, user)
    messages.success(request, "Password changed. Your other sessions have been signed out.")
    return redirect("security:index")


def _refused(request, form, action):
    """None when the posted form is complete and its password is the user's; else the status of
    the page that shows the errors put on the form. The code is checked after this, by the
    service, so a wrong password costs no code attempt."""
    if not form.is_valid():
        return 400
    try:
        reauth.confirm_password(request, action=action, password=form.cleaned_data["password"])
    except reauth.PasswordRefused as exc:
        form.add_error("password", str(exc))
        return exc.status
    return None


def _grouped(secret):
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@own_account
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("password", "otp_token")
def setup(request):
    """Enrol an authenticator app: scan (or type) the key, then prove it with a code."""
    user = request.user
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        messages.info(request, "Two-factor authentication is already on.")
        return redirect("security:index")
    form = ConfirmedCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = _refused(request, form, "auth.2fa_enabled")
    if request.method == "POST" and status is None:
        try:
            device, codes = services.totp_confirm(actor=user, user=user, token=form.cleaned_data["otp_token"])
        except services.SecondFactorError as exc:
            form.add_error("otp_token", str(exc))
            status = 400
        else:
            otp_login(request, device)  # this session has just proved the device
            forget_check(request)
            return render(request, "accounts/security/recovery_codes.html", {"codes": codes, "new": True})
    device = services.totp_begin(user=user)
    context = {
        "form": form,
        "uri": device.config_url,
        "qr_svg": mark_safe(qr.svg(device.config_url)),  # geometry only, see qr.svg
        "secret": _grouped(b32encode(device.bin_key).decode()),
        "must_enrol": services.must_enrol(user),
    }
    return render(request, "accounts/security/setup.html", context, status=status)


@own_account
@require_POST
@sensitive_post_parameters("password", "otp_token")
def recovery_codes(request):
    """New recovery codes, shown on this response only; the old ones stop working."""
    form = ConfirmedCodeForm(request.POST)
    status = _refused(request, form, "auth.recovery_codes_regenerated")
    if status is None:
        try:
            codes = services.recovery_codes_regenerate(
                actor=request.user, user=request.user, token=form.cleaned_data["otp_token"]
            )
        except services.SecondFactorError as exc:
            form.add_error("otp_token", str(exc))
            status = 400
        else:
            return render(request, "accounts/security/recovery_codes.html", {"codes": codes, "new": False})
    return _page(request, code_form=form, status=status)


@own_account
@require_POST
@sensitive_post_parameters("password", "otp_token")
def disable(request):
    form = ConfirmedCodeForm(request.POST)
    status = _refused(request, form, "auth.2fa_disabled")
    if status is None:
        try:
            services.two_factor_disable(actor=request.user, user=request.user, token=form.cleaned_data["otp_token"])
        except services.SecondFactorError as exc:
            form.add_error("otp_token", str(exc))
            status = 400
        else:
            forget_check(request)
            messages.success(request, "Two-factor authentication is off.")
            return redirect("security:index")
    return _page(request, code_form=form, status=status)


@own_account
@require_POST
def logout_everywhere(request):
    """End every session of this user, this one included (the session epoch moves on)."""
    account_services.user_logout_everywhere(actor=request.user, user=request.user)
    request.session.flush()
    messages.success(request, "You have been signed out everywhere.")
    return redirect("login")

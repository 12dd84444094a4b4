"""Login security: throttling, the second factor, sessions, and the audit records of signing in."""

import json
import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.security import services
from apps.accounts.security.throttle import PENDING_SESSION_KEY
from apps.accounts.services import grant_add, user_create
from apps.audit.models import AuditEvent
from tests.conftest import PASSWORD

LOGIN_CODE = "security:login_code"


def post_login(client, username, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def code(device, drift=0):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"


def wrong_code(device):
    valid = {code(device, d) for d in (-2, -1, 0, 1, 2)}
    return next(c for c in (f"{n:06d}" for n in range(123456, 10**6)) if c not in valid)


def signed_in_as(client):
    return client.session.get("_auth_user_id")


def audit_dump():
    """Every audit row as text: what a reader of the log (or an export) could ever see."""
    return json.dumps(list(AuditEvent.objects.values()), default=str)


def shown_codes(response):
    block = re.search(r'id="recovery-codes".*?</ul>', response.content.decode(), re.S).group(0)
    return re.findall(r"<li[^>]*>\s*([a-z2-7]{8})\s*</li>", block)


@pytest.fixture
def no_throttle(settings):
    """django-otp slows down a device after a wrong code (1 s, 2 s, …); tests that follow a
    wrong code with a right one at once switch that off (one test checks the throttling)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def enrolled(operator):
    """The operator with a confirmed authenticator and ten recovery codes."""
    device = services.totp_begin(user=operator)
    device, codes = services.totp_confirm(actor=operator, user=operator, token=code(device))
    return device, codes


# -- throttling ---------------------------------------------------------------------------------


def test_lockout_after_repeated_failures_refuses_even_the_right_password(client, operator, settings):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = post_login(client, operator.username, "not-the-password")
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()
    response = post_login(client, operator.username, "not-the-password")
    assert response.status_code == 429
    assert 'id="lockout"' in response.content.decode()

    response = post_login(client, operator.username)
    assert response.status_code == 429 and 'id="lockout"' in response.content.decode()
    assert signed_in_as(client) is None

    failed = AuditEvent.objects.filter(action="auth.login_failed").order_by("id")
    assert [e.params["reason"] for e in failed] == ["wrong username or password"] * limit + ["locked out"]
    assert {(e.params["username"], e.target_name, e.source_ip, e.outcome) for e in failed} == {
        (operator.username, operator.username, "127.0.0.1", "failed")
    }
    lockout = AuditEvent.objects.get(action="auth.lockout")
    assert lockout.params == {"username": operator.username, "failures": limit, "cool_off_minutes": 15}
    assert lockout.target_type == "user" and lockout.target_id == str(operator.pk)

    # Keyed by username and address: the same account from elsewhere still gets in.
    assert post_login(Client(), operator.username, REMOTE_ADDR="192.0.2.10").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, operator, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, operator.username, "not-the-password")
    assert post_login(client, operator.username).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert post_login(client, operator.username).status_code == 302
    assert signed_in_as(client) == str(operator.pk)


def test_failed_login_is_audited_without_the_password(client, operator):
    attempted = "Very-Secret-Guess-0451"
    post_login(client, operator.username, attempted)
    post_login(client, "no-such-user", attempted)
    failed = AuditEvent.objects.filter(action="auth.login_failed").order_by("id")
    assert [(e.params["username"], e.target_name) for e in failed] == [
        (operator.username, operator.username),
        ("no-such-user", ""),
    ]
    assert attempted not in audit_dump()
    assert all(attempted not in a.post_data for a in AccessAttempt.objects.all())


# -- sign-in and sign-out records ---------------------------------------------------------------


def test_login_and_logout_are_audited_with_the_source_address(client, operator):
    response = post_login(client, operator.username, REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT="pytest-browser")
    assert response.status_code == 302 and response["Location"] == reverse("compute:vm_list")
    login = AuditEvent.objects.get(action="auth.login")
    assert (login.actor, login.outcome, login.source_ip, login.user_agent) == (
        operator,
        "succeeded",
        "192.0.2.7",
        "pytest-browser",
    )
    assert login.params == {"second_factor": None}

    assert client.post(reverse("logout"), REMOTE_ADDR="192.0.2.7").status_code == 302
    logout = AuditEvent.objects.get(action="auth.logout")
    assert (logout.actor, logout.outcome, logout.source_ip) == (operator, "succeeded", "192.0.2.7")
    assert signed_in_as(client) is None


# -- the second factor --------------------------------------------------------------------------


def test_totp_enrolment_then_login_needs_the_code(client, operator, no_throttle):
    client.force_login(operator)
    page = client.get(reverse("security:setup")).content.decode()
    assert "otpauth://totp/kvmweb%3Aoscar-operator?secret=" in page
    assert re.search(r'id="qr"><svg[^>]*xmlns="http://www.w3.org/2000/svg"', page)
    device = TOTPDevice.objects.get(user=operator, confirmed=False)
    assert client.get(reverse("security:setup")).status_code == 200
    assert TOTPDevice.objects.get(user=operator, confirmed=False) == device  # the key stays while scanning

    response = client.post(reverse("security:setup"), {"password": PASSWORD, "otp_token": wrong_code(device)})
    assert response.status_code == 400 and "not right" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed

    response = client.post(reverse("security:setup"), {"password": PASSWORD, "otp_token": code(device)})
    assert response.status_code == 200
    codes = shown_codes(response)
    assert len(codes) == 10 and set(codes) == set(StaticToken.objects.values_list("token", flat=True))
    device.refresh_from_db()
    assert device.confirmed
    enabled = AuditEvent.objects.get(action="auth.2fa_enabled")
    assert enabled.actor == operator and enabled.params == {"method": "totp", "recovery_codes": 10}
    dump = audit_dump()
    assert device.key not in dump and not any(c in dump for c in codes)

    client.post(reverse("logout"))
    response = post_login(client, operator.username)
    assert response.status_code == 302 and response["Location"] == reverse(LOGIN_CODE)
    assert signed_in_as(client) is None
    assert client.get(reverse("security:index")).status_code == 302  # not signed in between the steps

    response = client.post(reverse(LOGIN_CODE), {"otp_token": wrong_code(device)})
    assert response.status_code == 200 and "not valid" in response.content.decode()
    assert signed_in_as(client) is None
    failed = AuditEvent.objects.filter(action="auth.login_failed").latest("id")
    assert failed.params == {"username": operator.username, "reason": "wrong second-factor code"}

    response = client.post(reverse(LOGIN_CODE), {"otp_token": code(device, drift=1)})
    assert response.status_code == 302 and response["Location"] == reverse("compute:vm_list")
    assert signed_in_as(client) == str(operator.pk)
    assert AuditEvent.objects.filter(action="auth.login").latest("id").params == {"second_factor": "totp"}


def test_login_keeps_next_through_the_code_step(client, operator, enrolled):
    device, _ = enrolled
    target = reverse("security:index")
    client.post(reverse("login"), {"username": operator.username, "password": PASSWORD, "next": target})
    response = client.post(reverse(LOGIN_CODE), {"otp_token": code(device, drift=1)})
    assert response["Location"] == target


def test_wrong_codes_are_throttled_by_the_device(client, operator, enrolled):
    device, _ = enrolled
    post_login(client, operator.username)
    client.post(reverse(LOGIN_CODE), {"otp_token": wrong_code(device)})
    response = client.post(reverse(LOGIN_CODE), {"otp_token": code(device, drift=1)})
    assert "Too many wrong codes" in response.content.decode()
    assert signed_in_as(client) is None


def test_wrong_codes_count_towards_the_lockout(client, operator, enrolled, no_throttle, settings):
    device, _ = enrolled
    settings.AXES_FAILURE_LIMIT = 2
    post_login(client, operator.username)
    assert client.post(reverse(LOGIN_CODE), {"otp_token": wrong_code(device)}).status_code == 200
    assert client.post(reverse(LOGIN_CODE), {"otp_token": wrong_code(device)}).status_code == 429
    assert PENDING_SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action="auth.lockout").count() == 1
    assert post_login(client, operator.username).status_code == 429


def test_a_stale_password_step_must_be_done_again(client, operator, enrolled):
    post_login(client, operator.username)
    session = client.session
    session[PENDING_SESSION_KEY]["at"] -= 3600
    session.save()
    assert client.get(reverse(LOGIN_CODE))["Location"] == reverse("login")
    assert PENDING_SESSION_KEY not in client.session


def test_a_recovery_code_logs_in_once_only(client, operator, enrolled, no_throttle):
    _, codes = enrolled
    post_login(client, operator.username)
    response = client.post(reverse(LOGIN_CODE), {"otp_token": codes[0].upper()})
    assert response.status_code == 302 and signed_in_as(client) == str(operator.pk)
    used = AuditEvent.objects.get(action="auth.recovery_code_used")
    assert used.actor == operator and used.params == {"remaining": 9}
    assert AuditEvent.objects.filter(action="auth.login").latest("id").params == {"second_factor": "recovery code"}
    assert codes[0] not in audit_dump()

    client.post(reverse("logout"))
    post_login(client, operator.username)
    response = client.post(reverse(LOGIN_CODE), {"otp_token": codes[0]})
    assert response.status_code == 200 and signed_in_as(client) is None
    assert client.post(reverse(LOGIN_CODE), {"otp_token": codes[1]}).status_code == 302


def test_new_recovery_codes_replace_the_old_ones(client, operator, enrolled, no_throttle):
    device, old = enrolled
    client.force_login(operator)
    response = client.post(reverse("security:recovery_codes"), {"password": PASSWORD, "otp_token": "wrong-code"})
    assert response.status_code == 400
    assert AuditEvent.objects.get(action="auth.recovery_codes_regenerated").outcome == "failed"
    response = client.post(
        reverse("security:recovery_codes"), {"password": PASSWORD, "otp_token": code(device, drift=1)}
    )
    new = shown_codes(response)
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new)
    assert AuditEvent.objects.filter(action="auth.recovery_codes_regenerated", outcome="succeeded").count() == 1
    assert not any(c in audit_dump() for c in new)


def test_turning_two_factor_off_needs_a_valid_code(client, operator, enrolled, no_throttle):
    device, _ = enrolled
    client.force_login(operator)
    url = reverse("security:disable")
    assert client.post(url, {"password": PASSWORD, "otp_token": wrong_code(device)}).status_code == 400
    assert services.has_second_factor(operator)
    response = client.post(url, {"password": PASSWORD, "otp_token": code(device, drift=1)})
    assert response.status_code == 302
    assert not services.has_second_factor(operator) and not StaticToken.objects.exists()
    assert [e.outcome for e in AuditEvent.objects.filter(action="auth.2fa_disabled").order_by("id")] == [
        "failed",
        "succeeded",
    ]
    client.post(reverse("logout"))
    assert post_login(client, operator.username)["Location"] == reverse("compute:vm_list")


def test_admins_must_enrol_when_the_setting_says_so(client, admin, operator, settings, no_throttle):
    settings.KVMWEB_REQUIRE_2FA_FOR_ADMINS = True
    vm_list = reverse("compute:vm_list")
    response = post_login(client, admin.username, follow=True)
    assert response.redirect_chain[-1][0] == reverse("security:setup")
    assert "set up two-factor authentication to continue" in response.content.decode()
    assert client.get(vm_list)["Location"] == reverse("security:setup")
    assert client.get(vm_list, HTTP_HX_REQUEST="true")["HX-Redirect"] == reverse("security:setup")
    assert client.get(reverse("security:index")).status_code == 200

    boss, _ = user_create(actor=None, username="bob-boss", password=PASSWORD)
    grant_add(actor=None, user=boss, role="Administrator")
    other = Client()
    other.force_login(boss)
    assert other.get(vm_list)["Location"] == reverse("security:setup")
    plain = Client()
    plain.force_login(operator)
    assert plain.get(vm_list).status_code == 200

    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    enrol = {"password": PASSWORD, "otp_token": code(device)}
    assert client.post(reverse("security:setup"), enrol).status_code == 200
    assert client.get(vm_list).status_code == 200


def test_admins_are_not_forced_when_the_setting_is_off(client, admin, settings):
    settings.KVMWEB_REQUIRE_2FA_FOR_ADMINS = False
    post_login(client, admin.username)
    assert client.get(reverse("compute:vm_list")).status_code == 200


# -- sessions and passwords ---------------------------------------------------------------------


def test_log_out_everywhere_ends_the_other_sessions(operator):
    here, elsewhere = Client(), Client()
    post_login(here, operator.username)
    post_login(elsewhere, operator.username)
    page = reverse("security:index")
    assert elsewhere.get(page).status_code == 200
    assert here.get(reverse("security:logout_everywhere")).status_code == 405

    response = here.post(reverse("security:logout_everywhere"))
    assert response["Location"] == reverse("login")
    assert elsewhere.get(page)["Location"].startswith(reverse("login"))
    assert here.get(page)["Location"].startswith(reverse("login"))
    assert AuditEvent.objects.filter(action="user.logout_everywhere", actor=operator).count() == 1


def test_log_out_everywhere_needs_the_csrf_token(operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.post(reverse("security:logout_everywhere")).status_code == 403
    page = client.get(reverse("security:index")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(reverse("security:logout_everywhere"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_password_change_enforces_the_validators(client, operator):
    client.force_login(operator)
    url = reverse("security:password")
    weak = {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    response = client.post(url, weak)
    assert response.status_code == 400 and "too common" in response.content.decode()
    operator.refresh_from_db()
    assert operator.check_password(PASSWORD)

    new = "another-long-passphrase-42"
    response = client.post(url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.check_password(new)
    assert client.get(reverse("security:index")).status_code == 200  # this session stays
    assert AuditEvent.objects.filter(action="user.password", actor=operator).exists()
    assert [e.outcome for e in AuditEvent.objects.filter(action="auth.password_change")] == ["succeeded"]
    assert new not in audit_dump()


def test_the_session_ends_after_its_age(client, operator, settings):
    post_login(client, operator.username)
    session = Session.objects.get(pk=client.session.session_key)
    left = (session.expire_date - timezone.now()).total_seconds()
    assert settings.SESSION_COOKIE_AGE - 60 < left <= settings.SESSION_COOKIE_AGE
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get(reverse("security:index"))["Location"].startswith(reverse("login"))


def test_expire_at_browser_close_still_ends_the_session_on_the_server(client, operator, settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    response = post_login(client, operator.username)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"]
    session = Session.objects.get(pk=cookie.value)
    assert (session.expire_date - timezone.now()).total_seconds() <= settings.SESSION_COOKIE_AGE


def test_security_actions_are_registered():
    from apps.audit import registry

    for code_ in (
        "auth.login",
        "auth.login_failed",
        "auth.lockout",
        "auth.logout",
        "auth.password_change",
        "auth.2fa_enabled",
        "auth.2fa_disabled",
        "auth.recovery_codes_regenerated",
        "auth.recovery_code_used",
    ):
        assert registry.get(code_)

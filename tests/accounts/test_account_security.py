"""A stolen session on the account's own security page: it cannot guess the password there more
often than at the login, nor change the password or the second factor without it.

Each attack goes through the URLs and forms a browser uses, with CSRF checks on: the thief holds
only the victim's session cookie, copied from a real sign-in.
"""

import json
import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.security import services
from apps.audit.models import AuditEvent
from tests.conftest import PASSWORD

NEW = "a-brand-new-passphrase-77"
GUESS = "Guessed-Passw0rd-"  # + a number: each guess differs, as a real attacker's would
LOCKED = "Too many failed attempts"
WRONG = "That is not your current password."


def code(device, drift=0):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"


def stolen_session(user, recovery_code=None):
    """A client holding only the session cookie of `user`'s real sign-in (with a recovery code as
    the second factor, if given), with CSRF checks on."""
    victim = Client()
    response = victim.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    if recovery_code:
        response = victim.post(reverse("security:login_code"), {"otp_token": recovery_code})
    assert response.status_code == 302 and victim.session.get("_auth_user_id") == str(user.pk)
    thief = Client(enforce_csrf_checks=True)
    thief.cookies[settings.SESSION_COOKIE_NAME] = victim.cookies[settings.SESSION_COOKIE_NAME].value
    return thief


def submit(client, url, data, page="security:index"):
    """Post a form as the browser does: with the CSRF token of the page that shows it."""
    html = client.get(reverse(page)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return client.post(reverse(url), {"csrfmiddlewaretoken": token, **data})


def change_password(client, old, new=NEW):
    return submit(client, "security:password", {"old_password": old, "new_password1": new, "new_password2": new})


def rows(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def secrets_absent(*secrets):
    """None of `secrets` is in the audit log or in axes' records of the attempts."""
    dump = json.dumps(list(AuditEvent.objects.values()), default=str)
    attempts = json.dumps(list(AccessAttempt.objects.values()), default=str)
    return not [s for s in secrets if s in dump or s in attempts]


@pytest.fixture
def enrolled(operator):
    device = services.totp_begin(user=operator)
    device, codes = services.totp_confirm(actor=operator, user=operator, token=code(device))
    return device, codes


# -- the password form ----------------------------------------------------------------------------


def test_a_stolen_session_guessing_the_password_is_locked_out_and_then_refused_the_right_one(operator):
    limit = settings.AXES_FAILURE_LIMIT
    thief = stolen_session(operator)
    # Without the page's CSRF token the form is not even reached (and nothing is counted).
    assert thief.post(reverse("security:password"), {"old_password": GUESS}).status_code == 403

    for n in range(limit - 1):
        response = change_password(thief, f"{GUESS}{n}")
        assert response.status_code == 400 and WRONG in response.content.decode()
    response = change_password(thief, f"{GUESS}{limit}")
    page = response.content.decode()
    # The security page says so itself (not axes' login page put in its place).
    assert response.status_code == 429 and 'id="password-form"' in page
    assert f"{LOCKED}: changes that need your password, and signing in to your account" in page
    assert "blocked for 15 more minutes" in page

    response = change_password(thief, PASSWORD)
    assert response.status_code == 429 and LOCKED in response.content.decode()
    operator.refresh_from_db()
    assert operator.check_password(PASSWORD) and not operator.check_password(NEW)
    assert thief.get(reverse("security:index")).status_code == 200  # still signed in, still locked

    # The same count as the login's: signing in from that address is refused too, elsewhere not.
    login = Client().post(reverse("login"), {"username": operator.username, "password": PASSWORD})
    assert login.status_code == 429 and 'id="lockout"' in login.content.decode()
    elsewhere = {"username": operator.username, "password": PASSWORD}
    assert Client().post(reverse("login"), elsewhere, REMOTE_ADDR="192.0.2.10").status_code == 302

    attempts = rows("auth.password_change")
    assert [e.params["reason"] for e in attempts] == ["wrong password"] * limit + ["locked out"]
    assert {(e.outcome, e.actor, e.target_id, e.source_ip) for e in attempts} == {
        ("failed", operator, str(operator.pk), "127.0.0.1")
    }
    (lockout,) = rows("auth.lockout")
    assert lockout.params == {
        "username": operator.username,
        "failures": limit,
        "cool_off_minutes": 15,
        "during": "auth.password_change",
    }
    assert lockout.error == "too many wrong passwords"
    assert not rows("user.password")
    assert secrets_absent(PASSWORD, NEW, *(f"{GUESS}{n}" for n in range(limit + 1)))


def test_the_password_form_opens_again_after_the_cool_off(operator):
    thief = stolen_session(operator)
    for n in range(settings.AXES_FAILURE_LIMIT):
        change_password(thief, f"{GUESS}{n}")
    assert change_password(thief, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))

    response = change_password(thief, PASSWORD)
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.check_password(NEW)
    assert rows("auth.password_change")[-1].outcome == "succeeded"
    assert rows("user.password")[-1].actor == operator


def test_the_lock_message_counts_down(operator):
    thief = stolen_session(operator)
    for n in range(settings.AXES_FAILURE_LIMIT):
        change_password(thief, f"{GUESS}{n}")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14, seconds=30))
    assert "blocked for 1 more minute." in change_password(thief, PASSWORD).content.decode()


def test_a_right_current_password_clears_the_count_as_a_login_does(operator):
    limit = settings.AXES_FAILURE_LIMIT
    thief = stolen_session(operator)
    for n in range(limit - 1):
        assert change_password(thief, f"{GUESS}{n}").status_code == 400
    # The right password with a new one the validators refuse: nothing changes, the count clears.
    response = change_password(thief, PASSWORD, new="12345678")
    assert response.status_code == 400 and "too common" in response.content.decode()
    assert not AccessAttempt.objects.exists()
    for n in range(limit - 1):
        assert change_password(thief, f"{GUESS}{n}").status_code == 400


def test_failed_logins_and_wrong_current_passwords_add_up(operator):
    limit = settings.AXES_FAILURE_LIMIT
    thief = stolen_session(operator)
    for n in range(limit - 1):
        Client().post(reverse("login"), {"username": operator.username, "password": f"{GUESS}{n}"})
    assert change_password(thief, f"{GUESS}{limit}").status_code == 429
    assert change_password(thief, PASSWORD).status_code == 429


def test_a_password_change_without_the_current_password_is_refused(operator):
    thief = stolen_session(operator)
    response = change_password(thief, "")
    assert response.status_code == 400 and "Enter your current password." in response.content.decode()
    operator.refresh_from_db()
    assert operator.check_password(PASSWORD)
    assert [e.params["reason"] for e in rows("auth.password_change")] == ["no password given"]
    assert not AccessAttempt.objects.exists()  # not a guess


# -- the second factor ----------------------------------------------------------------------------


def test_enrolling_needs_the_password(operator):
    thief = stolen_session(operator)
    html = thief.get(reverse("security:setup")).content.decode()
    assert 'name="password"' in html and 'autocomplete="current-password"' in html
    device = TOTPDevice.objects.get(user=operator, confirmed=False)
    right = code(device)

    response = submit(thief, "security:setup", {"otp_token": right}, page="security:setup")
    assert response.status_code == 400 and "Enter your current password." in response.content.decode()
    response = submit(thief, "security:setup", {"password": GUESS, "otp_token": right}, page="security:setup")
    assert response.status_code == 400 and WRONG in response.content.decode()

    device.refresh_from_db()
    assert not device.confirmed and not services.has_second_factor(operator)
    assert not StaticDevice.objects.filter(user=operator).exists()
    assert [(e.outcome, e.params["reason"]) for e in rows("auth.2fa_enabled")] == [
        ("failed", "no password given"),
        ("failed", "wrong password"),
    ]
    assert AccessAttempt.objects.get().failures_since_start == 1

    # The owner, who knows the password, enrols with the same code: it was not used up.
    response = submit(thief, "security:setup", {"password": PASSWORD, "otp_token": right}, page="security:setup")
    assert response.status_code == 200 and 'id="recovery-codes"' in response.content.decode()
    assert services.has_second_factor(operator)
    assert rows("auth.2fa_enabled")[-1].outcome == "succeeded"
    assert secrets_absent(PASSWORD, GUESS, device.key)


def test_removing_the_second_factor_or_renewing_its_codes_needs_the_password(operator, enrolled):
    device, codes = enrolled
    thief = stolen_session(operator, recovery_code=codes.pop())
    right = code(device, drift=1)  # the enrolment used the current step

    for data in ({"otp_token": right}, {"password": GUESS, "otp_token": right}):
        assert submit(thief, "security:disable", data).status_code == 400
        assert submit(thief, "security:recovery_codes", data).status_code == 400
    page = submit(thief, "security:disable", {"password": GUESS, "otp_token": codes[0]}).content.decode()
    assert 'id="code-errors"' in page and WRONG in page

    assert services.has_second_factor(operator)
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(codes)  # none used, none new
    assert [e.params["reason"] for e in rows("auth.2fa_disabled")] == [
        "no password given",
        "wrong password",
        "wrong password",
    ]
    assert [e.params["reason"] for e in rows("auth.recovery_codes_regenerated")] == [
        "no password given",
        "wrong password",
    ]
    assert {e.outcome for e in rows("auth.2fa_disabled") + rows("auth.recovery_codes_regenerated")} == {"failed"}
    assert secrets_absent(PASSWORD, GUESS, right, *codes)

    response = submit(thief, "security:disable", {"password": PASSWORD, "otp_token": right})
    assert response.status_code == 302 and not services.has_second_factor(operator)


def test_wrong_passwords_on_any_of_these_forms_share_one_lockout(operator, enrolled):
    device, codes = enrolled
    limit = settings.AXES_FAILURE_LIMIT
    thief = stolen_session(operator, recovery_code=codes[0])
    forms = ["security:disable", "security:recovery_codes"]
    for n in range(limit - 1):
        response = submit(thief, forms[n % 2], {"password": f"{GUESS}{n}", "otp_token": code(device)})
        assert response.status_code == 400
    response = change_password(thief, f"{GUESS}{limit}")
    assert response.status_code == 429

    response = submit(thief, "security:disable", {"password": PASSWORD, "otp_token": code(device)})
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert services.has_second_factor(operator)
    assert rows("auth.2fa_disabled")[-1].params["reason"] == "locked out"
    assert rows("auth.lockout")[0].params["during"] == "auth.password_change"

from django import forms
from django.contrib.auth.forms import SetPasswordForm


def _current_password():
    # Not required here: reauth.confirm_password answers a missing one (recorded, not counted),
    # so the form does not add a second message for it.
    return forms.CharField(
        label="Current password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "class": "form-control"}),
    )


class CodeForm(forms.Form):
    """A code from the authenticator app or a recovery code."""

    otp_token = forms.CharField(
        label="Code",
        max_length=32,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "class": "form-control"}),
    )


class ConfirmedCodeForm(CodeForm):
    """A change of the second factor: the account's password again, then a code."""

    password = _current_password()
    field_order = ["password", "otp_token"]


class PasswordChangeForm(SetPasswordForm):
    """Django's password change, except that the current password is checked by the view through
    reauth.confirm_password (counted and audited like a login), not silently by the form."""

    old_password = _current_password()
    field_order = ["old_password", "new_password1", "new_password2"]

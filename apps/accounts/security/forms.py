from django import forms


class CodeForm(forms.Form):
    """A code from the authenticator app or a recovery code."""

    otp_token = forms.CharField(
        label="Code",
        max_length=32,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "class": "form-control"}),
    )

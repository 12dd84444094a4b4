"""Secret forms. The value field is a password input that is never rendered back, and errors
about it never quote it; the rules themselves live in the service, so the API and commands
refuse the same input with the same words."""

from django import forms

from apps.accounts.forms import Styled
from apps.storage.models import SecretUsage
from apps.storage.services import secrets as services

VALUE_HELP = (
    'Ceph: the key that "ceph auth get-key" prints (base64). iSCSI: the CHAP password. '
    "Volume: the LUKS passphrase. TLS: the key's passphrase. Write-only: it is never shown again."
)
USAGE_HELP = (
    'Ceph: the client, e.g. "client.libvirt secret". iSCSI: the CHAP usage name. '
    "Volume: the encrypted volume's path. TLS: the credential's name."
)

USAGE_CHOICES = [
    (SecretUsage.CEPH, "Ceph (RBD client key)"),
    (SecretUsage.ISCSI, "iSCSI (CHAP password)"),
    (SecretUsage.VOLUME, "volume (LUKS passphrase)"),
    (SecretUsage.TLS, "TLS (key passphrase)"),
]


def _value_field(required):
    return forms.CharField(
        label="Value",
        required=required,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=VALUE_HELP,
    )


class SecretCreateForm(Styled, forms.Form):
    host = forms.ModelChoiceField(queryset=None, empty_label=None)
    usage_type = forms.ChoiceField(label="Usage type", choices=USAGE_CHOICES)
    usage_id = forms.CharField(label="Usage", max_length=services.MAX_LENGTH, help_text=USAGE_HELP)
    description = forms.CharField(required=False, max_length=services.MAX_LENGTH)
    value = _value_field(required=False)

    def __init__(self, *args, hosts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = hosts
        self.fields["value"].help_text = VALUE_HELP + " Optional: it can be set later."

    def clean(self):
        data = super().clean()
        usage_type = data.get("usage_type")
        if usage_type is None:
            return data
        for name, check in (
            ("usage_id", lambda: services.clean_usage(usage_type, data.get("usage_id"))),
            ("description", lambda: services.clean_description(data.get("description"))),
        ):
            if name in data:
                try:
                    data[name] = check()
                except services.SecretError as exc:
                    self.add_error(name, str(exc))
        if data.get("value"):
            try:
                services.value_bytes(usage_type, data["value"])
            except services.SecretError as exc:
                self.add_error("value", str(exc))
        return data


class SecretValueForm(Styled, forms.Form):
    value = _value_field(required=True)

    def __init__(self, *args, secret, **kwargs):
        super().__init__(*args, **kwargs)
        self.secret = secret

    def clean_value(self):
        value = self.cleaned_data["value"]
        try:
            services.value_bytes(self.secret.usage_type, value)
        except services.SecretError as exc:
            raise forms.ValidationError(str(exc)) from None
        return value

"""The host form: a connection kind with the fields it needs, or a whole libvirt URI.

The URI is built here (apps.hosts.uris) so that people do not type query parameters by hand; the
URI rules themselves live in uris.check, which the service applies again, so a command or the
API gets the same refusals in the same words.
"""

import os

from django import forms

from apps.accounts.forms import Styled
from apps.hosts import uris

KIND_CHOICES = [
    (uris.LOCAL, "This machine (qemu:///system)"),
    (uris.SSH, "Remote over SSH (qemu+ssh)"),
    (uris.TLS, "Remote over TLS (qemu+tls)"),
    (uris.OTHER, "Other libvirt URI (test driver, qemu+tcp, libssh …)"),
]


def _absolute_existing(value, what, want_dir=False):
    if not value:
        return value
    if not os.path.isabs(value):
        raise forms.ValidationError(f"Give the {what}'s absolute path, as the worker sees it.")
    exists = os.path.isdir(value) if want_dir else os.path.isfile(value)
    if not exists:
        raise forms.ValidationError(f"No {what} at {value} on this machine.")
    return value


class HostForm(Styled, forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(label="Connection", choices=KIND_CHOICES, initial=uris.LOCAL)
    address = forms.CharField(
        label="Host address", required=False, max_length=255, help_text="Name or IP of the hypervisor."
    )
    port = forms.IntegerField(label="Port", required=False, min_value=1, max_value=65535)
    username = forms.CharField(label="SSH user", required=False, max_length=64)
    keyfile = forms.CharField(
        label="SSH key file",
        required=False,
        max_length=400,
        help_text="Private key of the user running kvmweb's worker, e.g. /var/lib/kvmweb/.ssh/id_ed25519. "
        "The hypervisor's host key must be in that user's ~/.ssh/known_hosts: it is checked.",
    )
    pkipath = forms.CharField(
        label="TLS certificate directory",
        required=False,
        max_length=400,
        help_text="Where cacert.pem, clientcert.pem and clientkey.pem are (default /etc/pki/libvirt…).",
    )
    uri = forms.CharField(
        label="URI", required=False, max_length=500, help_text=f"Any QEMU or test driver URI, {uris.EXAMPLE}."
    )

    vm_bridges = forms.CharField(
        label="Bridges open to VM users",
        required=False,
        max_length=500,
        help_text="Host bridges, comma-separated, that anyone who may edit a VM can connect its NICs to "
        "(the guests' bridge, never the management one). Every other bridge, macvtap or Open vSwitch "
        "NIC needs the right to manage this host's networks.",
    )

    def __init__(self, *args, host=None, **kwargs):
        if host is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": host.name, **uris.split(host.uri), "vm_bridges": ", ".join(host.vm_bridges)}
        super().__init__(*args, **kwargs)

    def clean_vm_bridges(self):
        return [b.strip() for b in self.cleaned_data["vm_bridges"].split(",") if b.strip()]

    def clean_keyfile(self):
        return _absolute_existing(self.cleaned_data["keyfile"].strip(), "key file")

    def clean_pkipath(self):
        return _absolute_existing(self.cleaned_data["pkipath"].strip(), "certificate directory", want_dir=True)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind is None or self.errors:
            return data
        if kind in (uris.SSH, uris.TLS) and not data.get("address", "").strip():
            self.add_error("address", "Enter the hypervisor's name or address.")
        if kind == uris.SSH and not data.get("username", "").strip():
            self.add_error("username", "Enter the SSH user (e.g. root).")
        if kind == uris.OTHER and not data.get("uri", "").strip():
            self.add_error("uri", "Enter a libvirt URI.")
        if self.errors:
            return data
        if kind == uris.OTHER:
            uri = data["uri"].strip()
        else:
            uri = uris.build(
                kind,
                address=data.get("address", "").strip(),
                port=data.get("port"),
                username=data.get("username", "").strip(),
                keyfile=data.get("keyfile", ""),
                pkipath=data.get("pkipath", ""),
            )
        try:
            data["final_uri"] = uris.check(uri)
        except uris.UriError as exc:
            self.add_error("uri" if kind == uris.OTHER else None, str(exc))
            return data
        for param, path in uris.file_params(uri).items():
            if not os.path.exists(path):
                self.add_error(
                    "uri" if kind == uris.OTHER else None, f"The {param} {path} does not exist on this machine."
                )
        return data


class HostRemoveForm(forms.Form):
    confirm = forms.CharField(label="Type the host's name to confirm", max_length=100)
    forget_vms = forms.BooleanField(label="Forget its VMs too", required=False)

    def __init__(self, *args, host, **kwargs):
        self.host = host
        super().__init__(*args, **kwargs)
        self.fields["confirm"].widget.attrs.update({"class": "form-control form-control-sm", "autocomplete": "off"})
        self.fields["forget_vms"].widget.attrs["class"] = "form-check-input"

    def clean_confirm(self):
        if self.cleaned_data["confirm"].strip() != self.host.name:
            raise forms.ValidationError(f"Type {self.host.name} exactly.")
        return self.cleaned_data["confirm"]

""" "Define from XML": pasted pool XML, checked as far as kvmweb's own rules go, then left to libvirt.

The same rules as the typed forms apply where they matter — a plain name, and for pools whose
target is a directory libvirt creates or mounts on, a target inside the administrator's prefixes —
so pasting XML is not a way around them. Everything else is libvirt's to accept or refuse, and its
refusal ends the operation failed with libvirt's own words.
"""

from django import forms
from django.core.exceptions import ValidationError
from lxml import etree

from apps.accounts.forms import Styled
from apps.hosts.models import Host
from apps.storage.forms.pool_base import manageable_hosts
from apps.storage.forms.pool_fields import check_allowed, normalise_path, validate_name
from apps.storage.virt.pool_xml import POOL_TYPES, PoolXMLError, parse_pool

DIRECTORY_TYPES = ("dir", "fs", "netfs", "vstorage")
EXAMPLE = """<pool type="dir">
  <name>images-fast</name>
  <target>
    <path>/var/lib/libvirt/images-fast</path>
  </target>
</pool>"""


class PoolXMLForm(Styled, forms.Form):
    host = forms.ModelChoiceField(queryset=Host.objects.none(), help_text="Hosts where you may manage storage.")
    xml = forms.CharField(
        label="Pool XML",
        widget=forms.Textarea(
            attrs={"rows": 14, "spellcheck": "false", "class": "form-control font-monospace", "placeholder": EXAMPLE}
        ),
        help_text="A <pool> document as virsh pool-define takes it.",
    )
    build = forms.BooleanField(
        required=False,
        help_text="Run libvirt's build first (creates a directory; for logical, disk and zfs pools it WIPES the devices).",
    )
    autostart = forms.BooleanField(required=False, initial=True, help_text="Start the pool whenever libvirt starts.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["host"].queryset = manageable_hosts(user)
        for name in ("build", "autostart"):
            self.fields[name].widget.attrs["class"] = "form-check-input"

    def clean_xml(self):
        try:
            root = parse_pool(self.cleaned_data["xml"])
        except PoolXMLError as exc:
            raise ValidationError(str(exc)) from None
        pool_type, name = root.get("type"), root.findtext("name").strip()
        if pool_type not in POOL_TYPES:
            raise ValidationError(
                "Unknown pool type %(type)s; libvirt has: %(types)s.",
                params={"type": pool_type, "types": ", ".join(POOL_TYPES)},
            )
        try:
            validate_name(name)
        except ValidationError as exc:
            raise ValidationError(f"Pool name {name!r}: {exc.messages[0]}") from None
        path = root.findtext("target/path")
        if pool_type in DIRECTORY_TYPES and path:
            try:
                check_allowed(normalise_path(path.strip()))
            except ValidationError as exc:
                raise ValidationError(f"Target {path.strip()}: {exc.messages[0]}") from None
        self.pool_name, self.pool_type = name, pool_type
        return etree.tostring(root, encoding="unicode")

"""What every pool form shares: name, host, build/autostart, target permissions and secrets.

The host picker offers only hosts where the user holds storage.manage, so the choice itself
cannot reach beyond the user's rights (the view and the service check again).
"""

from django import forms
from django.utils.html import format_html

from apps.accounts.forms import Styled
from apps.hosts.models import Host
from apps.hosts.selectors import hosts_where
from apps.storage.forms.pool_fields import ModeField, NameField, PathField, id_field, path_prefixes, validate_selinux
from apps.storage.models import Secret
from apps.storage.virt.pool_xml import Permissions, Pool, Target

NEW_SECRET_URL = "/storage/secrets/new/"


def manageable_hosts(user):
    """Hosts on which `user` may create pools (storage.manage granted globally or on the host)."""
    return hosts_where(user, "storage.manage")


class SecretChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        text = f"{obj.usage_id} on {obj.host.name}"
        return text if obj.has_value else f"{text} (no value set yet)"


class PoolForm(Styled, forms.Form):
    """Base of the per-type forms; subclasses set `pool_type` and build `source()`/`target()`."""

    pool_type = ""
    description = ""
    build_default = None  # None: libvirt's build does nothing useful for this type, no checkbox
    build_help = ""
    secret_usage = ""  # ceph | iscsi, for forms with a SecretChoiceField

    name = NameField(help_text="The pool's name on the host: letters, digits and . _ - (e.g. images-fast).")
    host = forms.ModelChoiceField(queryset=Host.objects.none(), help_text="Hosts where you may manage storage.")
    autostart = forms.BooleanField(
        required=False, initial=True, label="Autostart", help_text="Start the pool whenever libvirt starts."
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        hosts = manageable_hosts(user)
        self.fields["host"].queryset = hosts
        if self.build_default is not None:
            self.fields["build"] = forms.BooleanField(
                required=False, initial=self.build_default, label="Build", help_text=self.build_help
            )
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            if isinstance(field, SecretChoiceField):
                field.queryset = field.queryset.filter(host__in=hosts).select_related("host")
                field.help_text = format_html('{} <a href="{}">New secret</a>', field.help_text, self._new_secret_url())
        head, tail = ["name", "host"], [n for n in ("build", "autostart") if n in self.fields]
        self.order_fields(head + [n for n in self.fields if n not in head + tail] + tail)

    def _new_secret_url(self):
        """Link to the secrets page, preset to this host and usage, for a secret not made yet."""
        host = self.data.get("host") or self.initial.get("host")
        host_id = str(getattr(host, "pk", host) or "")
        query = f"?host={host_id}&usage={self.secret_usage}" if host_id.isdigit() else f"?usage={self.secret_usage}"
        return NEW_SECRET_URL + query

    def clean(self):
        cleaned = super().clean()
        host = cleaned.get("host")
        for name in self.fields:
            secret = cleaned.get(name)
            if isinstance(secret, Secret) and host is not None and secret.host_id != host.pk:
                self.add_error(name, f"This secret lives on {secret.host.name}; pick one on {host.name}.")
        return cleaned

    # -- building the XML --------------------------------------------------------------------

    def source(self, data):
        return None

    def target(self, data):
        return None

    def to_pool(self) -> Pool:
        data = self.cleaned_data
        return Pool(type=self.pool_type, name=data["name"], source=self.source(data), target=self.target(data))

    def to_xml(self):
        return self.to_pool().to_xml()

    @property
    def build(self):
        return bool(self.cleaned_data.get("build"))


def target_path_field(example):
    return PathField(
        allowed=True,
        label="Target directory",
        help_text=format_html(
            "Directory on the host, e.g. {}. It must be inside {}.", example, ", ".join(path_prefixes())
        ),
    )


class PermissionsMixin(forms.Form):
    """The target directory's mode, owner, group and SELinux label, applied when libvirt builds it."""

    mode = ModeField(required=False, help_text="Octal, e.g. 0711 (blank: libvirt's default, 0711).")
    owner = id_field("Owner (uid)", "Numeric user id, e.g. 107 for qemu; blank keeps the default.")
    group = id_field("Group (gid)", "Numeric group id, e.g. 107 for qemu; blank keeps the default.")
    label = forms.CharField(
        required=False,
        max_length=255,
        validators=[validate_selinux],
        label="SELinux label",
        help_text="Only on SELinux hosts, e.g. system_u:object_r:virt_image_t:s0.",
    )

    def permissions(self, data):
        perms = Permissions(
            mode=data.get("mode"), owner=data.get("owner"), group=data.get("group"), label=data.get("label")
        )
        return perms or None

    def target(self, data):
        return Target(path=data["target_path"], permissions=self.permissions(data))

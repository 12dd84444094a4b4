"""Form fields for pool definitions: what a safe name, path, host, IQN or mode looks like.

Everything here is checked before any XML is built, so a typo or a hostile value ends as a form
error next to its field, never as a half-defined pool or a path libvirt would create somewhere
the administrator did not allow.
"""

import ipaddress
import posixpath
import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

DEFAULT_PATH_PREFIXES = ["/var/lib/libvirt/", "/srv/", "/mnt/", "/data/"]

_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME_RE = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")
_IQN_RE = re.compile(
    r"^iqn\.\d{4}-(0[1-9]|1[0-2])\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\S+)?$"
)
_MODE_RE = re.compile(r"^0?[0-7]{3}$")
_SELINUX_RE = re.compile(r"^[A-Za-z0-9_.:,-]+$")
_WWN_RE = re.compile(r"^(0x)?[0-9a-fA-F]{16}$")
_SCSI_HOST_RE = re.compile(r"^scsi_host[0-9]+$")
_USER_RE = re.compile(r"^[A-Za-z0-9_.@-]+$")


def path_prefixes():
    """Where dir/fs/netfs pools may put their directories (settings.KVMWEB_POOL_PATH_PREFIXES)."""
    prefixes = getattr(settings, "KVMWEB_POOL_PATH_PREFIXES", None) or DEFAULT_PATH_PREFIXES
    return [p if p.endswith("/") else p + "/" for p in prefixes]


def validate_name(value):
    """Names end up in paths and command lines on the host: keep them plain."""
    if "/" in value:
        raise ValidationError("A name cannot contain '/'.")
    if ".." in value:
        raise ValidationError("A name cannot contain '..'.")
    if value[:1] in ("-", "."):
        raise ValidationError("A name cannot start with '-' or '.'.")
    if len(value) > 64:
        raise ValidationError("Use at most 64 characters.")
    if not _NAME_RE.match(value):
        raise ValidationError("Use only letters, digits and . _ -")


def normalise_path(value):
    """An absolute path without '..', with doubled and trailing slashes folded away."""
    if not value.startswith("/"):
        raise ValidationError("Give an absolute path, starting with /.")
    if ".." in value.split("/"):
        raise ValidationError("'..' is not allowed in a path.")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError("A path cannot contain control characters.")
    return "/" + posixpath.normpath(value).lstrip("/")


def check_allowed(path):
    """A pool directory must sit strictly inside one of the administrator's prefixes."""
    prefixes = path_prefixes()
    if not any(path.startswith(p) and len(path) > len(p) for p in prefixes):
        raise ValidationError(
            "Pool directories must be inside one of: %(allowed)s (set by the administrator).",
            params={"allowed": ", ".join(prefixes)},
        )


def validate_host(value):
    try:
        ipaddress.ip_address(value)
        return
    except ValueError:
        pass
    if len(value) > 253 or not _HOSTNAME_RE.match(value):
        raise ValidationError("Give a host name (e.g. nfs.example.com) or an IP address.")


def validate_iqn(value):
    if len(value) > 223 or not _IQN_RE.match(value):
        raise ValidationError(
            "An IQN looks like iqn.2024-01.com.example:storage.target1 (iqn.YEAR-MONTH.reversed.domain[:name])."
        )


def _regex(pattern, message):
    def check(value):
        if not pattern.match(value):
            raise ValidationError(message)

    return check


validate_wwn = _regex(_WWN_RE, "A world wide name is 16 hex digits, e.g. 20000000c9831b4b.")
validate_scsi_host = _regex(_SCSI_HOST_RE, "Name the adapter as the kernel does: scsi_host0, scsi_host5, …")
validate_user = _regex(_USER_RE, "Use only letters, digits and . _ @ -")
validate_selinux = _regex(_SELINUX_RE, "An SELinux label looks like system_u:object_r:virt_image_t:s0.")


class NameField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(validators=[validate_name], **kwargs)


class HostNameField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=253, validators=[validate_host], **kwargs)


class IQNField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=223, validators=[validate_iqn], **kwargs)


class PathField(forms.CharField):
    """An absolute path; `allowed=True` keeps it inside the admin's prefixes, `dev=True` under /dev/."""

    def __init__(self, *, allowed=False, dev=False, **kwargs):
        self.allowed, self.dev = allowed, dev
        super().__init__(max_length=1024, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        path = normalise_path(value)
        if self.dev and not path.startswith("/dev/"):
            raise ValidationError("Give a device path under /dev/, e.g. /dev/sdb.")
        if self.allowed:
            check_allowed(path)
        return path


class DeviceListField(forms.CharField):
    """Block devices, one per line, each under /dev/; returns a list without duplicates."""

    widget = forms.Textarea(attrs={"rows": 3})

    def clean(self, value):
        value = super().clean(value)
        devices = []
        for line in (value or "").splitlines():
            line = line.strip()
            if not line:
                continue
            path = normalise_path(line)
            if not path.startswith("/dev/"):
                raise ValidationError(
                    "Each device must be under /dev/, e.g. /dev/sdc (got %(path)s).", params={"path": line}
                )
            if path not in devices:
                devices.append(path)
        return devices


class ModeField(forms.CharField):
    """An octal permission mode; returned as libvirt writes it, four digits ("0711")."""

    def __init__(self, **kwargs):
        super().__init__(max_length=4, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        if not _MODE_RE.match(value):
            raise ValidationError("Give an octal mode of three digits 0–7, e.g. 0711 or 0755.")
        return "0" + value[-3:]


def id_field(label, help_text):
    """A numeric user or group id; blank leaves it to libvirt (the daemon's own)."""
    return forms.IntegerField(required=False, min_value=0, max_value=2**32 - 2, label=label, help_text=help_text)

"""The Disks tab's forms (CD-ROM drives included). The volume, pool and ISO are looked up by id
among all of them: the service says why one the user may not use is refused, and audits it."""

from django import forms

from apps.storage.models import StoragePool, StorageVolume

from .common import ScopedForm, text


def _choice(queryset, message):
    """An id of `queryset`; absent or unknown is refused with `message`."""
    return forms.ModelChoiceField(queryset=queryset, error_messages={"required": message, "invalid_choice": message})


def _volumes():
    return StorageVolume.objects.select_related("pool__host")


class DiskAttachForm(ScopedForm):
    which = "attach"
    volume = _choice(_volumes(), "Choose a volume.")
    bus = text()

    def clean_bus(self):
        return self.cleaned_data["bus"] or "virtio"


class DiskNewForm(ScopedForm):
    which = "new"
    pool = _choice(StoragePool.objects.select_related("host"), "Choose a pool for the new volume.")
    name = text()
    capacity = text()
    unit = text()
    format = text()
    allocation = text()
    bus = text()

    def clean(self):
        d = super().clean()
        for field, default in (("unit", "GiB"), ("format", "qcow2"), ("bus", "virtio")):
            if field in d:
                d[field] = d[field] or default
        return d


class DiskDetachForm(ScopedForm):
    which = "detach"


class DiskResizeForm(ScopedForm):
    which = "resize"
    capacity = text()
    unit = text()

    def clean_unit(self):
        return self.cleaned_data["unit"] or "GiB"


class CdromForm(ScopedForm):
    """Insert (an ISO is needed), eject, or add a drive (empty without an ISO)."""

    which = "cdrom"
    iso = forms.ModelChoiceField(
        queryset=_volumes(),
        required=False,
        error_messages={"invalid_choice": "Choose an ISO from the library."},
    )
    bus = text()

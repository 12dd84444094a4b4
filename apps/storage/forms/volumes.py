"""Volume forms. The rules live in apps/storage/services/volumes.py so the API and commands refuse
the same input with the same words; the forms apply them early to show each by its field.

Units and names are plain text fields on purpose: a select would answer a forged unit with
Django's "Select a valid choice", where the service's message says which units exist.
"""

from django import forms

from apps.accounts.forms import Styled
from apps.storage.services.volumes import (
    UNITS,
    VolumeError,
    check_new_name,
    check_space,
    parse_size,
    validate_name,
)
from apps.storage.virt.volume_xml import FORMATS

UNIT_WIDGET = forms.Select(choices=[(u, u) for u in UNITS])


def _checked(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except VolumeError as exc:
        raise forms.ValidationError(str(exc)) from None


class _SizeMixin:
    def size(self, required=True):
        """Bytes from capacity + unit, or None (with the error on the capacity field)."""
        amount, unit = self.cleaned_data.get("capacity"), self.cleaned_data.get("unit") or "GiB"
        if amount in (None, "") and not required:
            return None
        try:
            return parse_size(amount, unit)
        except VolumeError as exc:
            self.add_error("unit" if str(exc).startswith("Unknown unit") else "capacity", str(exc))
            return None


class VolumeCreateForm(_SizeMixin, Styled, forms.Form):
    name = forms.CharField(strip=False, help_text="A file name in the pool, e.g. web01.qcow2.")
    capacity = forms.CharField(required=False, help_text="Virtual size. Empty for an overlay: the backing size.")
    unit = forms.CharField(initial="GiB", widget=UNIT_WIDGET)
    format = forms.ChoiceField(choices=[(f, f) for f in reversed(FORMATS)], initial="qcow2")
    allocation = forms.ChoiceField(
        choices=[
            ("sparse", "Sparse: takes space as data is written (like dd seek=)"),
            ("preallocated", "Preallocated: reserves the whole size now (like dd count=)"),
        ],
        initial="sparse",
        widget=forms.RadioSelect,
    )
    backing = forms.ModelChoiceField(queryset=None, required=False, help_text="qcow2 only: an overlay on this volume.")

    def __init__(self, *args, pool, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool = pool
        self.fields["backing"].queryset = pool.volumes.all()

    def clean_name(self):
        return _checked(check_new_name, self.pool, self.cleaned_data["name"])

    def clean(self):
        data = super().clean()
        backing, fmt = data.get("backing"), data.get("format")
        preallocate = data.get("allocation") == "preallocated"
        if backing is not None and fmt != "qcow2":
            self.add_error("backing", "Only a qcow2 volume can have a backing volume.")
        if backing is not None and preallocate:
            self.add_error("allocation", "An overlay on a backing volume cannot be preallocated (libvirt refuses it).")
        size = self.size(required=backing is None)
        if size is not None:
            pool = self.pool
            try:
                check_space(
                    capacity=size, pool_capacity=pool.capacity, available=pool.available, preallocate=preallocate
                )
            except VolumeError as exc:
                self.add_error("capacity", str(exc))
        return data

    def service_kwargs(self):
        d = self.cleaned_data
        return {
            "pool": self.pool,
            "name": d["name"],
            "capacity": d["capacity"],
            "unit": d["unit"] or "GiB",
            "format": d["format"],
            "preallocate": d["allocation"] == "preallocated",
            "backing": d["backing"],
        }


class VolumeResizeForm(_SizeMixin, Styled, forms.Form):
    capacity = forms.CharField(help_text="The new virtual size.")
    unit = forms.CharField(initial="GiB", widget=UNIT_WIDGET)
    shrink = forms.BooleanField(required=False, label="Allow shrinking (cuts off the data past the new end)")

    def clean(self):
        data = super().clean()
        self.size()
        return data


class VolumeCloneForm(Styled, forms.Form):
    new_name = forms.CharField(strip=False, label="Name of the copy")

    def __init__(self, *args, volume, **kwargs):
        super().__init__(*args, **kwargs)
        self.volume = volume

    def clean_new_name(self):
        return _checked(check_new_name, self.volume.pool, self.cleaned_data["new_name"])


class VolumeUploadForm(Styled, forms.Form):
    """What the upload script declares before sending the data: the name and the exact size."""

    name = forms.CharField(strip=False)
    size = forms.CharField(help_text="The file's size in bytes.")
    existing = forms.BooleanField(required=False)

    def clean_name(self):
        return _checked(validate_name, self.cleaned_data["name"])

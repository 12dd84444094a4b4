"""The VM list's filter and sort: validated from the query string, applied in the query."""

from django import forms
from django.db.models.functions import Lower

from apps.hosts.selectors import DROPPED_HOST

from .models import VMState

# Groups a user thinks in, beside libvirt's exact states.
STATE_GROUPS = {
    "active": ["running", "blocked", "paused", "shutdown", "pmsuspended"],
    "inactive": ["shutoff", "crashed", "nostate"],
}
SORTS = {
    "name": (Lower("name"), "host__name"),
    "host": ("host__name", Lower("name")),
    "state": ("state", Lower("name")),
    "vcpus": ("vcpus", Lower("name")),
    "memory": ("max_memory_kib", Lower("name")),
}
PAGE_SIZES = (25, 50, 100, 200)


class VMListFilter(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Name")
    host = forms.ModelChoiceField(queryset=None, required=False, empty_label="All hosts")
    state = forms.ChoiceField(
        required=False,
        choices=[("", "Any state"), ("active", "active"), ("inactive", "inactive"), *VMState.choices],
    )
    sort = forms.ChoiceField(required=False, choices=[(k, k) for s in SORTS for k in (s, f"-{s}")])
    per_page = forms.TypedChoiceField(
        required=False, coerce=int, choices=[(n, n) for n in PAGE_SIZES], empty_value=PAGE_SIZES[1]
    )

    def __init__(self, data, *, hosts):
        # A host the user may not see (a colleague's shared link) or that is gone is dropped with
        # a note above the list rather than refused: the rest of the filter still applies.
        self.notes = []
        value = data.get("host") if data else None
        if value and not (str(value).isdigit() and hosts.filter(pk=int(value)).exists()):
            data = data.copy()
            data.pop("host")
            self.notes.append(DROPPED_HOST)
        super().__init__(data)
        self.fields["host"].queryset = hosts

    def apply(self, qs):
        """Filter and order the VMs; call after is_valid() (invalid fields count as not given)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        if data.get("q"):
            qs = qs.filter(name__icontains=data["q"])
        state = data.get("state")
        if state in STATE_GROUPS:
            qs = qs.filter(state__in=STATE_GROUPS[state])
        elif state:
            qs = qs.filter(state=state)
        sort = data.get("sort") or "name"
        keys = SORTS[sort.lstrip("-")]
        if sort.startswith("-"):
            keys = tuple(k.desc() if hasattr(k, "desc") else f"-{k}" for k in keys[:1]) + keys[1:]
        return qs.order_by(*keys, "pk")

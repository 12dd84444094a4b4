"""The task center's filters and its keyset pagination.

Pages are cut by (created_at, id), newest first, never by OFFSET: a cursor names the last row
shown, and the next page is the rows after it in that order — `(created_at, id) < (t, id)`, a
condition PostgreSQL answers by starting an index walk at the cursor (the indexes are in
models.Operation.Meta), so a page deep in a million rows costs what the first one does. Two
operations queued in the same microsecond are told apart by id, so none is skipped or repeated.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django import forms
from django.db.models import F
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

from apps.audit.filters import until_precision
from apps.audit.search import name_contains

from . import labels, runners
from .models import FAILURES, Status

PAGE_SIZE = 50
FILTERS = ("mine", "status", "kind", "host", "target", "since", "until")


class OperationFilterForm(forms.Form):
    mine = forms.ChoiceField(required=False, choices=[("", "everyone"), ("1", "me")], label="Asked by")
    status = forms.ChoiceField(required=False, choices=[("", "any status"), *Status.choices])
    kind = forms.ChoiceField(required=False, label="Kind")
    host = forms.CharField(required=False, max_length=255)
    target = forms.CharField(required=False, max_length=255, label="Target")
    since = forms.DateTimeField(required=False, label="From")
    until = forms.DateTimeField(required=False, label="To")

    PLACEHOLDERS = {"host": "host name or id", "target": "part of a name"}

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        kinds = sorted(runners.kinds(), key=labels.label)
        self.fields["kind"].choices = [("", "any kind"), *((k, labels.label(k)) for k in kinds)]
        for name in ("since", "until"):
            self.fields[name].widget = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"})
        self.fields["until"].widget.attrs["title"] = "inclusive, to the precision given"
        for name, field in self.fields.items():
            css = (
                "form-select form-select-sm" if isinstance(field, forms.ChoiceField) else "form-control form-control-sm"
            )
            field.widget.attrs["class"] = css
            if name in self.PLACEHOLDERS:
                field.widget.attrs["placeholder"] = self.PLACEHOLDERS[name]

    def clean_until(self):
        value = self.cleaned_data["until"]
        if value is None:
            return None
        return value + until_precision(str(self.data.get("until", "")).strip())

    def active(self):
        """The filters in use, as typed (for the links that keep them)."""
        if not self.is_bound:
            return {}
        return {name: str(self.data.get(name)).strip() for name in FILTERS if str(self.data.get(name, "")).strip()}

    def querystring(self):
        return urlencode(self.active())

    def own_failures(self):
        """Exactly "my failed operations": what the unseen-failures notice links to."""
        return self.is_valid() and self.cleaned_data["mine"] == "1" and self.cleaned_data["status"] == Status.FAILED


def apply(qs, data, user):
    """Narrow `qs` by a valid form's cleaned_data."""
    if data.get("mine") == "1":
        qs = qs.filter(actor=user)
    if data.get("status") == Status.FAILED:
        qs = qs.filter(status__in=FAILURES)  # a lost run failed too; "lost" alone shows only those
    elif data.get("status"):
        qs = qs.filter(status=data["status"])
    if data.get("kind"):
        qs = qs.filter(kind=data["kind"])
    if data.get("host"):
        host = data["host"]
        qs = qs.filter(host_id=int(host)) if host.isdigit() else qs.filter(host_name=host)
    if data.get("target"):
        qs = name_contains(qs, "target_name", data["target"])
    if data.get("since") is not None:
        qs = qs.filter(created_at__gte=data["since"])
    if data.get("until") is not None:
        qs = qs.filter(created_at__lt=data["until"])
    return qs


# -- keyset pagination --------------------------------------------------------------------------

KEY = Tuple(F("created_at"), F("id"))


def cursor_of(op):
    """A row's place in the order, for a link: "<microseconds since the epoch>.<id>"."""
    delta = op.created_at - datetime(1970, 1, 1, tzinfo=UTC)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}.{op.pk}"


def parse_cursor(value):
    """(created_at, id) from a cursor, or None for anything else (a hand-edited link)."""
    micros, dot, pk = str(value or "").partition(".")
    if not (dot and micros.isdigit() and pk.isdigit()):
        return None
    try:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros)), int(pk)
    except OverflowError:
        return None


@dataclass
class Page:
    rows: list
    has_older: bool
    has_newer: bool
    is_newest: bool

    @property
    def older_cursor(self):
        return cursor_of(self.rows[-1]) if self.rows else None

    @property
    def newer_cursor(self):
        return cursor_of(self.rows[0]) if self.rows else None


def paginate(qs, *, before=None, after=None, size=PAGE_SIZE):
    """One page, newest first: the newest, the one older than cursor `before`, or the one newer
    than cursor `after` (fewer than a page newer than it: the newest page)."""
    before, after = parse_cursor(before), parse_cursor(after)
    if after is not None:
        rows = list(qs.filter(TupleGreaterThan(KEY, after)).order_by("created_at", "id")[: size + 1])
        if len(rows) > size:
            rows = rows[:size]
            rows.reverse()
            return Page(rows, has_older=True, has_newer=True, is_newest=False)
        before = None
    if before is not None:
        rows = list(qs.filter(TupleLessThan(KEY, before)).order_by("-created_at", "-id")[: size + 1])
        return Page(rows[:size], has_older=len(rows) > size, has_newer=True, is_newest=False)
    rows = list(qs.order_by("-created_at", "-id")[: size + 1])
    return Page(rows[:size], has_older=len(rows) > size, has_newer=False, is_newest=True)

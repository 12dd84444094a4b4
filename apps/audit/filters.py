"""The audit page's filters and its keyset pagination.

Pages are cut by id ("older than id X", "newer than id Y"), never by OFFSET: the database walks an
index from the cursor and stops after one page, so page 20,000 costs what page 1 costs. Time
filters become id ranges too (time never goes backwards in id order, see services.record), so
"last Tuesday" is two index lookups and then the same cheap walk.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django import forms

from . import registry, search
from .models import AuditEvent, Outcome
from .selectors import target_types

PAGE_SIZE = 50
FILTERS = ("q", "since", "until", "user", "action", "target_type", "target", "target_id", "host", "outcome")


_TYPED = re.compile(r"^\d{4}-\d{2}-\d{2}(?P<minute>[ T]\d{2}:\d{2})?(?P<second>:\d{2})?(?:\.(?P<fraction>\d{1,6}))?")


def until_precision(raw):
    """The unit of the last digit typed: a day, a minute, a second or a fraction of one."""
    typed = _TYPED.match(raw)
    if typed is None or not typed["minute"]:
        return timedelta(days=1)
    if not typed["second"]:
        return timedelta(minutes=1)
    if not typed["fraction"]:
        return timedelta(seconds=1)
    return timedelta(microseconds=10 ** (6 - len(typed["fraction"])))


def _action_choices():
    groups = {}
    for action in registry.all_actions():
        groups.setdefault(action.code.split(".")[0], []).append((action.code, action.code))
    return [("", "any action"), *sorted(groups.items())]


class EventFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    since = forms.DateTimeField(required=False, label="From")
    until = forms.DateTimeField(required=False, label="To")
    user = forms.CharField(required=False, max_length=150)
    action = forms.ChoiceField(required=False)
    target_type = forms.ChoiceField(required=False, label="Target type")
    target = forms.CharField(required=False, max_length=255, label="Target name")
    target_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    host = forms.CharField(required=False, max_length=255)
    outcome = forms.ChoiceField(required=False, choices=[("", "any outcome"), *Outcome.choices])

    PLACEHOLDERS = {
        "q": "words in any field",
        "user": 'user name, or "system"',
        "target": "part of a name",
        "host": "host name or id",
    }

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["action"].choices = _action_choices()
        self.fields["target_type"].choices = [("", "any type"), *((t, t) for t in target_types())]
        for name in ("since", "until"):
            self.fields[name].widget = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"})
        self.fields["until"].widget.attrs["title"] = "inclusive, to the precision given"
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.HiddenInput):
                continue
            if isinstance(field, forms.ChoiceField):
                field.widget.attrs["class"] = "form-select form-select-sm"
            else:
                field.widget.attrs["class"] = "form-control form-control-sm"
            if name in self.PLACEHOLDERS:
                field.widget.attrs["placeholder"] = self.PLACEHOLDERS[name]

    def clean_until(self):
        """Make "to" an exclusive bound one unit past what was typed: a date covers its whole day,
        a minute (what a datetime-local input sends) the whole minute."""
        value = self.cleaned_data["until"]
        if value is None:
            return None
        return value + until_precision(str(self.data.get("until", "")).strip())

    def active(self):
        """The filters in use, as they were typed (for links that keep them)."""
        if not self.is_bound:
            return {}
        return {name: str(self.data.get(name)).strip() for name in FILTERS if str(self.data.get(name, "")).strip()}

    def querystring(self):
        return urlencode(self.active())


def apply(qs, data):
    """Narrow `qs` by a valid form's cleaned_data."""
    if data.get("q"):
        qs = search.search(qs, data["q"])
    if data.get("user"):
        qs = qs.filter(actor_name="" if data["user"].lower() == "system" else data["user"])
    if data.get("action"):
        qs = qs.filter(action=data["action"])
    if data.get("outcome"):
        qs = qs.filter(outcome=data["outcome"])
    if data.get("target_type"):
        qs = qs.filter(target_type=data["target_type"])
    if data.get("target_id"):
        qs = qs.filter(target_id=data["target_id"])
    if data.get("target"):
        qs = search.name_contains(qs, "target_name", data["target"])
    if data.get("host"):
        host = data["host"]
        qs = qs.filter(host_id=int(host)) if host.isdigit() else qs.filter(host_name=host)
    return _time_range(qs, data.get("since"), data.get("until"))


def _time_range(qs, since, until):
    table = AuditEvent.objects.all()  # bounds come from the whole table, not the user's view of it
    if since is not None:
        first = table.filter(time__gte=since).order_by("time", "id").values_list("id", flat=True).first()
        if first is None:
            return qs.none()
        qs = qs.filter(id__gte=first, time__gte=since)
    if until is not None:
        last = table.filter(time__lt=until).order_by("-time", "-id").values_list("id", flat=True).first()
        if last is None:
            return qs.none()
        qs = qs.filter(id__lte=last, time__lt=until)
    return qs


@dataclass
class Page:
    rows: list
    has_older: bool
    has_newer: bool
    is_newest: bool

    @property
    def older_cursor(self):
        return self.rows[-1].pk if self.rows else None

    @property
    def newer_cursor(self):
        return self.rows[0].pk if self.rows else None


def _cursor(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def paginate(qs, *, before=None, after=None, size=PAGE_SIZE):
    """One page, newest first: the newest, the one older than id `before`, or newer than `after`."""
    before, after = _cursor(before), _cursor(after)
    if after is not None:
        rows = list(qs.filter(id__gt=after).order_by("id")[: size + 1])
        if len(rows) > size:
            rows = rows[:size]
            rows.reverse()
            return Page(rows, has_older=True, has_newer=True, is_newest=False)
        before = None  # fewer than a page newer than the cursor: that is the newest page
    if before is not None:
        rows = list(qs.filter(id__lt=before).order_by("-id")[: size + 1])
        return Page(rows[:size], has_older=len(rows) > size, has_newer=True, is_newest=False)
    rows = list(qs.order_by("-id")[: size + 1])
    return Page(rows[:size], has_older=len(rows) > size, has_newer=False, is_newest=True)

"""What a grant can be scoped to. Domain apps register their object types here (hosts, VMs, later
networks and pools), so accounts can offer them in forms without importing those apps."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ScopeType:
    code: str
    label: str
    queryset: Callable


_types: dict[str, ScopeType] = {}


def register(code, label, queryset):
    if code in _types:
        raise RuntimeError(f"scope type {code!r} registered twice")
    _types[code] = ScopeType(code, label, queryset)


def types():
    return list(_types.values())


EVERYTHING = "everything"


def choices():
    """Grouped choices for a select: a blank first entry (nothing is granted by default, so
    "Everything" is always a choice someone made), "Everything", then one group per type."""
    groups = [("", "Choose what the grant is on…"), ("Everywhere", [(EVERYTHING, "Everything")])]
    for t in _types.values():
        groups.append((t.label, [(f"{t.code}:{obj.pk}", str(obj)) for obj in t.queryset()]))
    return groups


def resolve(value):
    """ "vm:12" -> the VM, "everything" -> None; ValueError for anything else, a blank too."""
    if value == EVERYTHING:
        return None
    if not value:
        raise ValueError("Choose what the grant is on: one object, or Everything.")
    code, _, pk = value.partition(":")
    if code not in _types or not pk.isdigit():
        raise ValueError(f"unknown scope {value!r}")
    obj = _types[code].queryset().filter(pk=int(pk)).first()
    if obj is None:
        raise ValueError(f"no {code} with id {pk}")
    return obj

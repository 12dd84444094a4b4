"""Free-text search over the audit log.

On PostgreSQL each word becomes `<text of the row> ILIKE '%word%'` on the exact expression that a
pg_trgm GIN index is built on (migration 0004), so substring search — an IP fragment, half a VM
name, part of an error — uses the index instead of reading a million rows. Elsewhere (the SQLite
demo) the same words are matched with icontains, which scans; fine for a demo's size.
"""

from django.db import connection
from django.db.models import BooleanField, Func, Q, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

# Must stay identical to the indexed expression in migrations/0004_search_trgm.py (a test checks).
SEARCH_SQL = (
    "(actor_name || ' ' || action || ' ' || target_name || ' ' || host_name || ' ' || error || ' ' || params::text)"
)
SEARCH_FIELDS = ("actor_name", "action", "target_name", "host_name", "error")


class ILike(Func):
    arg_joiner = " ILIKE "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def like_pattern(word):
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _postgres():
    return connection.vendor == "postgresql"


def text_matches(words):
    """A condition for rows containing every word (case-insensitive), or None for no words."""
    conditions = []
    for word in words.split():
        if _postgres():
            conditions.append(ILike(RawSQL(SEARCH_SQL, [], output_field=TextField()), Value(like_pattern(word))))
        else:
            q = Q(params_text__icontains=word)
            for field in SEARCH_FIELDS:
                q |= Q(**{f"{field}__icontains": word})
            conditions.append(q)
    return conditions


def search(qs, words):
    conditions = text_matches(words)
    if conditions and not _postgres():
        qs = qs.alias(params_text=Cast("params", TextField()))
    for condition in conditions:
        qs = qs.filter(condition)
    return qs


def name_contains(qs, field, text):
    """`field` contains `text`, through its trigram index on PostgreSQL."""
    if _postgres():
        return qs.filter(ILike(field, Value(like_pattern(text))))
    return qs.filter(**{f"{field}__icontains": text})

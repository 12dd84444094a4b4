"""The hash chain: each record carries sha256(previous hash + canonical JSON of its own content).

The canonical form must come out the same for a row about to be inserted and for the same row read
back from PostgreSQL, SQLite or an export file years later, so every value is normalised here
(time as ISO UTC with microseconds, addresses through `ipaddress`, integral floats as ints, keys
sorted). Changing this format breaks every stored hash: add fields only with a version bump.
"""

import hashlib
import ipaddress
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime

HASHED_FIELDS = (
    "time",
    "actor_id",
    "actor_name",
    "source_ip",
    "user_agent",
    "action",
    "outcome",
    "target_type",
    "target_id",
    "target_name",
    "host_id",
    "host_name",
    "params",
    "changes",
    "error",
    "operation_id",
    "request_id",
)
_INT_FIELDS = {"actor_id", "host_id", "operation_id"}
_JSON_FIELDS = {"params", "changes"}


def iso_time(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_value(value):
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)  # jsonb may hand 1e20 back as an integer; 1.0 and 1 must hash alike
    return value


def _value(name, value):
    if name == "time":
        return iso_time(value)
    if name in _INT_FIELDS:
        return None if value in (None, "") else int(value)
    if name == "source_ip":
        return None if not value else str(ipaddress.ip_address(str(value)))
    if name in _JSON_FIELDS:
        return _json_value(value or {})
    return "" if value is None else str(value)


def _get(row, name):
    if isinstance(row, dict):
        return row.get(name)
    return getattr(row, name)


def canonical(row):
    """The row's content (a model instance or a dict) as one stable JSON string."""
    content = {name: _value(name, _get(row, name)) for name in HASHED_FIELDS}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash, row):
    return hashlib.sha256(((prev_hash or "") + canonical(row)).encode()).hexdigest()


@dataclass(frozen=True)
class Break:
    id: int
    time: str
    reason: str

    def __str__(self):
        return f"chain broken at id {self.id} ({self.time}): {self.reason}"


@dataclass(frozen=True)
class Result:
    count: int
    head: str
    broken: Break | None


def walk(rows, anchors=()):
    """Check rows given in id order. The first row may start the chain ("") or continue from an
    anchor recorded by a prune; every later row must point at the hash of the row before it."""
    expected = None
    count = 0
    last = ""
    for row in rows:
        count += 1
        row_id, prev, stored = _get(row, "id"), _get(row, "prev_hash") or "", _get(row, "hash") or ""
        when = iso_time(_get(row, "time"))
        if expected is None:
            if prev and prev not in anchors:
                reason = f"prev_hash mismatch: the first row points at {prev[:16]}…, which no audit.prune recorded"
                return Result(count, last, Break(row_id, when, reason))
        elif prev != expected:
            reason = f"prev_hash mismatch: row points at {prev[:16]}…, the row before has {expected[:16]}…"
            return Result(count, last, Break(row_id, when, reason))
        computed = row_hash(prev, row)
        if computed != stored:
            reason = f"wrong hash: stored {stored[:16]}…, content hashes to {computed[:16]}… (the row was changed)"
            return Result(count, last, Break(row_id, when, reason))
        expected = last = stored
    return Result(count, last, None)

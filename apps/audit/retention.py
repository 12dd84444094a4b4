"""Retention and verification: the one way audit rows are ever removed, and how the chain survives it.

Only a prefix of the chain (in id order) is removed, so the rows that stay are still one unbroken
chain; the `audit.prune` record carries the hash of the last removed row ("anchor"), which the
first remaining row points at, so audit_verify can tell a sanctioned prune from a deletion.

The rows are written to the export file and flushed to disk before anything is deleted. Rows
never change, so exporting outside the transaction is safe; the transaction then checks nothing
moved, records the prune and deletes. The record is written before the delete (both commit
together) so that it still chains onto the last removed row when nothing newer is left.
"""

import json
import os
from dataclasses import dataclass

from django.db import connection, transaction

from . import chain, services
from .export import as_dict
from .models import AuditEvent, Outcome


class PruneError(Exception):
    pass


@dataclass(frozen=True)
class PruneResult:
    count: int
    anchor: str
    upto_id: int | None
    event: AuditEvent | None


def prune_boundary(before):
    """The last id to remove: everything older than the first row at or after `before`."""
    first_kept = AuditEvent.objects.filter(time__gte=before).order_by("time", "id").values_list("id", flat=True).first()
    rows = AuditEvent.objects.all()
    if first_kept is not None:
        rows = rows.filter(id__lt=first_kept)
    return rows.order_by("-id").values_list("id", "hash").first()


def _delete_upto(upto_id):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The append-only trigger lets a DELETE through only in a transaction that says so.
            cursor.execute("SET LOCAL kvmweb.audit_prune = 'on'")
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id <= %s", [upto_id])
        deleted = cursor.rowcount
        if connection.vendor == "postgresql":
            # Off again at once, in case the caller's transaction goes on to do more.
            cursor.execute("SET LOCAL kvmweb.audit_prune = 'off'")
        return deleted


def prune(*, before, out, actor=None):
    """Export every record older than `before` to the file `out` (JSON lines; it must not exist
    yet), then remove them and record an audit.prune event."""
    boundary = prune_boundary(before)
    if boundary is None:
        return PruneResult(0, "", None, None)
    upto_id, anchor = boundary
    rows = AuditEvent.objects.filter(id__lte=upto_id).order_by("id")
    count = 0
    with open(out, "x", encoding="utf-8") as fh:  # "x": never overwrite an earlier export
        for event in rows.iterator(chunk_size=2000):
            fh.write(json.dumps(as_dict(event), ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
        fh.flush()
        os.fsync(fh.fileno())
    with transaction.atomic():
        services.lock_chain()
        if prune_boundary(before) != boundary or rows.count() != count:
            raise PruneError("the audit log changed during the export (another prune?); nothing was removed")
        params = {"before": before.isoformat(), "count": count, "file": os.path.abspath(out), "anchor": anchor}
        event = services.record("audit.prune", Outcome.SUCCEEDED, actor=actor, params=params)
        deleted = _delete_upto(upto_id)
        if deleted != count:
            raise PruneError(f"expected to remove {count} records, the database removed {deleted}; rolled back")
    return PruneResult(count, anchor, upto_id, event)


def anchors():
    """Hashes that a first remaining row may legitimately point at: those recorded by prunes."""
    found = set()
    for params in AuditEvent.objects.filter(action="audit.prune").values_list("params", flat=True):
        if isinstance(params, dict) and params.get("anchor"):
            found.add(params["anchor"])
    return found


def verify():
    """Walk the whole chain in id order (see chain.walk)."""
    rows = AuditEvent.objects.order_by("id").iterator(chunk_size=2000)
    return chain.walk(rows, anchors())

"""Mirroring libvirt objects (domains, pools) into inventory rows keyed by host and UUID.

The monitor and the workers both write these rows for the same objects, so creation tolerates a
concurrent insert and updates lock the row. Rows whose object disappeared stay, with
present=False, so their history still points somewhere. `publish(row, change)` is called with
"created", "updated" or "deleted" for what actually changed, nothing otherwise.
"""

import uuid as uuidlib

from django.db import transaction


@transaction.atomic
def mirror_apply(model, *, host, uuid, info, fields, publish, on_gone=None):
    """Bring one row in line with what libvirt says (info None: the object is gone)."""
    if info is None:
        row = model.objects.select_for_update().filter(host=host, uuid=uuid).first()
        if row is not None and row.present:
            row.present = False
            row.save(update_fields=["present", "updated_at"])
            if on_gone is not None:
                on_gone(row)
            publish(row, "deleted")
        return row
    row, created = model.objects.get_or_create(host=host, uuid=uuid, defaults={f: getattr(info, f) for f in fields})
    if created:
        publish(row, "created")
        return row
    row = model.objects.select_for_update().get(pk=row.pk)
    changed = [f for f in fields if getattr(row, f) != getattr(info, f)]
    revived = not row.present
    if changed or revived:
        for f in changed:
            setattr(row, f, getattr(info, f))
        row.present = True
        row.save(update_fields=[*changed, "present", "updated_at"])
        publish(row, "created" if revived else "updated")
    return row


def mirror_sync(model, *, host, infos, fields, apply):
    """Reconcile a host's rows with one bulk listing, calling `apply(uuid, info)` only for what
    changed (info None for what is gone). Returns the present rows, in listing order."""
    seen = {uuidlib.UUID(i.uuid): i for i in infos}
    rows = {row.uuid: row for row in model.objects.filter(host=host)}
    present = []
    for key, info in seen.items():
        row = rows.get(key)
        if row is None or not row.present or any(getattr(row, f) != getattr(info, f) for f in fields):
            row = apply(str(key), info)
        present.append(row)
    for key, row in rows.items():
        if row.present and key not in seen:
            apply(str(key), None)
    return present

"""Streaming the filtered audit log as CSV or JSON lines.

Rows are read with a server-side cursor (iterator(chunk_size=…)) and sent in blocks, so exporting a
million rows holds one block in memory, not the whole log. Under ASGI the stream must be an async
iterator (Django would otherwise buffer a sync one completely), so it is adapted block by block.
"""

import csv
import io
import json

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse

from . import chain

CHUNK = 2000
# Every field the hash covers, so an export can be verified on its own (see chain.canonical).
COLUMNS = ("id", *chain.HASHED_FIELDS, "prev_hash", "hash")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_dict(event):
    """A row as plain JSON values; enough to recompute its hash (see chain.canonical)."""
    row = {name: getattr(event, name) for name in COLUMNS}
    row["time"] = chain.iso_time(event.time)
    return row


def _csv_cell(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if value is None:
        return ""
    # A cell starting like a formula would run in a spreadsheet; a leading quote keeps it text.
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_blocks(qs):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for n, event in enumerate(qs.iterator(chunk_size=CHUNK), start=1):
        writer.writerow([_csv_cell(v) for v in as_dict(event).values()])
        if n % CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def jsonl_blocks(qs):
    lines = []
    for event in qs.iterator(chunk_size=CHUNK):
        lines.append(json.dumps(as_dict(event), ensure_ascii=False, sort_keys=True))
        if len(lines) == CHUNK:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"


async def _async_blocks(blocks):
    take = sync_to_async(lambda: next(blocks, None), thread_sensitive=True)
    while (block := await take()) is not None:
        yield block


def streaming_response(request, blocks, *, content_type, filename):
    content = _async_blocks(iter(blocks)) if isinstance(request, ASGIRequest) else blocks
    response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response

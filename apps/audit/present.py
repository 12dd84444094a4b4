"""How one audit record reads on the page: a sentence with the object's name, changes in words,
and the outcome of the work joined onto the request that asked for it.

The data keeps every record (a request and its outcome are two rows, both hashed, both exported);
only the page folds them into one line per action. Nothing here writes or filters records.
"""

import json
from dataclasses import dataclass, field

from apps.authz.permissions import PERMISSIONS

from . import registry
from .models import Outcome
from .scrub import MASK

# Actions whose sentence names more than the target: the params they read are named in braces,
# `{object}` is the target's name. A missing param falls back to the registered label.
SENTENCES = {
    "vm.snapshot_create": "took snapshot {name} of VM {object}",
    "vm.snapshot_revert": "reverted VM {object} to snapshot {name}",
    "vm.snapshot_delete": "deleted snapshot {name} of VM {object}",
    "vm.clone": "cloned VM {object} as {name}",
    "vm.disk_attach": "attached volume {volume} to VM {object}",
    "vm.disk_detach": "detached disk {target} from VM {object}",
    "vm.disk_new": "created volume {name} and attached it to VM {object}",
    "vm.disk_resize": "resized disk {target} of VM {object}",
    "vm.cdrom_insert": "inserted ISO {iso} into VM {object}",
    "vm.nic_add": "added a NIC on {source} to VM {object}",
    "vm.nic_remove": "removed NIC {mac} from VM {object}",
    "vm.nic_link": "set the link of NIC {mac} of VM {object} {state}",
    "vm.state_outside": "saw VM {object} go from {from} to {to} outside kvmweb",
}

# What a refused request tried, by the right it needed (a refusal records the right, not the click).
ATTEMPTS = {
    "host.view": "see",
    "host.manage": "manage",
    "vm.view": "see",
    "vm.power": "start, stop or pause",
    "vm.console": "open the console of",
    "vm.edit": "change",
    "vm.create": "create or clone a VM on",
    "vm.delete": "delete",
    "vm.snapshot": "take, revert or delete a snapshot of",
    "vm.migrate": "migrate",
    "network.view": "see",
    "network.manage": "change",
    "network.use": "connect a VM to",
    "storage.view": "see",
    "storage.manage": "change",
    "storage.use": "use",
    "secret.manage": "manage",
    "operation.view": "see",
}
# What a refusal tried, when the refusal names the action (params "attempt"), as an order.
ORDERS = {
    "vm.start": "start",
    "vm.shutdown": "shut down",
    "vm.reboot": "reboot",
    "vm.destroy": "force off",
    "vm.suspend": "pause",
    "vm.resume": "resume",
    "vm.delete": "delete",
    "vm.clone": "clone",
    "vm.settings": "change the settings of",
    "vm.xml_edit": "edit the XML of",
    "vm.define": "define from XML",
    "vm.snapshot_create": "take a snapshot of",
    "vm.snapshot_revert": "revert to a snapshot",
    "vm.snapshot_delete": "delete a snapshot of",
}
NOUNS = {
    "vm": "VM",
    "host": "host",
    "pool": "pool",
    "network": "network",
    "volume": "volume",
    "secret": "secret",
    "user": "user",
    "team": "team",
    "role": "role",
    "operation": "operation",
}

# field -> (label, unit) for changes written in words, in the order the settings form shows them.
FIELDS = {
    "vcpus": ("vCPUs", ""),
    "max_vcpus": ("Maximum vCPUs", ""),
    "vcpus_saved": ("vCPUs at next boot", ""),
    "memory_mib": ("Memory", "MiB"),
    "max_memory_mib": ("Maximum memory", "MiB"),
    "memory_saved_mib": ("Memory at next boot", "MiB"),
    "autostart": ("Autostart", ""),
    "boot": ("Boot order", ""),
    "bootmenu": ("Boot menu", ""),
    "title": ("Title", ""),
    "description": ("Description", ""),
}
LONG = 80  # a change longer than this reads as "changed" with the values folded away
FINAL = {Outcome.SUCCEEDED, Outcome.FAILED, Outcome.CANCELLED}


@dataclass
class Change:
    text: str
    before: str = ""
    after: str = ""
    long: bool = False


@dataclass
class Line:
    """One action as the page shows it: `event` is the request (or the only record), `result` its
    outcome record when there is one."""

    event: object
    result: object = None
    sentence: str = ""
    changes: list = field(default_factory=list)
    details: list = field(default_factory=list)

    @property
    def outcome(self):
        return self.result.outcome if self.result is not None else self.event.outcome

    @property
    def error(self):
        return (self.result.error if self.result is not None else "") or self.event.error

    @property
    def pending(self):
        return self.result is None and self.event.outcome == Outcome.REQUESTED and self.event.operation_id

    @property
    def seconds(self):
        if self.result is None:
            return None
        return max(0, round((self.result.time - self.event.time).total_seconds()))

    @property
    def key(self):
        """Shared by the request's line and, later, the line with its outcome (live updates)."""
        return f"op-{self.event.operation_id}" if self.event.operation_id else f"ev-{self.event.pk}"


def _word(value):
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _quoted(value):
    return f"“{value}”" if isinstance(value, str) else _word(value)


def change_in_words(name, change):
    """'Memory 1024 → 768 MiB', 'Title “a” → “b”'; a secret reads as changed only."""
    label, unit = FIELDS.get(name, (str(name).replace("_", " ").capitalize(), ""))
    if change == MASK:
        return Change(f"{label} changed")
    if not (isinstance(change, dict) and {"before", "after"} >= set(change) and change):
        return Change(f"{label} set to {_word(change)}")
    before, after = change.get("before"), change.get("after")
    show = _quoted if isinstance(before, str) or isinstance(after, str) else _word
    if before == MASK or after == MASK:
        return Change(f"{label} changed")
    b, a = show(before), show(after)
    if len(b) > LONG or len(a) > LONG:
        return Change(f"{label} changed", _word(before), _word(after), long=True)
    return Change(f"{label} {b} → {a}{' ' + unit if unit else ''}")


def _target_phrase(event):
    name = event.target_name or event.target_id
    if not name:
        return ""
    return f"{NOUNS.get(event.target_type, event.target_type)} {name}".strip()


def _refusal(event):
    permission = (event.params or {}).get("permission", "")
    target = _target_phrase(event)
    tried = (event.params or {}).get("attempt")
    attempt = ORDERS.get(tried, tried) if tried else ATTEMPTS.get(permission)
    if attempt and target:
        what = f"{attempt} {target}"
    else:
        what = PERMISSIONS.get(permission, permission or "an action").lower()
        what = f"{what} ({target})" if target else what
    return f"was refused: {what} (needs {permission})" if permission else f"was refused: {what}"


def sentence(event):
    """What happened, with the object's name in it."""
    if event.action == "auth.denied":
        return _refusal(event)
    params = event.params if isinstance(event.params, dict) else {}
    name = event.target_name or event.target_id
    template = SENTENCES.get(event.action)
    if template and name:
        try:
            return template.format(**{k: _word(v) for k, v in params.items()}, object=name)
        except (KeyError, IndexError):
            pass
    try:
        label = registry.get(event.action).label
    except KeyError:
        label = event.action
    if not name or (event.target_type == "user" and name == event.actor_name):
        return label
    noun = NOUNS.get(event.target_type, event.target_type)
    if label.split()[-1] in {noun, "of", "into"}:
        return f"{label} {name}"
    return f"{label}: {noun} {name}"


def _used_by_sentence(event):
    if event.action == "auth.denied":
        return {"permission", "attempt"}
    template = SENTENCES.get(event.action, "")
    return {key for key in (event.params or {}) if "{" + key + "}" in template}


def _field_order(name):
    """Known fields in the order a form shows them, others after them by name (the database's
    JSON keeps no order)."""
    order = list(FIELDS)
    return (order.index(name), "") if name in order else (len(order), str(name))


def line(event, result=None):
    """The Line for a record (and its outcome record, if it has one)."""
    params = event.params if isinstance(event.params, dict) else {}
    changes = dict(params.get("changes") or {}) if isinstance(params.get("changes"), dict) else {}
    changes.update(event.changes or {})
    if result is not None:
        changes.update(result.changes or {})
    used = _used_by_sentence(event) | {"changes"}
    details = [(key.replace("_", " "), _word(value)) for key, value in params.items() if key not in used]
    return Line(
        event=event,
        result=result,
        sentence=sentence(event),
        changes=[change_in_words(k, changes[k]) for k in sorted(changes, key=_field_order)],
        details=details,
    )


def fold(rows, outcome_of, shown_elsewhere):
    """Lines for a page of records, newest first: an outcome record joins its request's line.

    `outcome_of` maps operation id -> outcome record (for the requests on the page);
    `shown_elsewhere` holds the operation ids whose request is in the listing (this page or
    another), so their outcome records are not lines of their own.
    """
    lines = []
    for event in rows:
        op = event.operation_id
        if op and event.outcome in FINAL and op in shown_elsewhere:
            continue
        result = outcome_of.get(op) if op and event.outcome == Outcome.REQUESTED else None
        lines.append(line(event, result))
    return lines

"""libvirt secrets: define, set value, delete — each authorized, an Operation on the host's worker.

The value is write-only: it travels to the worker once, through apps/operations/handoff.py.
"""

import base64
import binascii
import uuid as uuidlib

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from apps.audit import registry
from apps.authz.rights import authorize, rights
from apps.hosts.models import Host, NewOnHost
from apps.operations.handoff import stash_on_commit
from apps.operations.services import operation_queue
from apps.storage.models import Secret, SecretUsage

registry.register("secret.define", "defined secret")
registry.register("secret.set_value", "set the value of secret")
registry.register("secret.delete", "deleted secret")

CEPH_HINT = "A Ceph key is base64, like AQBm…=="
MAX_LENGTH = 255
MAX_VALUE_BYTES = 64 * 1024


class SecretError(Exception):
    """Input refused before anything was queued; the message is for the person who typed it."""


# -- validation: the same rules for forms, API and commands ------------------------------------


def _plain_text(text, what):
    if "\x00" in text:
        raise SecretError(f"The {what} cannot contain a NUL character.")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise SecretError(f"The {what} cannot contain control characters.")
    if len(text) > MAX_LENGTH:
        raise SecretError(f"The {what} is at most {MAX_LENGTH} characters.")
    return text


def clean_usage(usage_type, usage_id):
    """The usage id a secret is looked up by (a Ceph client, an iSCSI target, a volume path…)."""
    if usage_type not in SecretUsage.values:
        raise SecretError(f"Unknown usage type {usage_type!r}.")
    usage_id = _plain_text((usage_id or "").strip(), "usage")
    if not usage_id:
        raise SecretError("The usage cannot be empty.")
    if usage_type == SecretUsage.VOLUME and not usage_id.startswith("/"):
        raise SecretError("A volume secret's usage is the encrypted volume's absolute path.")
    return usage_id


def clean_description(description):
    return _plain_text((description or "").strip(), "description")


@sensitive_variables("value", "raw", "text")
def value_bytes(usage_type, value):
    """What libvirt stores, as `virsh secret-set-value` would: a Ceph key is the base64 text
    `ceph auth get-key` prints, decoded; a passphrase or CHAP password is its UTF-8 bytes."""
    if not value:
        raise SecretError("The value cannot be empty.")
    if usage_type == SecretUsage.CEPH:
        text = "".join(value.split())
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise SecretError(CEPH_HINT) from None
        if not raw or base64.b64encode(raw).decode() != text:  # canonical only: no stray padding
            raise SecretError(CEPH_HINT)
    else:
        raw = value.encode("utf-8")
    if len(raw) > MAX_VALUE_BYTES:
        raise SecretError("The value is too long.")
    return raw


# -- reads -------------------------------------------------------------------------------------


def secrets_visible(user, *, host_id=None, usage_type=None):
    """Secrets the user may see (storage.view on their host, or globally), filtered in the query.
    The RBD and iSCSI pool forms offer these."""
    r = rights(user, "storage.view")
    qs = Secret.objects.filter(present=True).select_related("host")
    if host_id is not None:
        qs = qs.filter(host_id=host_id)
    if usage_type is not None:
        qs = qs.filter(usage_type=usage_type)
    return qs if r.everything else qs.filter(host_id__in=r.ids("host"))


def hosts_for_secrets(user):
    """Hosts on which the user may define secrets."""
    r = rights(user, "secret.manage")
    return Host.objects.all() if r.everything else Host.objects.filter(pk__in=r.ids("host"))


# -- inventory ---------------------------------------------------------------------------------

FIELDS = ("usage_type", "usage_id", "description")


@transaction.atomic
def secret_inventory_apply(*, host, uuid, info, has_value=None):
    """Bring one secret's row in line with libvirt (info None: it is gone). `has_value` is what
    the dashboard knows it just did; otherwise libvirt's answer, kept as tracked when libvirt
    will not say (private secrets)."""
    if info is None:
        row = Secret.objects.select_for_update().filter(host=host, uuid=uuid).first()
        if row is not None and row.present:
            row.present = False
            row.save(update_fields=["present", "updated_at"])
        return row
    if has_value is None:
        has_value = info.value_set
    defaults = {"has_value": bool(has_value), **{f: getattr(info, f) for f in FIELDS}}
    row, created = Secret.objects.get_or_create(host=host, uuid=uuid, defaults=defaults)
    if created:
        return row
    row = Secret.objects.select_for_update().get(pk=row.pk)
    changed = [f for f in FIELDS if getattr(row, f) != getattr(info, f)]
    for f in changed:
        setattr(row, f, getattr(info, f))
    if has_value is not None and row.has_value != has_value:
        row.has_value = has_value
        changed.append("has_value")
    if changed or not row.present:
        row.present = True
        row.save(update_fields=[*changed, "present", "updated_at"])
    return row


def secret_inventory_sync(*, host, infos):
    """The monitor's full pass; infos None means the host has no secret driver (test driver)."""
    if infos is None:
        return []
    seen = {uuidlib.UUID(i.uuid): i for i in infos}
    rows = {s.uuid: s for s in Secret.objects.filter(host=host)}
    result = []
    for key, info in seen.items():
        row = rows.get(key)
        stale = row is None or not row.present or any(getattr(row, f) != getattr(info, f) for f in FIELDS)
        if stale or (info.value_set is not None and row.has_value != info.value_set):
            row = secret_inventory_apply(host=host, uuid=str(key), info=info)
        result.append(row)
    for key, row in rows.items():
        if row.present and key not in seen:
            secret_inventory_apply(host=host, uuid=str(key), info=None)
    return result


# -- changes -----------------------------------------------------------------------------------


@sensitive_variables("value", "raw")  # hidden from error reports
def secret_define(*, actor, host, usage_type, usage_id, description="", value=None):
    """Define a private, persistent secret, and set its value in the same operation if given."""
    authorize(actor, "secret.manage", host)
    usage_id = clean_usage(usage_type, usage_id)
    params = {"usage_type": usage_type, "usage_id": usage_id, "description": clean_description(description)}
    raw = value_bytes(usage_type, value) if value else None
    if Secret.objects.filter(host=host, usage_type=usage_type, usage_id=usage_id, present=True).exists():
        raise SecretError(
            f"{host.name} already has a {usage_type} secret for {usage_id}; set its value instead of defining another."
        )
    params["value"] = "set" if raw else "not set"
    with transaction.atomic():
        if raw:
            params["value_key"] = stash_on_commit(raw)  # the audit scrubber masks *key* names
        return operation_queue(
            actor=actor,
            kind="secret.define",
            target=NewOnHost("secret", host, f"{usage_type} {usage_id}"),
            params=params,
        )


@sensitive_variables("value", "raw")
def secret_set_value(*, actor, secret, value):
    authorize(actor, "secret.manage", secret)
    raw = value_bytes(secret.usage_type, value)
    with transaction.atomic():
        token = stash_on_commit(raw)
        return operation_queue(
            actor=actor,
            kind="secret.set_value",
            target=secret,
            params={"value": "set", "value_key": token},
        )


def secret_delete(*, actor, secret):
    authorize(actor, "secret.manage", secret)
    with transaction.atomic():
        return operation_queue(
            actor=actor,
            kind="secret.delete",
            target=secret,
            params={},
        )



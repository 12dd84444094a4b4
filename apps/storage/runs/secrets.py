"""Secrets on the worker: define, set a value, delete (services/secrets.py queues them; a value
travels through Redis, read exactly once, never in the operation's params)."""

from django.views.decorators.debug import sensitive_variables

from apps.core.errors import OperationError
from apps.hosts.models import Host
from apps.hosts.virt import connection
from apps.operations.handoff import claim, discard
from apps.operations.runners import runner
from apps.storage.models import Secret
from apps.storage.services.secrets import secret_inventory_apply
from apps.storage.virt import secrets as secret_virt
from apps.storage.virt.secret_xml import SecretSpec


def _host(op):
    return Host.objects.filter(pk=op.host_id).first()


def _discard_value(op):
    """A value that waits in Redis for a run that was refused is dropped at once."""
    if (op.params or {}).get("value_key"):
        discard(op.params["value_key"])


@runner("secret.define", permission="secret.manage", target=_host, cleanup=_discard_value)
@sensitive_variables("raw")
def define(op, host):
    p = op.params
    raw = claim(p["value_key"]) if p.get("value_key") else None  # claimed first: never left behind
    spec = SecretSpec(usage_type=p["usage_type"], usage_id=p["usage_id"], description=p["description"])
    with connection.connected(host.uri) as conn:
        uuid = secret_virt.define(conn, spec.to_xml())
        if raw is not None:
            try:
                secret_virt.set_value(conn, uuid, raw)
            except OperationError:
                secret_virt.undefine_quietly(conn, uuid)
                raise
        info = secret_virt.secret_info(conn, uuid)
    if info is None:
        raise OperationError(f"Secret {uuid} was undefined on {host.name} while it was being defined.")
    secret = secret_inventory_apply(host=host, uuid=uuid, info=info, has_value=raw is not None)
    op.target_id = str(secret.pk)
    op.save(update_fields=["target_id"])
    return f"secret {secret} defined" + (", value set" if raw else "")


@runner("secret.set_value", permission="secret.manage", target=Secret, related=["host"], cleanup=_discard_value)
@sensitive_variables("raw")
def set_value(op, secret):
    raw = claim(op.params["value_key"])
    if not secret.present:
        raise OperationError(f"Secret {secret} is no longer defined on {secret.host.name}.")
    with connection.connected(secret.host.uri) as conn:
        secret_virt.set_value(conn, str(secret.uuid), raw)
    Secret.objects.filter(pk=secret.pk).update(has_value=True)
    return f"value set for secret {secret}"


@runner("secret.delete", permission="secret.manage", target=Secret, related=["host"])
def delete(op, secret):
    with connection.connected(secret.host.uri) as conn:
        secret_virt.undefine(conn, str(secret.uuid))
    secret_inventory_apply(host=secret.host, uuid=str(secret.uuid), info=None)
    return f"secret {secret} deleted"


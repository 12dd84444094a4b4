"""Display and console settings on the worker (services/display.py queues them)."""

from django.views.decorators.debug import sensitive_variables

from apps.compute.models import VirtualMachine
from apps.compute.services import display as _services  # noqa: F401  (registers the audit action)
from apps.compute.virt import display as virt
from apps.core import realtime
from apps.hosts.virt import connection
from apps.operations.handoff import claim, discard
from apps.operations.runners import runner


def _discard_password(op):
    """A password that waits in Redis for a run that was refused is dropped at once."""
    if (op.params or {}).get("password_key"):
        discard(op.params["password_key"])


@runner("vm.display", permission="vm.edit", target=VirtualMachine, related=["host"], cleanup=_discard_password)
@sensitive_variables("password")
def display(op, vm):
    p, uuid, done = op.params, str(vm.uuid), []
    password = claim(p["password_key"]).decode() if p.get("password") == "set" else None  # claimed first
    with connection.connected(vm.host.uri) as conn:
        if p.get("add_vnc"):
            done.append(virt.add_vnc(conn, uuid))
        if p.get("password") in ("set", "cleared"):
            done.append(virt.set_vnc_password(conn, uuid, password))
        if p.get("add_serial"):
            done.append(virt.add_serial_console(conn, uuid))
    realtime.publish_on_commit(realtime.host_group(vm.host_id), "vm", id=vm.pk, change="settings")
    return f"{vm.name}: " + "; ".join(done)

"""The consoles' work on the host's worker: a SPICE ticket (spice.py queues it and waits)."""

from django.views.decorators.debug import sensitive_variables

from apps.compute.models import VirtualMachine
from apps.compute.virt import display as virt
from apps.core.errors import VirtError
from apps.hosts.virt import connection
from apps.operations.handoff import claim, discard, reply
from apps.operations.runners import runner

from . import spice as _spice  # noqa: F401  (registers the audit action)


def _refused(op):
    """A run refused before it started: drop the ticket, and tell the waiting request why."""
    p = op.params or {}
    if p.get("ticket_key"):
        discard(p["ticket_key"])
    if p.get("reply_key"):
        reply(p["reply_key"], op.error or "The ticket was refused.")


@runner("vm.spice_ticket", permission="vm.console", target=VirtualMachine, related=["host"], cleanup=_refused)
@sensitive_variables("ticket")
def spice_ticket(op, vm):
    p = op.params
    ticket = claim(p["ticket_key"]).decode()
    try:
        with connection.connected(vm.host.uri) as conn:
            virt.set_ticket(conn, str(vm.uuid), p["graphics"], ticket, p["valid_to"])
    except VirtError as exc:
        reply(p["reply_key"], f"The ticket could not be set: {exc}")
        raise
    reply(p["reply_key"], "ok")
    return f"{vm.name}: a SPICE ticket valid until {p['valid_to']} UTC"

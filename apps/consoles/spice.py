"""A SPICE VM's console for remote-viewer: a .vv file made for the person who asks, with a ticket
(a password the display accepts for two minutes, set by the host's worker) when the display takes
tickets, and the address their viewer can reach. Asking is audited; the ticket itself is shown to
that person only, in the file, and stored nowhere.

The request waits a few seconds for the worker, as the host form's connection test does: the file
is useless without the ticket it carries."""

import ipaddress
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from apps.audit import registry
from apps.audit.models import Outcome
from apps.audit.services import record
from apps.authz.rights import authorize
from apps.hosts.validation import is_local
from apps.operations.handoff import reply_key, stash_on_commit, wait_reply
from apps.operations.models import Operation
from apps.operations.services import operation_queue

from . import targets

registry.register("vm.spice_ticket", "issued a SPICE ticket for VM")
registry.register("console.spice", "downloaded a SPICE viewer file for VM")

TICKET_SECONDS = 120
WAIT = 15


class SpiceError(Exception):
    """No file can be made; the message says why."""


def _loopback(address):
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def _address(vm, display, listen, browser_host):
    """Where the person's viewer connects: the address the display listens on, or, when it listens
    on every address, the host's name (this machine's as the browser reached it, for the local
    host). A display on loopback is reachable only from the host itself."""
    if listen in ("", "0.0.0.0", "::"):
        return browser_host if is_local(vm.host.uri) else urlsplit(vm.host.uri).hostname
    if _loopback(display.address):
        if is_local(vm.host.uri) and _loopback(browser_host):
            return display.address  # the person sits at this machine
        raise SpiceError(
            f"{vm.name}'s SPICE display listens only on its host's loopback address: a viewer elsewhere cannot "
            "reach it. Make it listen on an address your computer reaches (its XML tab)."
        )
    return display.address


def spice_file(actor, vm, *, browser_host, listen_address=None):
    authorize(actor, "vm.console", vm)
    found, error = targets.read(vm)
    if found is None:
        raise SpiceError(error)
    if found.state not in targets.RUNNING:
        raise SpiceError(f"{vm.name} is not running: start it to open its console.")
    display = found.display("spice")
    if display is None or display.port is None:
        raise SpiceError(f"{vm.name} has no SPICE display that listens on a port.")
    listen = display.address if listen_address is None else listen_address
    host = _address(vm, display, listen, browser_host)
    ticket = None
    if display.password:
        ticket = _ticket(actor, vm)
    record(
        "console.spice",
        Outcome.SUCCEEDED,
        actor=actor,
        target=vm,
        params={"ticket": bool(ticket), "valid_seconds": TICKET_SECONDS if ticket else None},
    )
    lines = [
        "[virt-viewer]",
        "type=spice",
        f"host={host}",
        f"port={display.port}",
        f"title={vm.name} (kvmweb)",
        "delete-this-file=1",
        "toggle-fullscreen=shift+f11",
        "release-cursor=shift+f12",
    ]
    if ticket:
        lines.append(f"password={ticket}")
    if display.tls_port:
        lines.append(f"tls-port={display.tls_port}")
    return "\n".join(lines) + "\n"


def _ticket(actor, vm):
    """A fresh password the display accepts for TICKET_SECONDS, set by the host's worker."""
    ticket = secrets.token_urlsafe(12)
    key = reply_key()
    valid_to = (timezone.now() + timedelta(seconds=TICKET_SECONDS)).strftime("%Y-%m-%dT%H:%M:%S")
    with transaction.atomic():
        op = operation_queue(
            actor=actor,
            kind="vm.spice_ticket",
            target=vm,
            params={
                "graphics": "spice",
                "valid_to": valid_to,
                "ticket_key": stash_on_commit(ticket.encode()),
                "reply_key": key,
            },
        )
    answer = wait_reply(key, WAIT)
    if answer == "ok":
        return ticket
    op = Operation.objects.get(pk=op.pk)
    raise SpiceError(
        answer or op.error or f"The host's worker did not set the ticket within {WAIT} s (operation #{op.pk})."
    )

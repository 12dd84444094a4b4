"""Network changes: each one authorized, an Operation with audit records, run on the host's
worker (apps/network/runs/). Callable without a request: the API and commands use them too."""

from django.db import transaction

from apps.audit import registry
from apps.authz.rights import authorize, may
from apps.hosts.models import NewOnHost
from apps.network.models import Port
from apps.network.policy import problems
from apps.network.virt.network_xml import Network
from apps.operations.services import operation_queue

ACTIONS = {
    "start": "started network",
    "stop": "stopped network",
    "autostart_on": "turned autostart on for network",
    "autostart_off": "turned autostart off for network",
}
for _action, _label in ACTIONS.items():
    registry.register(f"network.{_action}", _label)
registry.register("network.create", "created network")
registry.register("network.edit", "changed the definition of network")
registry.register("network.delete", "deleted network")
registry.register("network.update", "changed network")


class NetworkError(ValueError):
    """A request the user must change: the message says what and why."""


def check_definition(actor, host, xml):
    """The allow-list of apps/network/policy.py, for the person who asks: run in the request and
    again on the worker (rights can change while the operation waits)."""
    found = problems(xml, host_manager=actor is None or may(actor, "host.manage", host))
    if found:
        raise NetworkError(" ".join(found))


def identity_problem(network, xml):
    """An edit must describe the same network: libvirt would define a new one for another name
    (or redefine the other network of that name), so a rename or another UUID is refused."""
    doc = Network.parse(xml)
    if (doc.name or "").strip() != network.name:
        return f"Keep the name {network.name}: an edit changes this network, it cannot rename it."
    if doc.uuid and doc.uuid.strip().lower() != str(network.uuid).lower():
        return f"Keep the UUID {network.uuid}: another UUID is another network."
    return None


def _queue(actor, kind, target, params):
    with transaction.atomic():
        return operation_queue(actor=actor, kind=kind, target=target, params=params)


def network_create(*, actor, host, name, xml, start=True, autostart=True):
    """Define a network from XML (built by a mode's form, or pasted), then start it and mark it
    autostart. If a step fails the definition is removed again: nothing is left half-made."""
    authorize(actor, "network.manage", host)
    check_definition(actor, host, xml)
    params = {"name": name, "xml": xml, "start": bool(start), "autostart": bool(autostart)}
    return _queue(actor, "network.create", NewOnHost("network", host, name), params)


def network_edit(*, actor, network, xml):
    """Redefine the network from edited XML; a running network takes it at its next start."""
    authorize(actor, "network.manage", network)
    check_definition(actor, network.host, xml)
    problem = identity_problem(network, xml)
    if problem:
        raise NetworkError(problem)
    return _queue(actor, "network.edit", network, {"xml": xml})


def network_action(*, actor, network, action):
    if action not in ACTIONS:
        raise ValueError(f"unknown network action {action!r}")
    authorize(actor, "network.manage", network)
    return _queue(actor, f"network.{action}", network, {"action": action})


# Domain states in which a NIC holds its network (a paused guest keeps its tap device).
LIVE_STATES = ("running", "blocked", "paused", "pmsuspended")


def running_users(network):
    """The running VMs whose NICs are on this network, from the inventory."""
    ports = Port.objects.filter(
        host_id=network.host_id, kind="network", source=network.name, vm__present=True, vm__state__in=LIVE_STATES
    )
    return sorted({p.vm for p in ports.select_related("vm")}, key=lambda vm: vm.name)


def network_delete(*, actor, network, stop_vms=False):
    """Stop and undefine the network. While running VMs use it the request is refused with their
    names, unless the person confirmed that those VMs are forced off first (which takes vm.power
    on each of them)."""
    authorize(actor, "network.manage", network)
    users = running_users(network)
    if users and not stop_vms:
        names = ", ".join(vm.name for vm in users)
        raise NetworkError(
            f"Running VMs use {network.name}: {names}. Stop them first, or confirm that they are forced off."
        )
    for vm in users:
        authorize(actor, "vm.power", vm)
    return _queue(actor, "network.delete", network, {"stop_vms": bool(stop_vms)})


SECTIONS = ("dhcp_host", "dhcp_range", "dns_host", "portgroup")


def network_update(*, actor, network, section, command, xml, summary=""):
    """One live change through libvirt's networkUpdate (a DHCP static host, a DNS host, a range,
    a portgroup): applied now and kept in the definition. `xml` is the element, built by the
    forms' typed classes; `summary` says in words what it is, for the audit log."""
    if section not in SECTIONS or command not in ("add", "delete", "modify"):
        raise ValueError(f"unknown network update {command} {section}")
    authorize(actor, "network.manage", network)
    params = {"section": section, "command": command, "xml": xml, "summary": summary}
    return _queue(actor, "network.update", network, params)

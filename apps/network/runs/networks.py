"""Networks on the worker: define (then start and autostart), redefine, the lifecycle actions,
live updates and delete. Each re-reads the network into the inventory when it is done."""

from apps.core.errors import OperationError
from apps.hosts.models import Host
from apps.hosts.virt import connection
from apps.network.models import Port, VirtualNetwork
from apps.network.services.inventory import network_refresh_inventory
from apps.network.services.networks import ACTIONS, NetworkError, check_definition, identity_problem
from apps.network.virt import networks as network_virt
from apps.operations.runners import require, runner


def _host(op):
    return Host.objects.filter(pk=op.host_id).first()


def _policy(op, target):
    host = target if isinstance(target, Host) else target.host
    try:
        check_definition(op.actor, host, op.params["xml"])
    except NetworkError as exc:
        raise OperationError(str(exc)) from None


@runner("network.create", permission="network.manage", target=_host, policy=_policy, private=["xml"])
def create(op, host):
    p = op.params
    with connection.connected(host.uri) as conn:
        uuid = network_virt.define(conn, p["xml"])
        try:
            if p["start"]:
                network_virt.act(conn, uuid, "start")
            if p["autostart"]:
                network_virt.act(conn, uuid, "autostart_on")
        except OperationError:
            network_virt.undefine_quietly(conn, uuid)
            raise
        net = network_refresh_inventory(conn, host, uuid)
    op.target_id = str(net.pk)
    op.save(update_fields=["target_id"])
    return f"network {net.name} defined" + (" and started" if p["start"] else "")


@runner(
    "network.edit",
    permission="network.manage",
    target=VirtualNetwork,
    related=["host"],
    policy=_policy,
    private=["xml"],
)
def edit(op, net):
    problem = identity_problem(net, op.params["xml"])
    if problem:  # checked before libvirt defines anything under another name
        raise OperationError(problem)
    with connection.connected(net.host.uri) as conn:
        uuid = network_virt.define(conn, op.params["xml"])
        if uuid != str(net.uuid):
            raise OperationError("The definition names another network: keep its name and UUID.")
        net = network_refresh_inventory(conn, net.host, uuid)
    later = " (it takes effect at the network's next start)" if net.active else ""
    return f"{net.name}: definition saved{later}"


@runner(*(f"network.{a}" for a in ACTIONS), permission="network.manage", target=VirtualNetwork, related=["host"])
def act(op, net):
    with connection.connected(net.host.uri) as conn:
        network_virt.act(conn, str(net.uuid), op.params["action"])
        network_refresh_inventory(conn, net.host, str(net.uuid))
    return f"{net.name}: {ACTIONS[op.params['action']]}"


@runner("network.update", permission="network.manage", target=VirtualNetwork, related=["host"])
def update(op, net):
    p = op.params
    with connection.connected(net.host.uri) as conn:
        network_virt.update(conn, str(net.uuid), command=p["command"], section=p["section"], xml=p["xml"])
        network_refresh_inventory(conn, net.host, str(net.uuid))
    return f"{net.name}: {p.get('summary') or p['command'] + ' ' + p['section']}"


@runner("network.delete", permission="network.manage", target=VirtualNetwork, related=["host"])
def delete(op, net):
    """Refused while running VMs hold the network, as libvirt sees it now, unless the person
    confirmed forcing them off (vm.power on each, checked again here)."""
    uuid = str(net.uuid)
    with connection.connected(net.host.uri) as conn:
        users = network_virt.users(conn, uuid)
        if users and not op.params.get("stop_vms"):
            names = ", ".join(sorted(users.values()))
            raise OperationError(f"Running VMs use {net.name}: {names}.")
        vms = {
            str(p.vm.uuid): p.vm
            for p in Port.objects.filter(host=net.host, vm__uuid__in=list(users)).select_related("vm")
        }
        for dom_uuid, name in users.items():
            if dom_uuid not in vms:
                raise OperationError(
                    f"VM {name} uses {net.name} but is not in the inventory yet; try again in a moment."
                )
            require(op, "vm.power", vms[dom_uuid])
        for dom_uuid in users:
            network_virt.force_off(conn, dom_uuid)
        network_virt.delete(conn, uuid)
        network_refresh_inventory(conn, net.host, uuid)
    stopped = f" after forcing off {', '.join(sorted(users.values()))}" if users else ""
    return f"network {net.name} deleted{stopped}"

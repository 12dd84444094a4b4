"""NICs: add (libvirt network, Linux bridge, macvtap, Open vSwitch), remove, link up/down
(`virsh attach-interface` / `detach-interface` / `domif-setlink`), live and/or saved."""

from django.db import transaction

from apps.audit import registry
from apps.authz.rights import authorize
from apps.compute.virt.xml import Interface
from apps.compute.virt.xml.devices import NicError, normalize_mac
from apps.network.access import authorize_use
from apps.operations.services import operation_queue

from .disks import check_flags

registry.register("vm.nic_add", "added a NIC to VM")
registry.register("vm.nic_remove", "removed a NIC from VM")
registry.register("vm.nic_link", "set the link of a NIC of VM")


def _queue(actor, vm, kind, params):
    with transaction.atomic():
        return operation_queue(actor=actor, kind=kind, target=vm, params=params)


def _check_mac(mac):
    value = normalize_mac(mac)
    if value is None:
        raise NicError("Say which NIC: give its MAC address.")
    return value


def check_source_right(actor, host, kind, source):
    """What a NIC connects to is the host's network: a libvirt network needs network.use (or
    network.manage) on that network or its host; a bridge an administrator opened to VM users
    (Host.vm_bridges) needs nothing more; any other bridge, macvtap (which can take the uplink in
    passthrough) or Open vSwitch needs network.manage on the host."""
    if actor is None:
        return
    if kind == "network":
        authorize_use(actor, host, source)
    elif kind == "bridge" and source in (host.vm_bridges or []):
        return
    else:
        authorize(actor, "network.manage", host)


def vm_nic_add(*, actor, vm, kind="network", source, model="virtio", mac=None, mode=None, live=True, config=True):
    """`source` is the network's name, the bridge's, or (macvtap) the host interface's."""
    authorize(actor, "vm.edit", vm)
    check_flags(live, config)
    check_source_right(actor, vm.host, kind, source)
    iface = Interface(kind=kind, source=source, model=model, mac=mac, mode=mode if kind == "direct" else None)
    iface.validate()
    params = {
        "kind": iface.kind,
        "source": iface.source_name,
        "model": iface.model,
        "mac": iface.mac,
        "mode": iface.mode,
        "live": bool(live),
        "config": bool(config),
    }
    return _queue(actor, vm, "vm.nic_add", params)


def vm_nic_remove(*, actor, vm, mac, live=True, config=True):
    authorize(actor, "vm.edit", vm)
    check_flags(live, config)
    return _queue(actor, vm, "vm.nic_remove", {"mac": _check_mac(mac), "live": live, "config": config})


def vm_nic_link(*, actor, vm, mac, state, live=True, config=True):
    authorize(actor, "vm.edit", vm)
    check_flags(live, config)
    if state not in ("up", "down"):
        raise NicError("Link state is up or down.")
    params = {"mac": _check_mac(mac), "state": state, "live": live, "config": config}
    return _queue(actor, vm, "vm.nic_link", params)

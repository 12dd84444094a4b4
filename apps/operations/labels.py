"""What the operations panel calls each kind of work, and where its target lives.

Kinds are internal names (`vm.snapshot_create`); people read "Take snapshot". A kind missing from
the table still reads as words ("Snapshot create"), so a new runner never shows a bare code.
Targets are linked by URL name, so this module knows the other apps' pages without importing them
(operations sits below compute and storage).
"""

from django.urls import NoReverseMatch, reverse

LABELS = {
    "vm.start": "Start",
    "vm.shutdown": "Shut down",
    "vm.reboot": "Reboot",
    "vm.suspend": "Pause",
    "vm.resume": "Resume",
    "vm.destroy": "Force off",
    "vm.create": "Create VM",
    "vm.define": "Define VM from XML",
    "vm.clone": "Clone VM",
    "vm.delete": "Delete VM",
    "vm.settings": "Change settings",
    "vm.display": "Change display and console",
    "vm.spice_ticket": "Issue a SPICE ticket",
    "vm.xml_edit": "Edit XML",
    "vm.snapshot_create": "Take snapshot",
    "vm.snapshot_delete": "Delete snapshot",
    "vm.snapshot_revert": "Revert to snapshot",
    "vm.disk_attach": "Attach disk",
    "vm.disk_detach": "Detach disk",
    "vm.disk_new": "Add new disk",
    "vm.disk_resize": "Resize disk",
    "vm.cdrom_add": "Add CD-ROM drive",
    "vm.cdrom_eject": "Eject CD-ROM",
    "vm.cdrom_insert": "Insert ISO",
    "vm.nic_add": "Add NIC",
    "vm.nic_link": "Set NIC link",
    "vm.nic_remove": "Remove NIC",
    "pool.create": "Create pool",
    "pool.build": "Build pool",
    "pool.start": "Start pool",
    "pool.stop": "Stop pool",
    "pool.refresh": "Refresh pool",
    "pool.delete": "Delete pool storage",
    "pool.undefine": "Undefine pool",
    "pool.autostart_on": "Turn pool autostart on",
    "pool.autostart_off": "Turn pool autostart off",
    "pool.iso_library": "Set ISO library",
    "volume.create": "Create volume",
    "volume.clone": "Clone volume",
    "volume.delete": "Delete volume",
    "volume.resize": "Resize volume",
    "volume.wipe": "Wipe volume",
    "volume.upload": "Upload into volume",
    "volume.download": "Download volume",
    "secret.define": "Define secret",
    "secret.set_value": "Set secret value",
    "secret.delete": "Delete secret",
    "network.create": "Create network",
    "network.edit": "Edit network",
    "network.start": "Start network",
    "network.stop": "Stop network",
    "network.autostart_on": "Turn network autostart on",
    "network.autostart_off": "Turn network autostart off",
    "network.update": "Change network",
    "network.delete": "Delete network",
}

# target_type -> the URL name of its page (taking the target's id as pk)
TARGET_PAGES = {
    "vm": "compute:vm_detail",
    "pool": "storage:pool_detail",
    "secret": "storage:secret_detail",
    "network": "network:network_detail",
    "host": "hosts:host_detail",
}


def label(kind):
    if kind in LABELS:
        return LABELS[kind]
    action = kind.rpartition(".")[2].replace("_", " ").strip()
    return action.capitalize() or kind


def target_url(op):
    """The page of the operation's target, or "" when it has none (a volume, a deleted VM's id
    still links: its page then says it is gone)."""
    name, pk = TARGET_PAGES.get(op.target_type), op.target_id
    if op.target_type == "volume":  # a volume has no page of its own: its pool's lists it
        name, pk = "storage:pool_detail", (op.params or {}).get("pool_id", "")
    if name is None or not str(pk).isdigit():
        return ""
    if op.kind in ("vm.delete", "pool.undefine", "secret.delete") and op.status == "succeeded":
        return ""
    try:
        return reverse(name, kwargs={"pk": int(pk)})
    except NoReverseMatch:
        return ""

"""The permission catalogue: every code a role can hold, with what it lets a person do.

Routes, services and consumers name these codes; a code used but not listed here fails loudly in
`authorize()`, so typos cannot silently deny (or allow) anything.
"""

PERMISSIONS = {
    "host.view": "See hosts and their facts",
    "host.manage": "Add, edit and remove hosts",
    "vm.view": "See virtual machines",
    "vm.power": "Start, stop, reboot, pause and resume virtual machines",
    "vm.console": "Open a virtual machine's console",
    "vm.edit": "Change a virtual machine's hardware and settings",
    "vm.create": "Create and clone virtual machines",
    "vm.delete": "Delete virtual machines",
    "vm.snapshot": "Take, revert and delete snapshots",
    "vm.migrate": "Migrate virtual machines between hosts",
    "network.view": "See networks",
    "network.manage": "Create, change and remove networks",
    "network.use": "Connect virtual machines' NICs to networks",
    "storage.view": "See storage pools and volumes",
    "storage.manage": "Create, change and remove pools and volumes",
    "storage.use": "Attach volumes of pools to virtual machines",
    "secret.manage": "Define libvirt secrets and set their values",
    "operation.view": "See operations",
    "audit.view": "Read the whole audit log",
    "user.manage": "Manage users, teams, roles and grants",
}
ALL = "*"


def phrase(permission):
    """What `permission` lets a person do, to follow "you may not …" ("NICs" keeps its capitals)."""
    text = PERMISSIONS[permission]
    return text[:1].lower() + text[1:]

VIEW = ["host.view", "vm.view", "network.view", "storage.view", "operation.view"]

# name -> (description, permissions). Created by a data migration; editable only as custom roles.
BUILTIN_ROLES = {
    "Administrator": ("Everything, everywhere it is granted", [ALL]),
    "Operator": (
        "Runs the virtual infrastructure: VMs, networks and storage, but not users or hosts",
        [
            *VIEW,
            "vm.power",
            "vm.console",
            "vm.edit",
            "vm.create",
            "vm.delete",
            "vm.snapshot",
            "vm.migrate",
            "network.manage",
            "network.use",
            "storage.manage",
            "storage.use",
            "secret.manage",
        ],
    ),
    "VM user": (
        "Powers and uses the consoles of the VMs it is granted on",
        ["vm.view", "vm.power", "vm.console", "operation.view"],
    ),
    "Viewer": ("Sees what it is granted on, changes nothing", VIEW),
    "Auditor": ("Reads the whole audit log", ["audit.view"]),
}

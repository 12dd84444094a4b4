"""Route matrix rows: the Disks and NICs tabs."""

from tests.accounts.matrix_common import (  # noqa: F401
    BAD,
    EVERYONE,
    FORBIDDEN,
    LOGIN,
    NO_CONTENT,
    NOT_FOUND,
    OK,
    REDIRECT,
    row,
)

# Empty POSTs: those allowed to edit get the tab back with the reason by the form (200, nothing
# queued: no volume, size, bus, MAC or live/config was chosen); the rest 403 before any check,
# or 404 for vm_user, who may not see this VM at all.
EDIT_POST = row(LOGIN, FORBIDDEN, NOT_FOUND, OK, OK)
VIEW_GET = row(LOGIN, OK, NOT_FOUND, OK, OK)

ROWS = {
    "compute:vm_disks": ("get", lambda o: {"pk": o["vm"].pk}, VIEW_GET),
    "compute:vm_disk_attach": ("post", lambda o: {"pk": o["vm"].pk}, EDIT_POST),
    "compute:vm_disk_new": ("post", lambda o: {"pk": o["vm"].pk}, EDIT_POST),
    "compute:vm_disk_detach": ("post", lambda o: {"pk": o["vm"].pk, "target": "vdb"}, EDIT_POST),
    "compute:vm_disk_resize": ("post", lambda o: {"pk": o["vm"].pk, "target": "vda"}, EDIT_POST),
    "compute:vm_cdrom_media": ("post", lambda o: {"pk": o["vm"].pk, "target": "sda", "action": "eject"}, EDIT_POST),
    "compute:vm_cdrom_add": ("post", lambda o: {"pk": o["vm"].pk}, EDIT_POST),
    "compute:vm_nics": ("get", lambda o: {"pk": o["vm"].pk}, VIEW_GET),
    "compute:vm_nic_add": ("post", lambda o: {"pk": o["vm"].pk}, EDIT_POST),
    "compute:vm_nic_remove": ("post", lambda o: {"pk": o["vm"].pk}, EDIT_POST),
    "compute:vm_nic_link": ("post", lambda o: {"pk": o["vm"].pk}, EDIT_POST),
}

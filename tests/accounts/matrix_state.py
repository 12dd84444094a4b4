"""Route matrix rows: the Snapshots, Settings and XML tabs."""

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

VM = lambda o: {"pk": o["vm"].pk}  # noqa: E731
# Empty POSTs: those allowed to change the VM get their form back with its error (200, as htmx
# swaps only 2xx), or 400 where there is no form (revert, delete: no snapshot named); the rest 403, or 404 for
# vm_user, who may not see this VM.
FORM = row(LOGIN, FORBIDDEN, NOT_FOUND, OK, OK)
NO_NAME = row(LOGIN, FORBIDDEN, NOT_FOUND, BAD, BAD)

ROWS = {
    "compute:vm_snapshots": ("get", VM, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    "compute:vm_snapshot_create": ("post", VM, FORM),
    "compute:vm_snapshot_revert": ("post", VM, NO_NAME),
    "compute:vm_snapshot_delete": ("post", VM, NO_NAME),
    "compute:vm_settings": ("get", VM, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    "compute:vm_settings_save": ("post", VM, FORM),
    "compute:vm_display_save": ("post", VM, FORM),
    "compute:vm_xml": ("get", VM, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    "compute:vm_xml_save": ("post", VM, FORM),
}

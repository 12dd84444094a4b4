"""Route matrix rows: the Snapshots, Settings and XML tabs."""

from tests.accounts.matrix_common import BAD, EVERYONE, FORBIDDEN, LOGIN, NO_CONTENT, OK, REDIRECT, row  # noqa: F401

VM = lambda o: {"pk": o["vm"].pk}  # noqa: E731
# Empty POSTs: those allowed to change the VM get their form back with its error (200, as htmx
# swaps only 2xx), or 400 where there is no form (revert, delete: no snapshot named); the rest 403.
FORM = row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)
NO_NAME = row(LOGIN, FORBIDDEN, FORBIDDEN, BAD, BAD)

ROWS = {
    "compute:vm_snapshots": ("get", VM, row(LOGIN, OK, FORBIDDEN, OK, OK)),
    "compute:vm_snapshot_create": ("post", VM, FORM),
    "compute:vm_snapshot_revert": ("post", VM, NO_NAME),
    "compute:vm_snapshot_delete": ("post", VM, NO_NAME),
    "compute:vm_settings": ("get", VM, row(LOGIN, OK, FORBIDDEN, OK, OK)),
    "compute:vm_settings_save": ("post", VM, FORM),
    "compute:vm_xml": ("get", VM, row(LOGIN, OK, FORBIDDEN, OK, OK)),
    "compute:vm_xml_save": ("post", VM, FORM),
}

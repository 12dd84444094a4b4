"""Route matrix rows: the Disks and NICs tabs."""

from tests.accounts.matrix_common import BAD, EVERYONE, FORBIDDEN, LOGIN, NO_CONTENT, OK, REDIRECT, row  # noqa: F401

ROWS = {
    "compute:vm_disks": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, FORBIDDEN, OK, OK)),
    # Empty POSTs: those allowed to edit get 400 (no volume chosen), the rest 403 before any check.
    "compute:vm_disk_attach": ("post", lambda o: {"pk": o["vm"].pk}, row(LOGIN, FORBIDDEN, FORBIDDEN, BAD, BAD)),
    "compute:vm_disk_detach": (
        "post",
        lambda o: {"pk": o["vm"].pk, "target": "vdb"},
        row(LOGIN, FORBIDDEN, FORBIDDEN, BAD, BAD),
    ),
    "compute:vm_nics": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, FORBIDDEN, OK, OK)),
}

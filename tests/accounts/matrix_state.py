"""Route matrix rows: the Snapshots, Settings and XML tabs."""

from tests.accounts.matrix_common import BAD, EVERYONE, FORBIDDEN, LOGIN, NO_CONTENT, OK, REDIRECT, row  # noqa: F401

ROWS = {
    "compute:vm_snapshots": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, FORBIDDEN, OK, OK)),
    "compute:vm_settings": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, FORBIDDEN, OK, OK)),
    "compute:vm_xml": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, FORBIDDEN, OK, OK)),
}

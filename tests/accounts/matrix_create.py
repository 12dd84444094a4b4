"""Route matrix rows: the create wizard and define-from-XML."""

from tests.accounts.matrix_common import BAD, EVERYONE, FORBIDDEN, LOGIN, NO_CONTENT, OK, REDIRECT, row  # noqa: F401

ROWS = {
    "compute:vm_create": ("get", lambda o: {}, row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)),
}

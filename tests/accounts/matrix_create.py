"""Route matrix rows: the create wizard and define-from-XML. vm.create is held by operators and
administrators; the wizard's empty POST gets the form back with its errors (200 for htmx)."""

from tests.accounts.matrix_common import BAD, EVERYONE, FORBIDDEN, LOGIN, NO_CONTENT, OK, REDIRECT, row  # noqa: F401

CREATORS = row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)
ROWS = {
    "compute:vm_create": ("get", lambda o: {}, CREATORS),
    "compute:vm_os_search": ("get", lambda o: {}, CREATORS),
    "compute:vm_define_xml": ("get", lambda o: {}, CREATORS),
}

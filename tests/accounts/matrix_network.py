"""Route matrix rows for the network app: network.view shows networks (the VM user has none, so a
network's page is a 404 for it), network.manage changes them; empty posts get the form's errors."""

from tests.accounts.matrix_common import FORBIDDEN, LOGIN, NO_CONTENT, NOT_FOUND, OK, row


def _net(o):
    from apps.network.models import VirtualNetwork

    return VirtualNetwork.objects.get_or_create(
        host=o["vm"].host,
        uuid="5ec0e7a5-0000-4000-8000-0000000000bb",
        defaults={"name": "matrix-net", "active": True, "addresses": ["10.66.0.1/24"]},
    )[0]


MANAGERS_GET = row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK)
SEEN = row(LOGIN, OK, NOT_FOUND, OK, OK)

ROWS = {
    "network:network_list": ("get", lambda o: {}, row(LOGIN, OK, OK, OK, OK)),
    "network:network_detail": ("get", lambda o: {"pk": _net(o).pk}, SEEN),
    "network:network_xml": ("get", lambda o: {"pk": _net(o).pk}, SEEN),
    "network:network_action": (
        "post",
        lambda o: {"pk": _net(o).pk, "action": "start"},
        row(LOGIN, FORBIDDEN, NOT_FOUND, NO_CONTENT, NO_CONTENT),
    ),
    "network:network_delete": ("get", lambda o: {"pk": _net(o).pk}, row(LOGIN, FORBIDDEN, NOT_FOUND, OK, OK)),
    "network:dhcp_host_add": ("post", lambda o: {"pk": _net(o).pk}, row(LOGIN, FORBIDDEN, NOT_FOUND, 422, 422)),
    "network:dhcp_host_remove": ("post", lambda o: {"pk": _net(o).pk}, row(LOGIN, FORBIDDEN, NOT_FOUND, 409, 409)),
    "network:network_live": (
        "post",
        lambda o: {"pk": _net(o).pk, "section": "dns_host"},
        row(LOGIN, FORBIDDEN, NOT_FOUND, 422, 422),
    ),
    "network:network_new": ("get", lambda o: {}, MANAGERS_GET),
    "network:network_new_mode": ("get", lambda o: {"mode": "isolated"}, MANAGERS_GET),
    "network:network_new_xml": ("get", lambda o: {}, MANAGERS_GET),
    "network:host_interfaces": ("get", lambda o: {"host_pk": o["vm"].host_id}, SEEN),
    "network:host_wiring": ("get", lambda o: {"host_pk": o["vm"].host_id}, SEEN),
}

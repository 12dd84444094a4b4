"""Route matrix rows: the graphs (a VM's tab and data, a host's data, the sparklines, the busiest VMs)."""

from tests.accounts.matrix_common import EVERYONE, LOGIN, NOT_FOUND, OK, row

# vm_user's grant is on another VM and carries no host.view: the world's VM and host answer as missing.
ROWS = {
    "compute:vm_graphs": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    "compute:vm_graphs_data": ("get", lambda o: {"pk": o["vm"].pk}, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    "hosts:host_graphs_data": ("get", lambda o: {"pk": o["vm"].host_id}, row(LOGIN, OK, NOT_FOUND, OK, OK)),
    # Lists filtered by what each may see: everyone signed in gets an answer, maybe empty.
    "compute:vm_sparklines": ("get", lambda o: {}, EVERYONE),
    "compute:vm_busiest": ("get", lambda o: {}, EVERYONE),
}

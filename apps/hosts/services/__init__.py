"""Hosts: add, edit and remove them (hosts.py), the connection test behind the form
(connection_test.py), and the monitor's state and facts updates (state.py)."""

from .connection_test import CONNECTION_TEST_TASK, connection_test, connection_test_reply
from .errors import HostError
from .hosts import host_create, host_remove, host_set_vm_bridges, host_update
from .state import host_mark_down, host_mark_up

__all__ = [
    "CONNECTION_TEST_TASK",
    "HostError",
    "connection_test",
    "connection_test_reply",
    "host_create",
    "host_mark_down",
    "host_mark_up",
    "host_remove",
    "host_set_vm_bridges",
    "host_update",
]

"""Storage services, one module per object kind: pools, volumes, secrets, inventory."""

# Every module, so that importing any service (as every runner does) registers every audit action
# in this process, the worker's included.
from . import inventory, pipe, pools, secrets, transfer, volumes  # noqa: F401, E402

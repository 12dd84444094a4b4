"""Storage services, one module per object kind: pools, volumes, secrets, inventory."""

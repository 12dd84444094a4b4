"""Tasks of the create area (see apps/compute/services/)."""

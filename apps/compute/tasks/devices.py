"""Tasks of the devices area (see apps/compute/services/)."""

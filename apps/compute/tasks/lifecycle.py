"""Tasks of the lifecycle area (see apps/compute/services/)."""

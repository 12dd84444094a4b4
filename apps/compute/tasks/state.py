"""Tasks of the state area (see apps/compute/services/)."""

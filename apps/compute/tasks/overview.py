"""Tasks of the overview area (see apps/compute/services/)."""

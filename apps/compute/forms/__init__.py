"""Compute forms, one module per area (create.py: the create wizard and define-from-XML)."""

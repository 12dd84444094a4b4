"""Host pages: the list and a host's page (hosts.py); add, edit and remove (manage.py)."""

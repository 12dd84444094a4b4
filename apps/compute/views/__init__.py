"""The VM pages, one module per area; each area module ends with its `urlpatterns`."""

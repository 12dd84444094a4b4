"""Storage routes, one list per views module so each part of storage keeps its own."""

from .views import pools

app_name = "storage"
urlpatterns = [*pools.urlpatterns]

"""Storage routes, one list per views module so each part of storage keeps its own."""

from .views import pool_create, pools, secrets, volumes

app_name = "storage"
urlpatterns = [*pools.urlpatterns, *secrets.urlpatterns, *pool_create.urlpatterns, *volumes.urlpatterns]

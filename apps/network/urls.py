"""Network routes, one list per views module."""

from .views import create, hosts, networks, xml

app_name = "network"
urlpatterns = [*create.urlpatterns, *hosts.urlpatterns, *xml.urlpatterns, *networks.urlpatterns]

from django.urls import path

from .views import graphs, hosts, manage

app_name = "hosts"
urlpatterns = [
    path("", hosts.host_list, name="host_list"),
    path("new/", manage.host_add, name="host_add"),
    path("<int:pk>/", hosts.host_detail, name="host_detail"),
    path("<int:pk>/edit/", manage.host_edit, name="host_edit"),
    path("<int:pk>/remove/", manage.host_remove_view, name="host_remove"),
    path("<int:pk>/graphs/data", graphs.host_graphs_data, name="host_graphs_data"),
]

from django.urls import path

from . import manage_views, views

app_name = "hosts"
urlpatterns = [
    path("", views.host_list, name="host_list"),
    path("new/", manage_views.host_add, name="host_add"),
    path("<int:pk>/", views.host_detail, name="host_detail"),
    path("<int:pk>/edit/", manage_views.host_edit, name="host_edit"),
    path("<int:pk>/remove/", manage_views.host_remove_view, name="host_remove"),
]

from django.urls import path

from . import views

app_name = "operations"
urlpatterns = [
    path("panel/", views.panel, name="panel"),
    *views.urlpatterns,
]

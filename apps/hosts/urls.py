from django.urls import path

from . import views

app_name = "hosts"
urlpatterns = [
    path("", views.host_list, name="host_list"),
    path("<int:pk>/", views.host_detail, name="host_detail"),
]

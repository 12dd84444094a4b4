from django.urls import path

from . import views

app_name = "compute"
urlpatterns = [
    path("", views.vm_list, name="vm_list"),
    path("<int:pk>/", views.vm_detail, name="vm_detail"),
    path("<int:pk>/<slug:action>/", views.vm_power, name="vm_power"),
]

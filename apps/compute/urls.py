from django.urls import path

from . import views, views_disks

app_name = "compute"
urlpatterns = [
    path("", views.vm_list, name="vm_list"),
    path("<int:pk>/", views.vm_detail, name="vm_detail"),
    path("<int:pk>/disks/", views_disks.vm_disks, name="vm_disks"),
    path("<int:pk>/disks/attach/", views_disks.vm_disk_attach, name="vm_disk_attach"),
    path("<int:pk>/disks/<str:target>/detach/", views_disks.vm_disk_detach, name="vm_disk_detach"),
    path("<int:pk>/<slug:action>/", views.vm_power, name="vm_power"),
]

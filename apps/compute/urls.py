from django.urls import path

from .views import (
    create,
    detail,
    disks,
    graphs,
    lifecycle,
    listing,
    nics,
    overview,
    power,
    process,
    settings,
    snapshots,
    xml,
)

app_name = "compute"
urlpatterns = [
    path("", listing.vm_list, name="vm_list"),
    path("<int:pk>/", detail.vm_detail, name="vm_detail"),
]
# Each area owns its routes. Power comes last: its "<pk>/<action>/" would swallow the others.
for area in (listing, create, overview, disks, nics, snapshots, settings, xml, process, graphs, lifecycle):
    urlpatterns += getattr(area, "urlpatterns", [])
urlpatterns.append(path("<int:pk>/<slug:action>/", power.vm_power, name="vm_power"))

from django.urls import path

from . import spice_views, views

app_name = "consoles"
# kvmweb/urls.py includes these before compute's: its "<pk>/<action>/" would take "<pk>/console/".
urlpatterns = [
    path("<int:pk>/console/", views.vnc_tab, name="vnc_tab"),
    path("<int:pk>/console/window/", views.vnc_window, name="vnc_window"),
    path("<int:pk>/console/sessions/", views.sessions, name="sessions"),
    path("<int:pk>/console/sessions/<int:session_id>/close/", views.session_close, name="session_close"),
    path("<int:pk>/console/spice.vv", spice_views.spice_vv, name="spice_vv"),
    path("<int:pk>/serial/", views.serial_tab, name="serial_tab"),
    path("<int:pk>/serial/window/", views.serial_window, name="serial_window"),
]

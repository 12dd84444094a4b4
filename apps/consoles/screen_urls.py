from django.urls import path

from . import screen_views

app_name = "screens"
# Included under "vms/" before compute's URLs: its "<pk>/<action>/" would take "<pk>/screen/".
urlpatterns = [
    path("<int:pk>/screen/", screen_views.screen, name="screen"),
    path("<int:pk>/screen.png", screen_views.screen_png, name="screen_png"),
    path("<int:pk>/screen/refresh/", screen_views.screen_refresh, name="screen_refresh"),
]

from django.urls import path

from apps.consoles.consumers import SerialConsumer, VncConsumer
from apps.core.consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveConsumer.as_asgi()),
    path("ws/vms/<int:pk>/vnc/", VncConsumer.as_asgi()),
    path("ws/vms/<int:pk>/serial/", SerialConsumer.as_asgi()),
]

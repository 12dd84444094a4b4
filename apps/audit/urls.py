from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("export.csv", views.event_export, {"fmt": "csv"}, name="export_csv"),
    path("export.jsonl", views.event_export, {"fmt": "jsonl"}, name="export_jsonl"),
    path("activity/<slug:target_type>/<str:target_id>/", views.activity, name="activity"),
]

from django.urls import path

from monitors import heartbeat_views

urlpatterns = [
    path("heartbeat/<str:token>", heartbeat_views.heartbeat, name="heartbeat"),
    path(
        "heartbeat/<str:token>/fail",
        heartbeat_views.heartbeat,
        {"outcome": "fail"},
        name="heartbeat-fail",
    ),
]

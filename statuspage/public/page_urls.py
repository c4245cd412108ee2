from django.urls import path

from statuspage.public import views

app_name = "public"

urlpatterns = [
    path("", views.index, name="index"),
    path("incidents/<int:incident_id>", views.incident_detail, name="incident"),
    path("maintenance/<int:maintenance_id>", views.maintenance_detail, name="maintenance"),
    path("components/<slug:slug>", views.component_detail, name="component"),
    path("history", views.history, name="history"),
    path("language", views.choose_language, name="language"),
]

from django.urls import path

from statuspage.public import views
from statuspage.public.caching import public_cache

app_name = "public"

urlpatterns = [
    path("", public_cache(views.index), name="index"),
    path("incidents/<int:incident_id>", public_cache(views.incident_detail), name="incident"),
    path(
        "maintenance/<int:maintenance_id>",
        public_cache(views.maintenance_detail),
        name="maintenance",
    ),
    path("components/<slug:slug>", public_cache(views.component_detail), name="component"),
    path("history", public_cache(views.history), name="history"),
    path("language", views.choose_language, name="language"),
]

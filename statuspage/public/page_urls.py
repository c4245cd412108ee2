from django.urls import path

from statuspage.public import views
from statuspage.public.caching import public_cache
from statuspage.public.component_charts import CHART_PERIODS

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
    # Cached per version like the pages, so for at most PUBLIC_CACHE_TIMEOUT seconds when only
    # the probe rollups moved: the same freshness the charts had inside the front page.
    *(
        path(
            f"components/<slug:slug>/response-time-{label}.svg",
            public_cache(views.component_chart),
            {"label": label},
            name=f"component-chart-{label}",
        )
        for label in CHART_PERIODS
    ),
    path("history", public_cache(views.history, query={"page": int}), name="history"),
    path("language", views.choose_language, name="language"),
]

from django.urls import path

from monitors import alert_views, views

app_name = "probes"
urlpatterns = [
    path("", views.probe_list, name="list"),
    path("<int:pk>/", views.probe_detail, name="detail"),
    path("alerts/", alert_views.alert_list, name="alerts"),
]

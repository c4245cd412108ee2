from django.urls import path

from monitors import views

app_name = "probes"
urlpatterns = [
    path("", views.probe_list, name="list"),
    path("<int:pk>/", views.probe_detail, name="detail"),
]

from django.urls import include, path

urlpatterns = [
    path("", include("statuspage.public.data_urls")),
    path("", include("statuspage.public.page_urls")),
]

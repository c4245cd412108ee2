from django.urls import path

from statuspage.api.v1 import api

urlpatterns = [path("", api.urls)]

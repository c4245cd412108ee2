from django.urls import path

from statuspage.channels import views

app_name = "channels"
urlpatterns = [
    path("", views.channel_list, name="list"),
    path("new/", views.channel_form, name="new"),
    path("<int:pk>/", views.channel_form, name="edit"),
    path("<int:pk>/test/", views.channel_test, name="test"),
    path("<int:pk>/delete/", views.channel_delete, name="delete"),
]

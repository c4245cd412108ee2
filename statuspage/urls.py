from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from statuspage import health, metrics
from statuspage.console import two_factor
from statuspage.login_throttle import (
    ThrottledAdminAuthenticationForm,
    ThrottledAuthenticationForm,
)

# Failed log-ins are limited on both doors (statuspage.login_throttle).
admin.site.login_form = ThrottledAdminAuthenticationForm

# A database error raised outside a view is a 503 (or the snapshot) too, not a 500.
handler500 = "statuspage.public.fallback.server_error"

urlpatterns = [
    path("health", health.health, name="health"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", two_factor.verify, name="two_factor_verify"),
    path("console/two-factor/", two_factor.setup, name="two_factor_setup"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("console/", include("statuspage.console.urls")),
    path("console/probes/", include("monitors.urls")),
    path("console/subscribers/", include("statuspage.subscriptions.console_urls")),
    path("console/channels/", include("statuspage.channels.urls")),
    path("probes/", include("monitors.public_urls")),
    path("api/v1/", include("statuspage.api.urls")),
    path("subscriptions/", include("statuspage.subscriptions.urls")),
    path("", include("statuspage.public.urls")),
]

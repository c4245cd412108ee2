from django.urls import path

from statuspage.console import (
    audit_views,
    incident_views,
    lookup_views,
    maintenance_views,
    report_views,
    template_views,
    token_views,
    user_views,
    views,
)

app_name = "console"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("components/<int:pk>/status/", views.component_status, name="component_status"),
    path("incidents/", incident_views.incident_list, name="incident_list"),
    path("incidents/new/", incident_views.incident_new, name="incident_new"),
    path("incidents/create/", incident_views.incident_create, name="incident_create"),
    path("incidents/<int:pk>/", incident_views.incident_detail, name="incident_detail"),
    path("incidents/templates/", template_views.template_list, name="template_list"),
    path("incidents/templates/new/", template_views.template_form, name="template_new"),
    path("incidents/templates/<int:pk>/", template_views.template_form, name="template_edit"),
    path(
        "incidents/templates/<int:pk>/delete/",
        template_views.template_delete,
        name="template_delete",
    ),
    path("incidents/<int:pk>/update/", incident_views.incident_update, name="incident_update"),
    path("incidents/<int:pk>/resolve/", incident_views.incident_resolve, name="incident_resolve"),
    path("incidents/<int:pk>/edit/", incident_views.incident_edit, name="incident_edit"),
    path("incidents/<int:pk>/save/", incident_views.incident_save, name="incident_save"),
    path(
        "incidents/<int:pk>/postmortem/",
        incident_views.incident_postmortem,
        name="incident_postmortem",
    ),
    path("incidents/<int:pk>/notes/", incident_views.incident_note, name="incident_note"),
    path("maintenance/", maintenance_views.maintenance_list, name="maintenance_list"),
    path("maintenance/new/", maintenance_views.maintenance_new, name="maintenance_new"),
    path("maintenance/create/", maintenance_views.maintenance_create, name="maintenance_create"),
    path("maintenance/<int:pk>/", maintenance_views.maintenance_detail, name="maintenance_detail"),
    path("maintenance/<int:pk>/edit/", maintenance_views.maintenance_edit, name="maintenance_edit"),
    path("maintenance/<int:pk>/save/", maintenance_views.maintenance_save, name="maintenance_save"),
    path(
        "maintenance/<int:pk>/status/",
        maintenance_views.maintenance_status,
        name="maintenance_status",
    ),
    path(
        "maintenance/<int:pk>/notes/", maintenance_views.maintenance_note, name="maintenance_note"
    ),
    path(
        "maintenance/<int:pk>/series/",
        maintenance_views.maintenance_series_edit,
        name="maintenance_series_edit",
    ),
    path(
        "maintenance/<int:pk>/series/save/",
        maintenance_views.maintenance_series_save,
        name="maintenance_series_save",
    ),
    path(
        "maintenance/<int:pk>/cancel-series/",
        maintenance_views.maintenance_cancel_series,
        name="maintenance_cancel_series",
    ),
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("audit/export.csv", audit_views.audit_export, name="audit_export"),
    path("lookup/", lookup_views.lookup_view, name="lookup"),
    path("reports/", report_views.report_view, name="reports"),
    path("tokens/", token_views.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", token_views.token_revoke, name="token_revoke"),
    path(
        "tokens/agents/<int:pk>/revoke/",
        token_views.agent_token_revoke,
        name="agent_token_revoke",
    ),
    path("users/", user_views.user_list, name="user_list"),
    path("users/new/", user_views.user_create, name="user_create"),
    path("users/<int:pk>/role/", user_views.user_role, name="user_role"),
    path(
        "users/<int:pk>/two-factor/remove/",
        user_views.user_second_factor_reset,
        name="user_second_factor_reset",
    ),
]

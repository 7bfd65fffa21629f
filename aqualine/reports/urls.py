from django.urls import path

from aqualine.reports import views

app_name = "reports"

urlpatterns = [
    path("reports/intake/", views.intake, name="intake"),
    path("reports/intake/export/", views.intake_export, name="intake_export"),
    path("reports/timeliness/", views.timeliness, name="timeliness"),
    path("reports/timeliness/export/", views.timeliness_export, name="timeliness_export"),
    path("reports/calls/", views.calls, name="calls"),
    path("reports/calls/export/", views.calls_export, name="calls_export"),
    path("reports/query/", views.query, name="query"),
    path("reports/query/export/", views.query_export, name="query_export"),
    path("reports/query/save/", views.query_save, name="query_save"),
    path("reports/queries/<int:pk>/", views.saved_query_run, name="saved_query_run"),
    path("reports/queries/<int:pk>/delete/", views.saved_query_delete, name="saved_query_delete"),
    path("reports/exports/", views.exports, name="exports"),
    path("reports/exports/<int:pk>/download/", views.export_download, name="export_download"),
]

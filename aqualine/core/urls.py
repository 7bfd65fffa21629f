from django.urls import path

from aqualine.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("system/parameters/", views.parameters, name="parameters"),
    path("system/audit/", views.audit_log, name="audit_log"),
]

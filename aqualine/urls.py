from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("aqualine.core.urls")),
    path("", include("aqualine.accounts.urls")),
    path("", include("aqualine.callcenter.urls")),
    path("", include("aqualine.customers.urls")),
    path("", include("aqualine.workorders.urls")),
    path("", include("aqualine.knowledge.urls")),
    path("", include("aqualine.notices.urls")),
    path("", include("aqualine.reports.urls")),
    path("", include("aqualine.desk.urls")),
    path("", include("aqualine.wallboard.urls")),
    path("api/", include("aqualine.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
]

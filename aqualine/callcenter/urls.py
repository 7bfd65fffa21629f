from django.urls import include, path

from aqualine.callcenter import views

app_name = "callcenter"

urlpatterns = [
    path("callcenter/extensions/", views.extension_list, name="extension_list"),
    path("callcenter/extensions/new/", views.extension_create, name="extension_create"),
    path("callcenter/extensions/<int:pk>/", views.extension_edit, name="extension_edit"),
    path("callcenter/trunks/new/", views.trunk_edit, name="trunk_create"),
    path("callcenter/trunks/<int:pk>/", views.trunk_edit, name="trunk_edit"),
    path("", include("aqualine.callcenter.recordings_urls")),
    path("", include("aqualine.callcenter.config_urls")),
]

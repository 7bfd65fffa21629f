from django.urls import path

from aqualine.customers import views

app_name = "customers"

urlpatterns = [
    path("customers/", views.lookup, name="lookup"),
    path("customers/lookup.json", views.lookup_json, name="lookup_json"),
    path("customers/<int:pk>/", views.account_detail, name="account_detail"),
    path("customer-data/import/", views.import_view, name="import"),
    path("outages/", views.outage_list, name="outage_list"),
    path("outages/new/", views.outage_create, name="outage_create"),
    path("outages/<int:pk>/", views.outage_edit, name="outage_edit"),
    path("outages/<int:pk>/restore/", views.outage_restore, name="outage_restore"),
]

from django.urls import path

from aqualine.workorders import views

app_name = "workorders"

urlpatterns = [
    path("workorders/", views.order_list, name="list"),
    path("workorders/new/", views.intake, name="intake"),
    path("workorders/lookup/", views.lookup, name="lookup"),
    path("workorders/<int:pk>/", views.detail, name="detail"),
    path("workorders/<int:pk>/dispatch/", views.dispatch, name="dispatch"),
    path("workorders/<int:pk>/urge/", views.urge, name="urge"),
]

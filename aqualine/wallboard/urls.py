from django.urls import path

from aqualine.wallboard import views

app_name = "wallboard"

urlpatterns = [
    path("wallboard/", views.wallboard, name="wallboard"),
]

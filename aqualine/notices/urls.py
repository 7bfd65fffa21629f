from django.urls import path

from aqualine.notices import views

app_name = "notices"

urlpatterns = [
    path("notices/", views.mine, name="mine"),
    path("notices/new/", views.create, name="create"),
    path("notices/published/", views.published, name="published"),
    path("notices/<int:pk>/", views.detail, name="detail"),
    path("notices/<int:pk>/edit/", views.edit, name="edit"),
    path("notices/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("notices/<int:pk>/receipts/", views.receipts, name="receipts"),
    path("notice-types/", views.type_list, name="type_list"),
    path("notice-types/new/", views.type_create, name="type_create"),
    path("notice-types/<int:pk>/", views.type_edit, name="type_edit"),
]

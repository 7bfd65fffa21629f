from django.urls import path

from aqualine.knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("knowledge/", views.index, name="index"),
    path("knowledge/search.json", views.search_json, name="search_json"),
    path("knowledge/articles/new/", views.article_create, name="article_create"),
    path("knowledge/articles/<int:pk>/", views.article_detail, name="article_detail"),
    path("knowledge/articles/<int:pk>/edit/", views.article_edit, name="article_edit"),
    path("knowledge/articles/<int:pk>/delete/", views.article_delete, name="article_delete"),
    path("knowledge/articles/<int:pk>/history/", views.article_history, name="article_history"),
    path(
        "knowledge/articles/<int:pk>/attachments/",
        views.attachment_upload,
        name="attachment_upload",
    ),
    path("knowledge/revisions/<int:pk>/", views.revision_detail, name="revision_detail"),
    path("knowledge/revisions/<int:pk>/diff/", views.revision_diff, name="revision_diff"),
    path("knowledge/revisions/<int:pk>/restore/", views.revision_restore, name="revision_restore"),
    path("knowledge/attachments/<int:pk>/", views.attachment_file, name="attachment"),
    path(
        "knowledge/attachments/<int:pk>/delete/", views.attachment_delete, name="attachment_delete"
    ),
    path("knowledge/categories/", views.category_list, name="category_list"),
    path("knowledge/categories/new/", views.category_create, name="category_create"),
    path("knowledge/categories/<int:pk>/", views.category_edit, name="category_edit"),
    path("knowledge/categories/<int:pk>/move/", views.category_move, name="category_move"),
    path("knowledge/categories/<int:pk>/active/", views.category_active, name="category_active"),
    path("knowledge/categories/<int:pk>/delete/", views.category_delete, name="category_delete"),
]

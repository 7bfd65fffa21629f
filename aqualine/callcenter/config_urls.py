"""Routes of the call-centre configuration pages (included by callcenter/urls.py)."""

from django.urls import path

from aqualine.callcenter.config_views import views

urlpatterns = [
    path("callcenter/queues/", views.queue_list, name="queue_list"),
    path("callcenter/queues/new/", views.queue_create, name="queue_create"),
    path("callcenter/queues/<int:pk>/", views.queue_edit, name="queue_edit"),
    path("callcenter/queues/<int:pk>/delete/", views.queue_delete_view, name="queue_delete"),
    path("callcenter/flows/", views.flow_list, name="flow_list"),
    path("callcenter/flows/new/", views.flow_create_view, name="flow_create"),
    path("callcenter/flows/<int:pk>/", views.flow_detail, name="flow_detail"),
    path("callcenter/flows/<int:pk>/edit/", views.flow_edit, name="flow_edit"),
    path("callcenter/prompts/", views.prompt_list, name="prompt_list"),
    path("callcenter/prompts/upload/", views.prompt_upload, name="prompt_upload"),
    path("callcenter/prompts/delete/", views.prompt_delete_view, name="prompt_delete"),
    path("callcenter/prompts/play/", views.prompt_audio, name="prompt_audio"),
    path("callcenter/prompts/speak/", views.prompt_tts, name="prompt_tts"),
]

from django.urls import path

from aqualine.callcenter import recordings

urlpatterns = [
    path("callcenter/recordings/", recordings.recording_list, name="recording_list"),
    path(
        "callcenter/recordings/<int:pk>/audio/",
        recordings.recording_audio,
        name="recording_audio",
    ),
    path(
        "callcenter/recordings/<int:pk>/download/",
        recordings.recording_download,
        name="recording_download",
    ),
    path(
        "callcenter/recordings/delete/",
        recordings.recording_delete_view,
        name="recording_delete",
    ),
]

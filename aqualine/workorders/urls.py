from django.urls import path

from aqualine.workorders import views

app_name = "workorders"

urlpatterns = [
    path("workorders/", views.order_list, name="list"),
    path("workorders/new/", views.intake, name="intake"),
    path("workorders/lookup/", views.lookup, name="lookup"),
    path("workorders/<int:pk>/", views.detail, name="detail"),
    path("workorders/<int:pk>/print/", views.print_view, name="print"),
    path("workorders/<int:pk>/dispatch/", views.dispatch, name="dispatch"),
    path("workorders/<int:pk>/urge/", views.urge, name="urge"),
    path("workorders/<int:pk>/close-at-intake/", views.close_at_intake, name="close_at_intake"),
    path("workorders/<int:pk>/follow-up/", views.follow_up, name="follow_up"),
    path("workorders/<int:pk>/redo/", views.redo, name="redo"),
    path("workorders/<int:pk>/close/", views.close, name="close"),
    path("workorders/<int:pk>/task/", views.task_action, name="task"),
    path("workorders/<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("workorders/attachments/<int:pk>/", views.attachment_file, name="attachment"),
]

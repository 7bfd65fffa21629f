from django.contrib.auth.views import LogoutView
from django.urls import path

from aqualine.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("me/voice-reminders/", views.voice_reminders_view, name="voice_reminders"),
    path("system/staff/", views.staff_list_view, name="staff_list"),
    path("system/staff/new/", views.staff_create_view, name="staff_create"),
    path("system/staff/<int:pk>/", views.staff_edit_view, name="staff_edit"),
    path("system/staff/<int:pk>/password/", views.staff_password_view, name="staff_password"),
    path("system/staff/<int:pk>/active/", views.staff_toggle_active_view, name="staff_active"),
    path("system/departments/", views.department_list_view, name="department_list"),
    path("system/departments/new/", views.department_create_view, name="department_create"),
    path("system/departments/<int:pk>/", views.department_edit_view, name="department_edit"),
    path(
        "system/departments/<int:pk>/active/",
        views.department_toggle_active_view,
        name="department_active",
    ),
    path("system/roles/", views.role_list_view, name="role_list"),
    path("system/roles/new/", views.role_create_view, name="role_create"),
    path("system/roles/<int:pk>/", views.role_edit_view, name="role_edit"),
    path("system/roles/<int:pk>/delete/", views.role_delete_view, name="role_delete"),
]

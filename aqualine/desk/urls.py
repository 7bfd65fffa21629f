from django.urls import path

from aqualine.desk import views

app_name = "desk"

urlpatterns = [
    path("desk/", views.desk, name="desk"),
    path("desk/state.json", views.desk_state, name="state"),
    path("desk/command/", views.command, name="command"),
    path("desk/hangup/", views.hang_up, name="hang_up"),
    path("desk/call/<str:command>/", views.call_command, name="call_command"),
    path("desk/dial/", views.dial, name="dial"),
    path("desk/agents.json", views.transfer_targets, name="transfer_targets"),
    path("desk/monitor/", views.monitor, name="monitor"),
    path("desk/monitor/state.json", views.monitor_state, name="monitor_state"),
    path("desk/monitor/missed/", views.missed, name="missed"),
    path("desk/monitor/missed/<int:pk>/handled/", views.missed_handled, name="missed_handled"),
    path(
        "desk/monitor/calls/<str:call_id>/supervise/<str:mode>/",
        views.supervise,
        name="supervise",
    ),
    path(
        "desk/monitor/calls/<str:call_id>/stop_supervising/",
        views.stop_supervising,
        name="stop_supervising",
    ),
    path(
        "desk/monitor/agents/<str:agent_id>/<str:command>/",
        views.force,
        name="force",
    ),
]

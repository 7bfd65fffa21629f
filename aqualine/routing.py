"""WebSocket routes of every app (each app adds its consumers here)."""

from typing import Any

from django.urls import path

from aqualine.desk.consumers import DeskConsumer
from aqualine.notices.consumers import NoticeConsumer
from aqualine.wallboard.consumers import WallboardConsumer
from aqualine.workorders.consumers import WorkOrderConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/workorders/", WorkOrderConsumer.as_asgi()),
    path("ws/notices/", NoticeConsumer.as_asgi()),
    path("ws/desk/<str:view>/", DeskConsumer.as_asgi()),
    path("ws/wallboard/", WallboardConsumer.as_asgi()),
]

"""WebSocket routes of every app (each app adds its consumers here)."""

from typing import Any

websocket_urlpatterns: list[Any] = []

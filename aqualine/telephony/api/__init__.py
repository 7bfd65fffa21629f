"""The switch's control API: HTTP commands and a WebSocket stream of events."""

"""WebSocket routes (consumers arrive with the live-updates work)."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []

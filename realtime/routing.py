"""WebSocket routes: the JSON feed for API clients and the HTML feed for open pages."""

from django.urls import URLPattern, path, re_path

from realtime import consumers

websocket_urlpatterns: list[URLPattern] = [
    path("ws/projects", consumers.ChangeFeedConsumer.as_asgi()),
    path("ws/projects/", consumers.ChangeFeedConsumer.as_asgi()),
    re_path(
        r"^ws/municipalities/(?P<municipality>[A-Za-z0-9-]{1,64})/?$", consumers.MunicipalityFeedConsumer.as_asgi()
    ),
    path("ws/live/project/<uuid:project>", consumers.LivePageConsumer.as_asgi()),
    re_path(
        r"^ws/live/municipality/(?P<municipality>[A-Za-z0-9]{1,16})$", consumers.LiveMunicipalityPageConsumer.as_asgi()
    ),
    path("ws/live/home", consumers.LiveHomePageConsumer.as_asgi()),
    path("ws/live/pipeline", consumers.LivePipelinePageConsumer.as_asgi()),
]

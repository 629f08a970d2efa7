"""ASGI entry point: HTTP through Django (one thread hop a request, see asgihandler.py), WebSockets through
Channels (origin-checked)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application does

from bukaamanzi.asgihandler import OneHopASGIHandler  # noqa: E402

django_asgi_app = OneHopASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up first)
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)

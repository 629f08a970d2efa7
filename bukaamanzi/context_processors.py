from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {"MAP_TILE_URL": settings.MAP_TILE_URL, "DEBUG": settings.DEBUG, "WS_PUBLIC_PORT": settings.WS_PUBLIC_PORT}

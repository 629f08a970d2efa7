"""API keys for django-ninja: who is calling (auth classes per scope) and how often they may (a per-key throttle).

Clients send a key as `Authorization: Bearer bka_…` (`ApiKeyBearer`), or, as Open311 GeoReport v2 clients do, as an
`api_key` query or form parameter (`ApiKeyParam`, which also takes the header). A successful check sets
`request.auth` to the `ApiKey`, which `KeyRateThrottle` then counts against the key's own limit.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyQuery, HttpBearer
from ninja.throttling import BaseThrottle

from apikeys.models import ApiKey, Scope
from apikeys.services import api_key_check
from bukaamanzi.apitools import client_address
from bukaamanzi.lib.ratelimit import rate_hit

# The attribute the API's 429 handler reads for its message (bukaamanzi/api.py).
RATE_LIMIT_MESSAGE = "rate_limit_message"


def bearer_secret(request: HttpRequest) -> str | None:
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def api_key_from_request(request: HttpRequest) -> str | None:
    """The key a client sent: the Bearer header, else `api_key` in the query string, else in a form body."""
    secret = bearer_secret(request) or request.GET.get("api_key")
    if not secret and request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded", "multipart/form-data",
    ):
        secret = request.POST.get("api_key")
    return secret or None


def _checked_scope(scope: str) -> str:
    if scope not in Scope.values:  # a typo in a router must fail at import, not refuse every caller
        raise ValueError(f"Unknown API key scope {scope!r}: use one of {Scope.values}")
    return scope


class ApiKeyBearer(HttpBearer):
    """`Authorization: Bearer <key>` for a key with `scope`; `request.auth` is the ApiKey."""

    def __init__(self, scope: str) -> None:
        self.scope = _checked_scope(scope)
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return api_key_check(token, self.scope)


class ApiKeyParam(APIKeyQuery):
    """Open311 style: `api_key` in the query string or form body (or the Bearer header) for a key with `scope`."""

    param_name = "api_key"

    def __init__(self, scope: str) -> None:
        self.scope = _checked_scope(scope)
        super().__init__()

    def _get_key(self, request: HttpRequest) -> str | None:
        return api_key_from_request(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        return api_key_check(key, self.scope) if key else None


class KeyRateThrottle(BaseThrottle):
    """A request made with an API key counts against the key's own limit (`ApiKey.rate_limit`, one count per key
    across every endpoint); any other request against `address_setting` per client address, or is not limited
    when that is None (the sync trigger's staff sessions). Use it after a key auth: ninja runs auth first."""

    def __init__(self, scope: str, address_setting: str | None = None) -> None:
        self.scope = scope
        self.address_setting = address_setting
        self._local = threading.local()  # ninja asks wait() after allow_request(), on the same thread

    def allow_request(self, request: HttpRequest) -> bool:
        key: Any = getattr(request, "auth", None)
        if isinstance(key, ApiKey):
            allowed, self._local.wait = rate_hit(f"apikey:{key.pk}", key.rate_limit)
            if not allowed:
                setattr(request, RATE_LIMIT_MESSAGE, _(
                    "Too many requests with this API key: its limit is %(rate)s. Wait before trying again "
                    "(see Retry-After)."
                ) % {"rate": key.rate_limit})
            return allowed
        if self.address_setting is None:
            self._local.wait = None
            return True
        allowed, self._local.wait = rate_hit(f"{self.scope}:{client_address(request)}",
                                             getattr(settings, self.address_setting))
        return allowed

    def wait(self) -> float | None:
        wait = getattr(self._local, "wait", None)
        return None if wait is None else max(wait, 1.0)

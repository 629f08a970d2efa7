"""One webhook POST to a checked address, with the project's HTTP conventions.

As in `ingestion/http.py`: our User-Agent, fixed timeouts, the environment's proxy variables ignored. Unlike it:
no urllib3 retries (a failed delivery is retried later by `webhooks.delivery`, with the specification's growing
delays) and no redirects (a redirect could lead to an address the guard never checked).

The connection goes to the address `webhooks.targets.check_target` approved, not to a second lookup of the name:
the URL is rewritten to that address, the `Host` header keeps the name, and for https the adapter's pool key
carries the name as the TLS server name and the name the certificate must match (`server_hostname` and
`assert_hostname`, set through requests' documented `build_connection_pool_key_attributes` hook).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from webhooks.targets import Target

EXCERPT_BYTES = 500


class PinnedAdapter(HTTPAdapter):
    """An adapter for one host name whose requests go to a fixed address (see the module docstring)."""

    def __init__(self, host: str) -> None:
        self.pinned_host = host
        super().__init__(max_retries=0, pool_maxsize=2)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        if host_params.get("scheme") == "https":
            pool_kwargs["server_hostname"] = self.pinned_host
            pool_kwargs["assert_hostname"] = self.pinned_host
        return host_params, pool_kwargs


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    excerpt: str
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


_local = threading.local()


def _adapter(target: Target) -> PinnedAdapter:
    """One adapter per thread and target, so connections are kept alive across a pass's deliveries."""
    adapters: dict[tuple[str, str, str, int], PinnedAdapter] = _local.__dict__.setdefault("adapters", {})
    key = (target.scheme, target.host, target.address, target.port)
    if key not in adapters:
        adapters[key] = PinnedAdapter(target.host)
    return adapters[key]


def _pinned_url(target: Target) -> tuple[str, str]:
    """(the URL with the address in place of the name, the Host header)."""
    address = f"[{target.address}]" if ":" in target.address else target.address
    default = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default else f"{target.host}:{target.port}"
    if ":" in target.host:  # an IPv6 literal written in the URL
        host_header = f"[{target.host}]" if target.port == default else f"[{target.host}]:{target.port}"
    rest = target.url.split("://", 1)[1]
    slash = rest.find("/")
    path = rest[slash:] if slash >= 0 else "/"
    path = path.split("#", 1)[0]
    return f"{target.scheme}://{address}:{target.port}{path}", host_header


def post(target: Target, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST the body; never raises for a network failure (the outcome says what happened)."""
    url, host_header = _pinned_url(target)
    request = requests.Request("POST", url, data=body, headers={
        **headers, "Host": host_header, "Content-Type": "application/json", "User-Agent": settings.HTTP_USER_AGENT,
    }).prepare()
    started = time.perf_counter()
    try:
        response = _adapter(target).send(
            request, stream=True, timeout=(settings.WEBHOOKS_CONNECT_TIMEOUT, settings.WEBHOOKS_TIMEOUT))
        try:
            # Only the start of the answer is kept (and read): a receiver has nothing more to tell us.
            excerpt = response.raw.read(EXCERPT_BYTES, decode_content=True) or b""
        finally:
            response.close()
        latency = int((time.perf_counter() - started) * 1000)
        return Outcome(response.status_code, latency, excerpt.decode("utf-8", "replace"), "")
    except requests.RequestException as exc:
        latency = int((time.perf_counter() - started) * 1000)
        return Outcome(None, latency, "", f"{type(exc).__name__}: {exc}"[:500])
    except OSError as exc:  # a socket error urllib3 did not wrap
        latency = int((time.perf_counter() - started) * 1000)
        return Outcome(None, latency, "", f"{type(exc).__name__}: {exc}"[:500])

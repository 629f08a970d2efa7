"""Django's ASGI handler with the middleware chain and the view run in one worker-thread call per request.

Why: every middleware in settings.MIDDLEWARE and every view of this site is synchronous. Django's own ASGI handler
loads the chain in async mode, where each `MiddlewareMixin` hook (process_request, process_response, ...) is a
separate `sync_to_async` call: about 13 thread hops a request with our middlewares, plus one for the view. Each
hop waits for the event loop to come round, so under load, and while the same loop pushes a change to thousands
of WebSockets, a request waits that many times. Loading the chain in sync mode and calling it once from the loop
leaves three hops (request_started, the chain with the view, request_finished): the same middlewares, views and
per-request thread (`ThreadSensitiveContext`) as before.

This leans on how Django 5.2's ASGIHandler calls `get_response_async`: `bench/internals/compare.py asgi` measures
it against Django's own handler (docs/api.md, "Library ties"), and tests/test_library_ties.py fails on another
Django version.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase


class OneHopASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)

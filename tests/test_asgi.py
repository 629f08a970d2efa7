"""The site answers through the ASGI application that daphne serves (routing, middleware and all)."""

import pytest
from channels.testing import HttpCommunicator

from bukaamanzi.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("path", ["/", "/api/v1/docs", "/admin/login/", "/api/v1/health", "/municipalities/"])
async def test_page_answers_200_through_asgi(path: str) -> None:
    communicator = HttpCommunicator(application, "GET", path, headers=[(b"host", b"localhost")])
    response = await communicator.get_response(timeout=10)
    assert response["status"] == 200, response["body"][:500]


async def test_unknown_page_answers_404_through_asgi() -> None:
    communicator = HttpCommunicator(application, "GET", "/no-such-page/", headers=[(b"host", b"localhost")])
    response = await communicator.get_response(timeout=10)
    assert response["status"] == 404


async def test_the_middleware_chain_and_the_view_run_in_one_thread_hop(monkeypatch) -> None:
    """bukaamanzi/asgihandler.py: the whole sync chain is one sync_to_async call, not one per middleware hook."""
    import asgiref.sync


    calls: list[str] = []
    original = asgiref.sync.SyncToAsync.__init__

    def counting(self, func, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(getattr(func, "__qualname__", repr(func)))
        original(self, func, *args, **kwargs)

    monkeypatch.setattr(asgiref.sync.SyncToAsync, "__init__", counting)
    communicator = HttpCommunicator(application, "GET", "/about/", headers=[(b"host", b"localhost")])
    response = await communicator.get_response(timeout=10)
    assert response["status"] == 200
    headers = dict(response["headers"])
    assert headers[b"X-Frame-Options"] == b"DENY" and headers[b"Content-Language"] == b"en"  # middlewares ran
    chain = [name for name in calls if "get_response" in name or "process_" in name or "__call__" in name]
    assert chain == ["BaseHandler.get_response"], calls

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

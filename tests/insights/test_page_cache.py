"""Whole insights pages kept per data version, language and address (insights.pagecache): the same page as a fresh
render but for the visitor's own CSRF token, new figures as soon as the data changes, one page per language, and
never kept for staff, for a visitor with a message waiting, or for an error."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.test import Client, RequestFactory

from insights import pagecache, views
from projects import dataversion
from projects.services import project_correct
from tests.factories import ProjectFactory, municipality
from tests.pushed import wait_for

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")([A-Za-z0-9]+)"')


def tokens(html: str) -> list[str]:
    return [match.group(2) for match in TOKEN.finditer(html)]


def without_tokens(html: str) -> str:
    return TOKEN.sub(r'\1TOKEN"', html)


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The pages the view rendered (rather than served whole from the process's copy)."""
    rendered: list[str] = []
    original = views.scope_body

    def counting(*args: Any, **kwargs: Any) -> Any:
        rendered.append(kwargs["scope"]["kind"])
        return original(*args, **kwargs)

    monkeypatch.setattr(views, "scope_body", counting)
    return rendered


def test_a_kept_page_is_the_fresh_page_but_for_the_token(client: Client, country: dict, renders: list[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    first = client.get("/insights/?sort=projects&order=desc")
    kept = client.get("/insights/?sort=projects&order=desc")
    assert renders == ["national"]  # the second came whole from the process's copy
    monkeypatch.setattr(pagecache, "serve", lambda request, render, **kwargs: render(None, {}))
    fresh = client.get("/insights/?sort=projects&order=desc")
    for response in (first, kept, fresh):
        html = response.content.decode()
        assert response.status_code == 200 and pagecache.SENTINEL not in html
        assert len(tokens(html)) == 2 and len(set(tokens(html))) == 1  # the hx-headers and the language form
        assert without_tokens(html) == without_tokens(fresh.content.decode())
        for header in ("Content-Type", "Content-Language", "Vary", "X-Frame-Options", "Content-Security-Policy"):
            assert response.headers.get(header) == fresh.headers.get(header), header
        assert "csrftoken" in client.cookies
    assert 'name="next" type="hidden" value="/insights/?sort=projects&amp;order=desc"' in kept.content.decode()


def test_a_data_change_shows_at_the_next_visit(client: Client, country: dict) -> None:
    assert "8 projects by status" in client.get("/insights/").content.decode()
    assert "8 projects by status" in client.get("/insights/").content.decode()  # kept
    ProjectFactory(municipality=municipality("CPT"))
    assert "9 projects by status" in client.get("/insights/").content.decode()
    project_correct(project=country["E5"], values={"status": "cancelled"}, moderator="mod", reason="source error")
    html = client.get("/insights/").content.decode()
    assert "Cancelled" in html and "9 projects by status" in html
    assert len({version for version, _language, _path in pagecache.kept()}) == 3  # one page per version seen


def test_each_language_has_its_own_page(client: Client, country: dict) -> None:
    client.get("/insights/")
    assert '<html lang="en">' in client.get("/insights/").content.decode()  # kept
    zulu = client.get("/insights/", HTTP_ACCEPT_LANGUAGE="zu").content.decode()
    assert '<html lang="zu">' in zulu and "Ukuqaliswa komsebenzi" in zulu
    client.cookies["django_language"] = "af"
    afrikaans = client.get("/insights/").content.decode()
    assert '<html lang="af">' in afrikaans and afrikaans != zulu
    assert sorted(language for _version, language, _path in pagecache.kept()) == ["af", "en", "zu"]


def test_staff_pages_are_rendered_and_not_kept(client: Client, country: dict, renders: list[str],
                                               django_user_model: Any) -> None:
    client.get("/insights/")
    keys = pagecache.kept()
    staff = Client()
    staff.force_login(django_user_model.objects.create_user("moderator", password="not-used", is_staff=True))
    assert staff.get("/insights/").status_code == 200
    assert staff.get("/insights/").status_code == 200
    assert renders == ["national"] * 3 and pagecache.kept() == keys


def pending_message(client: Client, text: str) -> None:
    """A message waiting for the visitor's next page, in the cookie the messages framework reads first."""
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(messages.INFO, text)
    response = HttpResponse()
    storage.update(response)
    client.cookies[storage.cookie_name] = response.cookies[storage.cookie_name].value


def test_a_waiting_message_is_shown_and_its_page_not_kept(client: Client, country: dict, renders: list[str]) -> None:
    client.get("/insights/")
    pending_message(client, "Thank you. Moderators will look at it.")
    assert "Thank you. Moderators will look at it." in client.get("/insights/").content.decode()
    assert renders == ["national", "national"]
    assert "Thank you" not in client.get("/insights/").content.decode()  # shown once, and not kept with the page
    assert renders == ["national", "national"] and len(pagecache.kept()) == 1


def test_a_bad_sort_is_not_kept(client: Client, country: dict) -> None:
    for _ in range(2):
        response = client.get("/insights/?sort=password")
        assert response.status_code == 400 and "<strong>sort</strong>" in response.content.decode()
        assert pagecache.SENTINEL not in response.content.decode()
    assert pagecache.kept() == []


def test_only_addresses_the_site_links_to_are_kept(client: Client, country: dict) -> None:
    for path in ("/insights/?utm_source=mail", "/insights/?sort=name&sort=projects"):
        assert client.get(path).status_code == 200
    assert pagecache.kept() == []
    client.get("/insights/EC/?order=desc&sort=waiting")
    assert [path for _version, _language, path in pagecache.kept()] == ["/insights/EC/?order=desc&sort=waiting"]


def test_a_page_whose_render_used_the_csp_nonce_is_not_kept(client: Client, country: dict,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    html = client.get("/insights/").content.decode()
    assert "nonce" not in html and "nonce-" not in client.get("/insights/")["Content-Security-Policy"]
    pagecache.clear()
    original = views.render

    def with_nonce(request: Any, template: str, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        return original(request, template, {**context, "nonce": str(request.csp_nonce)}, **kwargs)

    monkeypatch.setattr(views, "render", with_nonce)
    response = client.get("/insights/")
    assert response.status_code == 200 and "nonce-" in response["Content-Security-Policy"]
    assert pagecache.kept() == [] and len(set(tokens(response.content.decode()))) == 1


def test_a_kept_page_asks_only_for_the_data_version(client: Client, country: dict,
                                                     django_assert_num_queries: Any) -> None:
    client.get("/insights/EC/")
    with django_assert_num_queries(1):  # the data version; 0 where it is pushed (below)
        assert client.get("/insights/EC/").status_code == 200


def csrf_form_token(client: Client, path: str) -> str:
    found = tokens(client.get(path).content.decode())
    assert len(set(found)) == 1
    return found[0]


def test_every_visitor_gets_a_token_of_their_own_that_works(country: dict) -> None:
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_token = csrf_form_token(first, "/insights/")
    second_token = csrf_form_token(second, "/insights/")  # from the kept page
    assert len(pagecache.kept()) == 1
    assert first_token != second_token and first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    assert second.post("/i18n/setlang/", {"language": "zu", "next": "/insights/",
                                          "csrfmiddlewaretoken": first_token}).status_code == 403
    for client, token in ((first, first_token), (second, second_token)):
        response = client.post("/i18n/setlang/", {"language": "zu", "next": "/insights/",
                                                  "csrfmiddlewaretoken": token})
        assert response.status_code == 302 and client.cookies["django_language"].value == "zu"
    # The token sent in the hx-headers of the kept page works as the header too.
    assert second.post("/i18n/setlang/", {"language": "en", "next": "/insights/"},
                       HTTP_X_CSRFTOKEN=csrf_form_token(second, "/insights/")).status_code == 302


def test_a_kept_page_asks_the_database_nothing_where_the_version_is_pushed(
        listening: None, country: dict, client: Client, django_assert_num_queries: Any) -> None:
    wait_for(lambda: dataversion.pushed_version() is not None, "the listener read the version")
    client.get("/insights/")
    with django_assert_num_queries(0):
        assert "8 projects by status" in client.get("/insights/").content.decode()
    pushed = dataversion.pushed_version()
    ProjectFactory(municipality=municipality("CPT"))
    wait_for(lambda: dataversion.pushed_version() not in (None, pushed), "heard the insert")
    assert "9 projects by status" in client.get("/insights/").content.decode()

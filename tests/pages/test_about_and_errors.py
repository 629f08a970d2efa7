import pytest
from django.test import RequestFactory

from projects.views import server_error

pytestmark = pytest.mark.django_db


def test_about_explains_sources_statuses_and_red_flags(client) -> None:
    html = client.get("/about/").content.decode()
    for words in ("National Treasury, Municipal Money", "Project Monitoring Dashboard", "OpenStreetMap",
                  "Implementation", "On hold", "Over budget", "Overdue", "Stalled", "never shown"):
        assert words in html


def test_unknown_address_gets_a_friendly_404_with_ways_on(client) -> None:
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "We could not find that page" in html and 'href="/municipalities/"' in html


def test_server_error_page_stands_alone_without_the_database(django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_every_page_has_a_skip_link_and_a_language_switcher(client) -> None:
    for url in ("/", "/about/", "/municipalities/", "/reports/new/", "/alerts/"):
        html = client.get(url).content.decode()
        assert 'class="skip-link" href="#main"' in html and 'name="language"' in html


def test_the_header_drop_is_drawn_inline_so_it_needs_no_emoji_font(client) -> None:
    html = client.get("/about/").content.decode()
    brand = html[html.index('<a class="brand"'):]
    brand = brand[: brand.index("</a>")]
    assert "💧" not in html
    assert '<svg class="brand-drop" aria-hidden="true" focusable="false"' in brand
    assert brand[brand.index("</svg>") + len("</svg>"):].strip() == "Buka Amanzi"  # the link's text

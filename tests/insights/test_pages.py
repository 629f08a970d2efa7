"""The insights pages: national, province, the municipality page's section and the CSVs, without JavaScript."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.template.base import Lexer, TokenType

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "insights"


def test_national_page_shows_every_figure_with_its_table_source_and_csv(client: Any, country: dict) -> None:
    html = client.get("/insights/").content.decode()
    for figure in ("capital", "status", "flags", "types"):
        assert f'aria-labelledby="national-{figure}-title national-{figure}-desc"' in html
    assert html.count('role="img"') == 4 and html.count("<title id=") == 4 and html.count("<desc id=") == 4
    for name in ("capital", "status", "red-flags", "types", "municipalities", "provinces"):
        assert f'href="/insights/csv/{name}.csv"' in html
    assert html.count("fetched on 30 November 2026") >= 6  # under every figure
    assert "at least 5 projects are ranked" in html
    assert "Dr Beyers Naude" in html and '<a href="/insights/ec/">' not in html  # links use the code as stored
    assert '<a href="/insights/EC/">Eastern Cape</a>' in html
    assert 'href="/insights/"' in html  # the navigation link


def test_league_table_leaves_out_municipalities_with_few_projects(client: Any, country: dict) -> None:
    html = client.get("/insights/").content.decode()
    league = html[html.index("Highest share of projects overdue"):html.index("Highest spending against budget")]
    assert "Dr Beyers Naude" in league and "Sarah Baartman" in league and "Cape Town" not in league


def test_province_page_compares_its_municipalities_in_a_sortable_table(client: Any, country: dict) -> None:
    response = client.get("/insights/ec/?sort=projects&order=desc")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Municipalities compared" in html and "Cape Town" not in html
    table = html[html.index("Municipalities compared"):]
    assert table.index("Sarah Baartman") < table.index("Dr Beyers Naude") < table.index("Blue Crane Route")
    assert 'aria-sort="descending"' in table and 'href="?sort=projects&amp;order=asc"' in table
    ascending = client.get("/insights/EC/?sort=projects&order=asc").content.decode()
    ascending = ascending[ascending.index("Municipalities compared"):]
    assert ascending.index("Dr Beyers Naude") < ascending.index("Sarah Baartman")


def test_bad_sort_is_a_400_naming_the_field(client: Any, country: dict) -> None:
    response = client.get("/insights/?sort=password")
    assert response.status_code == 400
    assert "<strong>sort</strong>" in response.content.decode()
    assert client.get("/insights/zz/").status_code == 404


def test_municipality_page_has_an_insights_section(client: Any, country: dict) -> None:
    html = client.get("/municipalities/DC10/").content.decode()
    section = html[html.index('id="insights-heading"'):html.index('id="projects-heading"')]
    assert 'href="/insights/csv/status.csv?municipality=DC10"' in section
    assert "6 projects by status" in section  # the district with its local municipality
    assert "<h3" in section and "League tables" not in section


def test_figure_csv_comes_from_the_same_figure(client: Any, country: dict) -> None:
    response = client.get("/insights/csv/red-flags.csv?province=EC")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["flag"], row["count"], row["rate"]) for row in rows] == [
        ("over_budget", "1", "16.7"), ("overdue", "1", "16.7"), ("stalled", "1", "16.7")]
    assert rows[0]["source"].endswith("(fetched 2026-11-30)")
    capital = list(csv.DictReader(io.StringIO(client.get("/insights/csv/capital.csv").content.decode())))
    assert capital[1]["budget"] == "11600.00" and capital[1]["spent_rate"] == "52.6"


def test_figure_csv_refuses_bad_filters_by_name(client: Any, country: dict) -> None:
    response = client.get("/insights/csv/status.csv?province=XX")
    assert response.status_code == 400 and "<strong>province</strong>" in response.content.decode()
    assert client.get("/insights/csv/nothing.csv").status_code == 404


def test_pages_answer_in_a_bounded_number_of_queries(client: Any, country: dict,
                                                     django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(40):  # cold: every figure computed (a fixed number of grouped queries)
        client.get("/insights/")
    with django_assert_max_num_queries(2):  # warm: the data version, then the cached body
        client.get("/insights/")
    client.get("/insights/EC/")
    with django_assert_max_num_queries(2):
        client.get("/insights/EC/")


def test_words_follow_the_language_though_figures_are_shared(client: Any, country: dict) -> None:
    client.get("/insights/")
    client.cookies["django_language"] = "zu"
    html = client.get("/insights/").content.decode()
    assert "Ukuqaliswa komsebenzi" in html  # "Implementation" in isiZulu, from the shared status figure


def _untranslated_text(path: Path) -> list[str]:
    """Words in a template outside {% translate %} and {% blocktranslate %} (tags, variables, comments aside)."""
    text, inside, comment = [], False, False
    for token in Lexer(path.read_text()).tokenize():
        if token.token_type == TokenType.BLOCK and token.contents.split()[0] in ("comment", "endcomment"):
            comment = token.contents.split()[0] == "comment"
            text.append("#")
        elif comment:
            continue
        elif token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0]
            inside = name in ("blocktranslate", "plural") or (inside and name != "endblocktranslate")
            text.append("#")
        elif token.token_type == TokenType.TEXT and not inside:
            text.append(token.contents)
        else:
            text.append("#")
    return re.findall(r"[A-Za-z]{2,}", re.sub(r"<[^>]*>|&\w+;", " ", "".join(text)))


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_every_word_in_the_templates_goes_through_translation(path: Path) -> None:
    assert _untranslated_text(path) == []

import xml.etree.ElementTree as ET  # our own server's output, not untrusted XML
from decimal import Decimal

import pytest

from projects.services import project_upsert_from_source
from reports.services import report_flag, report_submit
from tests.factories import municipality

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def project():
    values = {"municipality": municipality("CPT"), "name": "Athlone pump station", "status": "preparation",
              "progress_percentage": Decimal("5")}
    project = project_upsert_from_source(source="municipal_money", external_id="F-1", values=values).project
    project_upsert_from_source(source="municipal_money", external_id="F-1",
                               values={**values, "status": "implementation"})
    report_submit(title="Fence is down", description="Open trench", report_type="issue", lng=18.5, lat=-33.9,
                  project=project)
    hidden = report_submit(title="Rude words", description="x", report_type="issue", lng=18.5, lat=-33.9,
                           project=project)
    report_flag(reports=[hidden], moderator="mod", reason="abuse")
    return project


def test_project_rss_feed_parses_and_lists_changes_and_new_reports(client, project) -> None:
    response = client.get(f"/projects/{project.pk}/feed/rss/")
    assert response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(  # noqa: S314
        response.content)
    assert root.tag == "rss"
    titles = [item.findtext("title") for item in root.iter("item")]
    assert any("status changed from Preparation to Implementation" in t for t in titles), titles
    assert "New report: Fence is down" in titles
    assert not any("Rude words" in t for t in titles)
    assert all(item.findtext("link") and item.findtext("pubDate") for item in root.iter("item"))


def test_project_atom_feed_parses(client, project) -> None:
    response = client.get(f"/projects/{project.pk}/feed/atom/")
    root = ET.fromstring(  # noqa: S314
        response.content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 3  # created, status change, one visible report
    assert all(entry.find(f"{ATOM}updated") is not None for entry in entries)


def test_municipality_feeds_parse_and_cover_its_projects(client, project) -> None:
    rss = ET.fromstring(  # noqa: S314
        client.get("/municipalities/CPT/feed/rss/").content)
    assert any("Athlone pump station" in (item.findtext("title") or "") for item in rss.iter("item"))
    atom = ET.fromstring(  # noqa: S314
        client.get("/municipalities/cpt/feed/atom/").content)
    assert atom.tag == f"{ATOM}feed" and atom.findall(f"{ATOM}entry")


def test_feed_of_an_unknown_project_is_404(client) -> None:
    assert client.get("/projects/00000000-0000-0000-0000-000000000000/feed/rss/").status_code == 404


def test_project_page_links_its_feeds(client, project) -> None:
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert ('type="application/atom+xml" title="Changes and reports (Atom)" '
            f'href="/projects/{project.pk}/feed/atom/"') in html


def test_a_project_feed_tells_report_updates_and_new_states_but_not_hidden_updates(client, project) -> None:
    from reports.lifecycle import report_set_state, update_add, update_flag
    from reports.models import Report

    report = Report.objects.get(title="Fence is down")
    update_add(report=report, text="The contractor put the fence back.", fixed=True)
    hidden = update_add(report=report, text="Insults about the contractor")
    update_flag(updates=[hidden], moderator="mod", reason="offensive")
    report_set_state(reports=[report], state="not_fixed", moderator="mod", reason="fence down again, closed")
    root = ET.fromstring(  # noqa: S314
        client.get(f"/projects/{project.pk}/feed/rss/").content)
    titles = [item.findtext("title") or "" for item in root.iter("item")]
    assert any("Update on “Fence is down”" in t and "put the fence back" in t for t in titles), titles
    assert any("“Fence is down” is now fixed, says a resident" in t for t in titles), titles
    assert any("“Fence is down” is now closed, not fixed" in t for t in titles), titles
    assert not any("Insults" in t for t in titles)
    links = [item.findtext("link") or "" for item in root.iter("item")]
    assert all(link for link in links)


def test_report_items_say_how_many_residents_it_affects(client, project) -> None:
    from reports.affected import affected_add
    from reports.models import Report

    report = Report.objects.get(title="Fence is down")
    affected_add(report=report, session_key="s1", address="10.0.0.1")
    affected_add(report=report, session_key="s2", address="10.0.0.2")
    root = ET.fromstring(  # noqa: S314
        client.get(f"/projects/{project.pk}/feed/rss/").content)
    descriptions = [item.findtext("description") or "" for item in root.iter("item")]
    assert any("2 residents say this affects them." in d for d in descriptions), descriptions
    titles = [item.findtext("title") or "" for item in root.iter("item")]
    assert not any("affected" in t for t in titles)  # the taps themselves are not feed items

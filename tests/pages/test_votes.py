import pytest

from reports.models import ReportStatus, ReportVote
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


def test_vote_without_javascript_counts_and_returns_to_the_report(client) -> None:
    report = ReportFactory()
    response = client.post(f"/reports/{report.pk}/vote/", {"direction": "up"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/projects/{report.project.pk}/#report-{report.pk}"
    assert "your vote is counted" in response.content.decode()
    report.refresh_from_db()
    assert report.upvotes == 1


def test_one_person_gets_one_vote_per_report(client) -> None:
    report = ReportFactory()
    client.post(f"/reports/{report.pk}/vote/", {"direction": "up"})
    response = client.post(f"/reports/{report.pk}/vote/", {"direction": "down"}, follow=True)
    assert "already voted" in response.content.decode()
    report.refresh_from_db()
    assert (report.upvotes, report.downvotes) == (1, 0)
    assert ReportVote.objects.count() == 1


def test_another_person_can_vote_too(client, django_user_model) -> None:
    from django.test import Client

    report = ReportFactory()
    client.post(f"/reports/{report.pk}/vote/", {"direction": "up"})
    Client().post(f"/reports/{report.pk}/vote/", {"direction": "down"})
    report.refresh_from_db()
    assert (report.upvotes, report.downvotes) == (1, 1)


def test_htmx_vote_returns_the_report_fragment_with_new_counts(client) -> None:
    report = ReportFactory()
    response = client.post(f"/reports/{report.pk}/vote/", {"direction": "down"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith(f'<article id="report-{report.pk}"')
    assert "No <span class=\"count\">(1)</span>" in html and 'role="status"' in html


def test_votes_need_post_with_csrf_and_a_known_direction(client) -> None:
    from django.test import Client

    report = ReportFactory()
    assert client.get(f"/reports/{report.pk}/vote/").status_code == 405
    assert client.post(f"/reports/{report.pk}/vote/", {"direction": "sideways"}).status_code == 400
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"/reports/{report.pk}/vote/", {"direction": "up"}).status_code == 403


def test_hidden_reports_cannot_be_voted_on_or_seen(client) -> None:
    report = ReportFactory(status=ReportStatus.FLAGGED)
    assert client.post(f"/reports/{report.pk}/vote/", {"direction": "up"}).status_code == 404
    assert client.get(f"/reports/{report.pk}/").status_code == 404

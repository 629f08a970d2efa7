"""After a moderator's edit the public sees "Moderated on <date>" and the new words, and the removed words are on
no public page, API response, feed, live-update message or alert line any more."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import formats, timezone

from alerts.emails import _lines
from changelog.models import DataChangeLog
from realtime.relay import wire_message
from reports.editing import latest_action_id, report_edit, update_edit
from reports.history import change_sentences
from reports.lifecycle import update_add
from reports.models import Report, ReportUpdate
from reports.services import report_submit
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

PHONE = "082 555 0199"
NAME = "Thandi Mokoena"


@pytest.fixture
def edited() -> tuple[Report, ReportUpdate]:
    project = ProjectFactory()
    report = report_submit(title=f"Burst pipe, call {PHONE}", description=f"Water everywhere, ring {PHONE}.",
                           report_type="issue", lng=18.43, lat=-33.93, name=NAME, project=project)
    update = update_add(report=report, text=f"Still leaking. {NAME}, {PHONE}", name=NAME)
    return report, update


def public_outputs(client: Client, report: Report) -> dict[str, str]:
    project, code = report.project, report.project.municipality_code  # type: ignore[union-attr]
    paths = {
        "report page": f"/reports/{report.pk}/",
        "project page": f"/projects/{project.pk}/",  # type: ignore[union-attr]
        "API report": f"/api/v1/reports/{report.pk}",
        "API list": "/api/v1/reports",
        "API project": f"/api/v1/projects/{project.pk}",  # type: ignore[union-attr]
        "project RSS": f"/projects/{project.pk}/feed/rss/",  # type: ignore[union-attr]
        "project Atom": f"/projects/{project.pk}/feed/atom/",  # type: ignore[union-attr]
        "municipality RSS": f"/municipalities/{code}/feed/rss/",
    }
    outputs = {}
    for name, path in paths.items():
        response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        outputs[name] = response.content.decode()
    rows = list(DataChangeLog.objects.order_by("pk"))
    # What live clients receive (and replay), and the sentences of the feeds and the alert emails.
    outputs["live messages"] = json.dumps([wire_message(row) for row in rows], ensure_ascii=False)
    outputs["history sentences"] = " ".join(sentence for row in rows for sentence in change_sentences(row))
    outputs["alert lines"] = " ".join(line.text for row in rows for line in _lines(row, {}))
    return outputs


def test_the_removed_words_are_public_nowhere_and_the_report_says_it_was_moderated(client: Client, edited) -> None:
    report, update = edited
    before = public_outputs(client, report)
    assert PHONE in before["report page"] and PHONE in before["project RSS"] and PHONE in before["live messages"]
    assert NAME in before["alert lines"]
    report_edit(report=report, moderator="sipho", reason="Phone number", title="Burst pipe",
                description="Water everywhere.", contributor_name="",
                started=latest_action_id(target_type="report", target_id=report.pk))
    update_edit(update=update, moderator="sipho", reason="Phone number", text="Still leaking.",
                contributor_name="", started=latest_action_id(target_type="report_update", target_id=update.pk))
    after = public_outputs(client, report)
    for name, text in after.items():
        assert PHONE not in text, name
        assert NAME not in text, name
    assert "Burst pipe" in after["project RSS"] and "Still leaking." in after["project RSS"]
    report.refresh_from_db()
    day = formats.date_format(timezone.localtime(report.moderated_at), "j F Y")
    page = after["report page"]
    assert page.count(f"Moderated on {day}") == 2  # the report and its update
    assert f"Moderated on {day}" in after["project page"]


def test_the_api_says_when_a_report_and_an_update_were_moderated(client: Client, edited) -> None:
    report, update = edited
    body = client.get(f"/api/v1/reports/{report.pk}").json()
    assert body["moderated_at"] is None and body["updates"][0]["moderated_at"] is None
    update_edit(update=update, moderator="sipho", reason="Phone number", text="Still leaking.",
                started=latest_action_id(target_type="report_update", target_id=update.pk))
    body = client.get(f"/api/v1/reports/{report.pk}").json()
    assert body["moderated_at"] is None and body["updates"][0]["moderated_at"] is not None
    report_edit(report=report, moderator="sipho", reason="Phone number", title="Burst pipe",
                started=latest_action_id(target_type="report", target_id=report.pk))
    body = client.get(f"/api/v1/reports/{report.pk}").json()
    assert body["moderated_at"] is not None and body["title"] == "Burst pipe"
    assert client.get("/api/v1/reports").json()["items"][0]["moderated_at"] == body["moderated_at"]

"""Hiding a photo: it appears in no public output (report page and its link preview, project page and its live
push, nearby suggestions, the API's detail, list and nearby answers, feeds, exports), its old URLs stop serving,
and showing it again brings it back."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from changelog.models import AdminAction, ChangeSource, DataChangeLog, EntityType
from reports.lifecycle import update_add
from reports.models import Report, ReportPhoto, ReportType, UpdatePhoto
from reports.redaction import photo_hide, photo_show
from reports.services import PhotoUpload, ReportError, report_submit
from tests.factories import ProjectFactory
from tests.reports.test_photos import photo_bytes

pytestmark = pytest.mark.django_db

LNG, LAT = 18.43, -33.93


def names(photo: ReportPhoto | UpdatePhoto) -> list[str]:
    return [photo.image.name, photo.thumbnail.name, photo.card.name]


def _streamed(response) -> str:  # type: ignore[no-untyped-def]
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def public_outputs(client: Client, report: Report) -> dict[str, str]:
    """Everything the public can read that could carry the report's photos, by name."""
    from realtime.fragments import render_project

    project_id = report.project_id
    near = f"latitude={LAT}&longitude={LNG}"
    outputs = {
        "report page": client.get(f"/reports/{report.pk}/"),
        "project page": client.get(f"/projects/{project_id}/"),
        "nearby suggestions": client.get(f"/reports/nearby/?{near}"),
        "api detail": client.get(f"/api/v1/reports/{report.pk}"),
        "api list": client.get("/api/v1/reports"),
        "api project list": client.get(f"/api/v1/reports?project_id={project_id}"),
        "api nearby": client.get(f"/api/v1/reports/nearby?lat={LAT}&lng={LNG}"),
        "api project": client.get(f"/api/v1/projects/{project_id}"),
        "rss": client.get(f"/projects/{project_id}/feed/rss/"),
        "atom": client.get(f"/projects/{project_id}/feed/atom/"),
        "csv": client.get("/api/v1/exports/projects.csv"),
        "geojson": client.get("/api/v1/exports/projects.geojson"),
    }
    bodies = {}
    for name, response in outputs.items():
        assert response.status_code == 200, (name, response.status_code)
        bodies[name] = _streamed(response)
    bodies["live push"] = render_project(str(project_id), "en") or ""
    assert bodies["live push"]
    return bodies


def report_with_photos() -> tuple[Report, ReportPhoto, ReportPhoto, UpdatePhoto]:
    """An open problem (so nearby suggests it) with two photos and an update with one."""
    report = report_submit(title="Burst pipe at the school", description="Water everywhere.",
                           report_type=ReportType.ISSUE, lng=LNG, lat=LAT, project=ProjectFactory(),
                           photos=[PhotoUpload(photo_bytes((600, 400)), "first.jpg", "The burst pipe"),
                                   PhotoUpload(photo_bytes((600, 400), color=(1, 2, 3)), "second.jpg", "The road")])
    first, second = report.photos.order_by("pk")
    update = update_add(report=report, text="Still running",
                        photos=[PhotoUpload(photo_bytes((500, 500)), "update.jpg", "A puddle")])
    return report, first, second, update.photos.get()


def test_before_hiding_every_output_that_shows_photos_shows_them(client) -> None:
    report, first, _second, update_photo = report_with_photos()
    bodies = public_outputs(client, report)
    for output in ("report page", "project page", "api detail", "api list", "api nearby", "live push"):
        assert first.thumbnail.name in bodies[output] or first.image.name in bodies[output], output
    assert first.thumbnail.name in bodies["nearby suggestions"]
    assert first.card.name in bodies["report page"]  # the link preview
    assert update_photo.image.name in bodies["report page"] and update_photo.image.name in bodies["api detail"]


def test_a_hidden_photo_appears_in_no_public_output(client, django_capture_on_commit_callbacks) -> None:
    report, first, second, update_photo = report_with_photos()
    known = names(first) + names(update_photo)
    with django_capture_on_commit_callbacks(execute=True):
        photo_hide(photo=first, moderator="thandeka", reason="Shows a child's face")
        photo_hide(photo=update_photo, moderator="thandeka", reason="Shows a car's number plate")
    first.refresh_from_db()
    update_photo.refresh_from_db()
    hidden = known + names(first) + names(update_photo)
    for output, body in public_outputs(client, report).items():
        assert not [name for name in hidden if name in body], output
    # The other photo takes its place: in lists, in the link preview and as the nearby suggestion's picture.
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert f'content="http://testserver{second.card.url}"' in page
    nearby = client.get(f"/api/v1/reports/nearby?lat={LAT}&lng={LNG}").json()
    assert nearby["items"][0]["photo"]["url"].endswith(second.image.url)
    detail = client.get(f"/api/v1/reports/{report.pk}").json()
    assert [p["alt_text"] for p in detail["photos"]] == ["The road"]
    assert detail["updates"][0]["photos"] == []


def test_hiding_renames_the_files_so_every_known_url_answers_404(client, django_capture_on_commit_callbacks) -> None:
    _report, first, _second, _update_photo = report_with_photos()
    old = names(first)
    with django_capture_on_commit_callbacks(execute=True):
        photo_hide(photo=first, moderator="thandeka", reason="Private")
    first.refresh_from_db()
    assert first.hidden_at is not None and not set(names(first)) & set(old)
    assert all(client.get(settings.MEDIA_URL + name).status_code == 404 for name in old)
    assert all(not first.image.storage.exists(name) for name in old)
    # Moderators still see it (the admin reads the new names).
    assert all(first.image.storage.exists(name) for name in names(first))


def test_a_photo_shown_again_comes_back_everywhere(client) -> None:
    report, first, _second, _update_photo = report_with_photos()
    photo_hide(photo=first, moderator="thandeka", reason="Private")
    photo_show(photo=first, moderator="thandeka", reason="Checked: nothing private")
    first.refresh_from_db()
    assert first.hidden_at is None
    bodies = public_outputs(client, report)
    for output in ("report page", "project page", "api detail", "api list", "api nearby", "live push"):
        assert first.thumbnail.name in bodies[output] or first.image.name in bodies[output], output
    assert first.card.name in bodies["report page"]


def test_hiding_and_showing_are_admin_actions_with_change_log_rows() -> None:
    report, first, _second, update_photo = report_with_photos()
    before = DataChangeLog.objects.count()
    photo_hide(photo=first, moderator="thandeka", reason="Private")
    photo_show(photo=first, moderator="sipho", reason="Fine after all")
    photo_hide(photo=update_photo, moderator="thandeka", reason="Private")
    actions = list(AdminAction.objects.order_by("pk").values_list("admin_name", "target_type", "target_id",
                                                                   "action", "reason", "metadata"))
    assert actions == [
        ("thandeka", "report", str(report.pk), "hide_photo", "Private", {"photo_id": first.pk}),
        ("sipho", "report", str(report.pk), "show_photo", "Fine after all", {"photo_id": first.pk}),
        ("thandeka", "report_update", str(update_photo.update_id), "hide_photo", "Private",
         {"photo_id": update_photo.pk}),
    ]
    rows = list(DataChangeLog.objects.for_entity(EntityType.REPORT, report.pk).order_by("pk"))[-3:]
    assert DataChangeLog.objects.count() == before + 3
    assert [(r.source, r.new_values["action"]) for r in rows] == [
        (ChangeSource.ADMIN_ACTION, "hide_photo"), (ChangeSource.ADMIN_ACTION, "show_photo"),
        (ChangeSource.ADMIN_ACTION, "hide_photo")]


def test_hiding_needs_a_reason_and_a_visible_photo() -> None:
    _report, first, _second, _update_photo = report_with_photos()
    with pytest.raises(ReportError) as caught:
        photo_hide(photo=first, moderator="thandeka", reason="")
    assert caught.value.field == "reason"
    with pytest.raises(ReportError):
        photo_show(photo=first, moderator="thandeka", reason="Not hidden")
    photo_hide(photo=first, moderator="thandeka", reason="Private")
    with pytest.raises(ReportError):
        photo_hide(photo=first, moderator="thandeka", reason="Twice")
    assert AdminAction.objects.count() == 1

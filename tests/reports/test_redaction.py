"""Redaction: boxes painted black on the stored original, the thumbnail and the share card; the unredacted files
deleted, so that none of the photo's old URLs serves anything; one AdminAction and one change-log row."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.test import Client
from PIL import Image

from changelog.models import AdminAction, ChangeSource, DataChangeLog, EntityType
from reports.lifecycle import update_add
from reports.models import Report, ReportPhoto, ReportType, UpdatePhoto
from reports.redaction import MAX_BOXES, photo_redact
from reports.services import PhotoUpload, ReportError, report_submit
from tests.reports.test_photos import photo_bytes

pytestmark = pytest.mark.django_db


GREY = (200, 180, 160)
SIZE = (800, 600)
BOX = (100, 100, 200, 150)  # x 100..299, y 100..249


def report_with_photo(kind: str = "JPEG") -> tuple[Report, ReportPhoto]:
    report = report_submit(title="Leak on Vuyani Street", description="Water runs down the road.",
                           report_type=ReportType.ISSUE, lng=18.43, lat=-33.93,
                           photos=[PhotoUpload(photo_bytes(SIZE, kind=kind, color=GREY), "leak.jpg")])
    return report, report.photos.get()


def pixels(photo_file) -> Image.Image:  # type: ignore[no-untyped-def]
    with photo_file.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image.convert("RGB")


def dark(pixel: tuple[int, ...]) -> bool:
    return max(pixel[:3]) <= 16  # JPEG leaves black a few levels off zero at most


def near_grey(pixel: tuple[int, ...]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(pixel[:3], GREY, strict=True))


def served(client: Client, name: str) -> int:
    return client.get(settings.MEDIA_URL + name).status_code


def urls_of(photo: ReportPhoto | UpdatePhoto) -> list[str]:
    return [photo.image.name, photo.thumbnail.name, photo.card.name]


@pytest.mark.parametrize("kind", ["JPEG", "PNG"])
def test_boxes_are_black_in_the_stored_original_the_thumbnail_and_the_card(
        django_capture_on_commit_callbacks, kind: str) -> None:
    _report, photo = report_with_photo(kind)
    with django_capture_on_commit_callbacks(execute=True):
        photo_redact(photo=photo, boxes=[BOX], moderator="thandeka", reason="A face")
    photo.refresh_from_db()
    original = pixels(photo.image)
    assert original.size == SIZE
    # Inside the box up to its corners (JPEG blurs colour across a pixel or two at the edge; PNG is exact), and
    # outside it unchanged.
    for xy in [(101, 101), (298, 248), (200, 175), (150, 240)]:
        assert dark(original.getpixel(xy)), xy
    if kind == "PNG":
        assert {original.getpixel((x, y)) for x in range(100, 300) for y in range(100, 250)} == {(0, 0, 0)}
    for xy in [(98, 98), (301, 175), (200, 252), (700, 500), (10, 590)]:
        assert near_grey(original.getpixel(xy)), xy
    # The thumbnail is 100 px high (scale 1/6): the box is about x 17..50, y 17..42.
    thumbnail = pixels(photo.thumbnail)
    assert thumbnail.height == 100
    assert dark(thumbnail.getpixel((33, 29))) and near_grey(thumbnail.getpixel((110, 80)))
    # The card covers 1200x630 at scale 1.5, cropped by 135 px at the top: the box is x 150..450, y 15..240.
    card = pixels(photo.card)
    assert card.size == (1200, 630)
    assert dark(card.getpixel((300, 127))) and near_grey(card.getpixel((900, 500)))
    assert photo.redacted_at is not None


def test_every_old_url_answers_404_and_the_new_ones_serve(client, django_capture_on_commit_callbacks) -> None:
    _report, photo = report_with_photo()
    old = urls_of(photo)
    assert all(served(client, name) == 200 for name in old)
    storage = photo.image.storage
    with django_capture_on_commit_callbacks(execute=True):
        photo_redact(photo=photo, boxes=[BOX, (0, 0, 10, 10)], moderator="thandeka", reason="A number plate")
    photo.refresh_from_db()
    new = urls_of(photo)
    assert not set(new) & set(old)
    assert all(not storage.exists(name) for name in old)
    assert all(served(client, name) == 404 for name in old)
    assert all(served(client, name) == 200 for name in new)
    # What the new URLs serve is the painted image (the box's middle, at each size's scale; see above).
    for name, middle in zip(new, [(200, 175), (33, 29), (300, 127)], strict=True):
        response = client.get(settings.MEDIA_URL + name)
        image = Image.open(io.BytesIO(b"".join(response.streaming_content))).convert("RGB")
        assert dark(image.getpixel(middle)), name


def test_the_public_page_and_api_show_only_the_new_urls(client, django_capture_on_commit_callbacks) -> None:
    report, photo = report_with_photo()
    old = urls_of(photo)
    with django_capture_on_commit_callbacks(execute=True):
        photo_redact(photo=photo, boxes=[BOX], moderator="thandeka", reason="A face")
    photo.refresh_from_db()
    page = client.get(f"/reports/{report.pk}/").content.decode()
    api = client.get(f"/api/v1/reports/{report.pk}").content.decode()
    for body in (page, api):
        assert all(name not in body for name in old)
        assert photo.image.name in body and photo.thumbnail.name in body
    assert photo.card.name in page  # the Open Graph picture


def test_an_update_photo_is_redacted_and_logged_on_the_update(django_capture_on_commit_callbacks) -> None:
    report, _photo = report_with_photo()
    update = update_add(report=report, text="Still leaking",
                        photos=[PhotoUpload(photo_bytes(SIZE, color=GREY), "again.jpg")])
    photo = update.photos.get()
    old = urls_of(photo)
    with django_capture_on_commit_callbacks(execute=True):
        photo_redact(photo=photo, boxes=[BOX], moderator="thandeka", reason="A face")
    photo.refresh_from_db()
    assert dark(pixels(photo.image).getpixel((200, 175)))
    assert not any(photo.image.storage.exists(name) for name in old)
    action = AdminAction.objects.get(action="redact_photo")
    assert (action.target_type, action.target_id) == ("report_update", str(update.pk))


def test_one_admin_action_with_the_boxes_and_one_change_log_row_on_the_report() -> None:
    report, photo = report_with_photo()
    before = DataChangeLog.objects.count()
    photo_redact(photo=photo, boxes=[BOX, (0, 0, 5, 5)], moderator="thandeka", reason="  A face  ")
    action = AdminAction.objects.get()
    assert (action.admin_name, action.target_type, action.target_id, action.action, action.reason) == (
        "thandeka", "report", str(report.pk), "redact_photo", "A face")
    assert action.metadata == {"photo_id": photo.pk, "boxes": [list(BOX), [0, 0, 5, 5]]}
    assert DataChangeLog.objects.count() == before + 1
    row = DataChangeLog.objects.for_entity(EntityType.REPORT, report.pk).order_by("-pk").first()
    assert row is not None and row.source == ChangeSource.ADMIN_ACTION
    assert row.new_values["action"] == "redact_photo" and row.new_values["photo_id"] == photo.pk
    assert photo.image.name not in str(row.new_values)


@pytest.mark.parametrize("boxes", [
    [],
    [BOX] * (MAX_BOXES + 1),
    [(0, 0, 0, 10)],
    [(0, 0, 10, -1)],
    [(-1, 0, 10, 10)],
    [(700, 0, 101, 10)],
    [(0, 550, 10, 51)],
    [(0, 0, 10.5, 10)],
    [(0, 0, "10", 10)],
    [(0, 0, 10)],
    [(0, 0, True, 10)],
], ids=["none", "too-many", "zero-width", "negative-height", "negative-x", "past-right", "past-bottom",
        "fraction", "text", "three-numbers", "boolean"])
def test_bad_boxes_are_refused_naming_the_field_and_nothing_changes(boxes: list) -> None:
    _report, photo = report_with_photo()
    old = urls_of(photo)
    with pytest.raises(ReportError) as caught:
        photo_redact(photo=photo, boxes=boxes, moderator="thandeka", reason="A face")
    assert caught.value.field == "boxes"
    photo.refresh_from_db()
    assert urls_of(photo) == old and photo.redacted_at is None
    assert all(photo.image.storage.exists(name) for name in old)
    assert not AdminAction.objects.exists()


def test_a_box_covering_the_whole_photo_is_accepted() -> None:
    _report, photo = report_with_photo()
    photo_redact(photo=photo, boxes=[(0, 0, *SIZE)], moderator="thandeka", reason="Nothing to keep")
    photo.refresh_from_db()
    assert dark(pixels(photo.image).getpixel((799, 599)))


def test_a_redaction_without_a_reason_is_refused() -> None:
    _report, photo = report_with_photo()
    with pytest.raises(ReportError) as caught:
        photo_redact(photo=photo, boxes=[BOX], moderator="thandeka", reason=" ")
    assert caught.value.field == "reason"


def test_a_failure_after_the_new_files_are_written_keeps_the_old_ones(monkeypatch) -> None:
    _report, photo = report_with_photo()
    old = urls_of(photo)
    storage = photo.image.storage
    before = set(storage.listdir("reports")[0])

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database gone")

    monkeypatch.setattr("reports.redaction.log_report_change", broken)
    with pytest.raises(RuntimeError):
        photo_redact(photo=photo, boxes=[BOX], moderator="thandeka", reason="A face")
    photo.refresh_from_db()
    assert urls_of(photo) == old and all(storage.exists(name) for name in old)
    assert not AdminAction.objects.exists()
    # No new file was left behind.
    stored = {f"{directory}/{name}" for directory in [photo.image.name.rsplit("/", 1)[0]]
              for name in storage.listdir(directory)[1]}
    assert stored == {photo.image.name}
    assert set(storage.listdir("reports")[0]) == before

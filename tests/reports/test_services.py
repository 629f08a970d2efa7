import io

import pytest
from PIL import Image

from changelog.models import AdminAction, DataChangeLog
from reports.models import ReportStatus
from reports.services import (
    PhotoUpload,
    ReportError,
    report_add_note,
    report_flag,
    report_submit,
)
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (3000, 1500), (20, 90, 160))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "S", 2: (33.0, 55.0, 0.0), 3: "E", 4: (18.0, 25.0, 0.0)}  # GPS IFD
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_a_submitted_report_is_published_with_a_clean_resized_photo() -> None:
    project = ProjectFactory()
    report = report_submit(
        title="Leak", description="Water running down the street", report_type="issue", lng=18.42, lat=-33.92,
        project=project, name="Sipho", email="sipho@example.org", photos=[PhotoUpload(jpeg_with_gps(), "leak.jpg")],
    )
    assert report.status == ReportStatus.PUBLISHED
    photo = report.photos.get()
    assert max(photo.width, photo.height) == 2048
    with Image.open(photo.image.path) as stored:
        assert not stored.getexif()
        assert "exif" not in stored.info
    entry = DataChangeLog.objects.filter(entity_type="report").latest("pk")
    assert entry.source == "community_report" and "sipho@example.org" not in str(entry.new_values)


def test_a_report_outside_south_africa_is_refused_naming_the_location() -> None:
    with pytest.raises(ReportError) as error:
        report_submit(title="x", description="y", report_type="issue", lng=2.35, lat=48.85)
    assert error.value.field == "location"


def test_a_file_that_is_not_an_image_is_refused_whatever_its_name() -> None:
    with pytest.raises(ReportError) as error:
        report_submit(title="x", description="y", report_type="issue", lng=18.4, lat=-33.9,
                      photos=[PhotoUpload(b"GIF89a not really", "cat.jpg")])
    assert error.value.field == "photos"


def test_flagging_many_reports_writes_one_admin_action_and_one_change_per_report() -> None:
    reports = [report_submit(title=f"r{i}", description="d", report_type="issue", lng=18.4, lat=-33.9)
               for i in range(3)]
    before = DataChangeLog.objects.count()
    assert report_flag(reports=reports, moderator="mod", reason="abusive") == 3
    assert AdminAction.objects.filter(action="flag", reason="abusive").count() == 3
    assert DataChangeLog.objects.count() == before + 3
    for report in reports:
        report.refresh_from_db()
        assert report.status == ReportStatus.FLAGGED and report.reviewed_at is not None


def test_internal_notes_never_reach_the_public_change_log() -> None:
    report = report_submit(title="x", description="y", report_type="issue", lng=18.4, lat=-33.9)
    report_add_note(reports=[report], note="caller sounded unsure", moderator="mod", reason="context")
    entry = DataChangeLog.objects.latest("pk")
    assert "unsure" not in str(entry.new_values) and "unsure" not in str(entry.old_values)


def test_moderation_without_a_reason_is_refused() -> None:
    report = report_submit(title="x", description="y", report_type="issue", lng=18.4, lat=-33.9)
    with pytest.raises(ReportError):
        report_flag(reports=[report], moderator="mod", reason=" ")

"""Open reports near a place (the report form's duplicate suggestions), on SpatiaLite and PostGIS: which reports,
in which order, their first photo, and a plan that reads the spatial index."""

import io
import math
import random

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from PIL import Image

from bukaamanzi.lib.geo import EARTH_RADIUS_KM, distance_km
from reports.lifecycle import report_mark_duplicate, report_set_state
from reports.models import Report, ReportStatus, ReportType
from reports.nearby import MAX_RADIUS_M, NEARBY_LIMIT, open_report_candidates, open_reports_near
from reports.services import PhotoUpload, report_flag, report_mark_spam, report_submit

pytestmark = pytest.mark.django_db

# A street corner in Khayelitsha, Cape Town.
HERE = (18.6741, -34.0395)


def offset(metres: float, bearing_degrees: float, start: tuple[float, float] = HERE) -> tuple[float, float]:
    """The (lng, lat) `metres` away from `start` along the great circle that leaves it at the bearing (0 north,
    90 east): the sphere's destination formula, on the radius the distances are measured with."""
    lng, lat = map(math.radians, start)
    angle, bearing = metres / 1000 / EARTH_RADIUS_KM, math.radians(bearing_degrees)
    lat2 = math.asin(math.sin(lat) * math.cos(angle) + math.cos(lat) * math.sin(angle) * math.cos(bearing))
    lng2 = lng + math.atan2(math.sin(bearing) * math.sin(angle) * math.cos(lat),
                            math.cos(angle) - math.sin(lat) * math.sin(lat2))
    return math.degrees(lng2), math.degrees(lat2)


def tiny_jpeg(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def submit(title: str, at: tuple[float, float], report_type: str = "issue", photos=()) -> Report:
    lng, lat = at
    return report_submit(title=title, description="Water running down the street.", report_type=report_type,
                         lng=lng, lat=lat, photos=photos)


def titles(found) -> list[str]:
    return [report.title for report in found]


def test_the_offsets_are_the_distances_they_say():
    for metres, bearing in ((240, 0), (260, 90), (999, 225)):
        assert distance_km(*HERE, *offset(metres, bearing)) * 1000 == pytest.approx(metres, abs=0.01)


def test_open_problems_come_nearest_first_with_their_great_circle_distance():
    submit("far", offset(200, 45))
    submit("middle", offset(120, 180))
    submit("near", offset(30, 300))
    found = open_reports_near(lng=HERE[0], lat=HERE[1])
    assert titles(found) == ["near", "middle", "far"]
    assert [round(report.distance_m) for report in found] == [30, 120, 200]
    nearest = found[0]
    assert (nearest.lng, nearest.lat) == pytest.approx(offset(30, 300))
    assert (nearest.report_type, nearest.state, nearest.photo) == ("issue", "open", None)
    assert nearest.id == Report.objects.get(title="near").pk and nearest.created_at is not None


@pytest.mark.parametrize("bearing", [0, 90, 135, 270])
def test_the_default_radius_of_250_m_takes_a_report_at_240_m_and_not_one_at_260_m(bearing):
    submit("inside", offset(240, bearing))
    submit("outside", offset(260, bearing))
    assert titles(open_reports_near(lng=HERE[0], lat=HERE[1])) == ["inside"]
    assert titles(open_reports_near(lng=HERE[0], lat=HERE[1], radius_m=300)) == ["inside", "outside"]


def test_a_wider_radius_reaches_further_up_to_the_maximum():
    submit("at 900 m", offset(900, 30))
    assert titles(open_reports_near(lng=HERE[0], lat=HERE[1])) == []
    assert titles(open_reports_near(lng=HERE[0], lat=HERE[1], radius_m=MAX_RADIUS_M)) == ["at 900 m"]
    with pytest.raises(ValueError, match="radius_m"):
        open_reports_near(lng=HERE[0], lat=HERE[1], radius_m=MAX_RADIUS_M + 1)


def test_at_most_five_are_suggested_the_nearest_ones():
    for metres in (10, 60, 110, 160, 210, 20, 70):
        submit(f"at {metres} m", offset(metres, metres))
    found = open_reports_near(lng=HERE[0], lat=HERE[1])
    assert NEARBY_LIMIT == 5
    assert titles(found) == ["at 10 m", "at 20 m", "at 60 m", "at 70 m", "at 110 m"]
    assert titles(open_reports_near(lng=HERE[0], lat=HERE[1], limit=2)) == ["at 10 m", "at 20 m"]


def test_only_published_problems_waiting_for_a_fix_are_suggested():
    at = offset(50, 10)
    kept = {name: submit(name, at) for name in ("open", "acknowledged", "in_progress")}
    report_set_state(reports=[kept["acknowledged"]], state="acknowledged", moderator="mod", reason="seen")
    report_set_state(reports=[kept["in_progress"]], state="in_progress", moderator="mod", reason="crew sent")
    concern = submit("quality concern", at, report_type=ReportType.QUALITY_CONCERN)
    flagged, spam, fixed, not_fixed, duplicate = (submit(name, at) for name in (
        "flagged", "spam", "fixed", "not fixed", "duplicate"))
    report_flag(reports=[flagged], moderator="mod", reason="abusive")
    report_mark_spam(reports=[spam], moderator="mod", reason="advert")
    report_set_state(reports=[fixed], state="fixed", moderator="mod", reason="repaired")
    report_set_state(reports=[not_fixed], state="not_fixed", moderator="mod", reason="no budget")
    report_mark_duplicate(reports=[duplicate], original=kept["open"], moderator="mod", reason="same leak")
    submit("progress news", at, report_type=ReportType.PROGRESS_UPDATE)
    submit("completed", at, report_type=ReportType.COMPLETION)
    assert (Report.objects.count(), Report.objects.filter(status=ReportStatus.PUBLISHED).count()) == (11, 9)
    found = open_reports_near(lng=HERE[0], lat=HERE[1], limit=20)
    assert {report.title for report in found} == {"open", "acknowledged", "in_progress", "quality concern"}
    assert {report.state for report in found} == {"open", "acknowledged", "in_progress"}
    assert concern.pk in {report.id for report in found}


def test_each_suggestion_carries_its_first_photo_all_read_in_one_query(django_assert_num_queries):
    first = PhotoUpload(data=tiny_jpeg("red"), name="first.jpg", alt_text="The burst pipe")
    second = PhotoUpload(data=tiny_jpeg("blue"), name="second.jpg", alt_text="The puddle")
    with_photos = submit("with photos", offset(40, 0), photos=[first, second])
    other = submit("with one photo", offset(80, 0), photos=[second])
    submit("without", offset(20, 0))
    with django_assert_num_queries(2):  # the candidates, then the photos of all of them
        found = {report.title: report for report in open_reports_near(lng=HERE[0], lat=HERE[1])}
    photo = found["with photos"].photo
    stored = with_photos.photos.order_by("pk").first()
    assert photo is not None and stored is not None
    assert photo.url == stored.image.url and photo.alt_text == "The burst pipe"
    assert (photo.width, photo.height) == (40, 30)
    assert found["with one photo"].photo.alt_text == "The puddle"
    assert found["with one photo"].photo.url == other.photos.get().image.url
    assert found["without"].photo is None


def test_nothing_near_is_one_query(django_assert_num_queries):
    submit("elsewhere", offset(5000, 0))
    with django_assert_num_queries(1):
        assert open_reports_near(lng=HERE[0], lat=HERE[1]) == []


def test_the_query_reads_the_spatial_index():
    # Enough reports spread over the country that the planner chooses by selectivity, not because the table is
    # small; bulk-created because only the plan is under test here.
    rng = random.Random(14)
    points = [Point(rng.uniform(17, 32), rng.uniform(-34.5, -22.5), srid=4326) for _ in range(3000)]
    Report.objects.bulk_create([
        Report(title=f"spread {n}", description="d", report_type=ReportType.ISSUE, location=point,
               public_location=point)
        for n, point in enumerate(points)], batch_size=1000)
    submit("here", offset(100, 0))
    candidates = open_report_candidates(lng=HERE[0], lat=HERE[1], radius_m=250)
    if connection.vendor == "sqlite":
        plan = candidates.explain()
        assert "idx_reports_report_public_location" in plan and "VIRTUAL TABLE INDEX" in plan, plan
        assert "USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'reports_report' "
                           "AND indexdef LIKE '%%USING gist (public_location)%%'")
            (index,) = [row[0] for row in cursor.fetchall()]
            cursor.execute("ANALYZE reports_report")
        plan = candidates.explain()
        assert index in plan and "Index Scan" in plan, plan
    assert titles(open_reports_near(lng=HERE[0], lat=HERE[1])) == ["here"]


def test_a_suggestion_shows_the_photo_thumbnail_not_the_original(client) -> None:
    from reports.services import PhotoUpload, report_submit
    from tests.reports.test_services import jpeg_with_gps

    report = report_submit(title="With a photo", description="d", report_type="issue", lng=HERE[0], lat=HERE[1],
                           photos=[PhotoUpload(jpeg_with_gps(), "leak.jpg")])
    photo = report.photos.get()
    (found,) = open_reports_near(lng=HERE[0], lat=HERE[1])
    assert found.photo is not None and found.photo.thumbnail_url == photo.thumbnail.url != photo.image.url
    html = client.get("/reports/nearby/", {"latitude": HERE[1], "longitude": HERE[0]}).content.decode()
    assert photo.thumbnail.url in html and photo.image.url not in html

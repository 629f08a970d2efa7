"""The redaction page's small script (static/admin/js/redact.js) in a real browser: a moderator drags a box over the
photo as shown, the box lands in the text area in the stored photo's own pixels, and the server paints it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from PIL import Image

from reports.models import ReportPhoto, ReportType
from reports.services import PhotoUpload, report_submit
from tests.browser.conftest import axe_violations
from tests.reports.test_photos import photo_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZE = (1200, 900)  # wider than the phone-sized window: the photo is shown scaled down
GREY = (200, 180, 160)
PASSWORD = "a-long-test-password"


def sign_in(page, site: str) -> None:  # type: ignore[no-untyped-def]
    get_user_model().objects.create_superuser("moderator", "moderator@example.org", PASSWORD)
    page.goto(f"{site}/admin/login/?next=/admin/")
    page.fill("#id_username", "moderator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{site}/admin/")


def test_a_box_dragged_on_the_scaled_photo_is_painted_where_it_was_drawn(page, site) -> None:  # type: ignore[no-untyped-def]
    report = report_submit(title="Leak at the school gate", description="Water runs past the gate.",
                           report_type=ReportType.ISSUE, lng=18.43, lat=-33.93,
                           photos=[PhotoUpload(photo_bytes(SIZE, color=GREY), "gate.jpg")])
    photo = report.photos.get()
    sign_in(page, site)
    page.goto(f"{site}/admin/reports/report/{report.pk}/photos/{photo.pk}/redact/")
    image = page.locator("[data-redact-stage] img")
    image.wait_for()
    shown = image.bounding_box()
    assert shown is not None and shown["width"] < SIZE[0]  # scaled to fit, so the script must convert

    # From a quarter to a half of the shown photo: in stored pixels (300, 225) to (600, 450).
    page.mouse.move(shown["x"] + shown["width"] * 0.25, shown["y"] + shown["height"] * 0.25)
    page.mouse.down()
    page.mouse.move(shown["x"] + shown["width"] * 0.5, shown["y"] + shown["height"] * 0.5, steps=8)
    page.mouse.up()
    x, y, width, height = (int(n) for n in page.locator("textarea.redact-boxes").input_value().split(","))
    tolerance = SIZE[0] / shown["width"] * 2  # two shown pixels
    assert abs(x - 300) <= tolerance and abs(y - 225) <= tolerance
    assert abs(width - 300) <= tolerance and abs(height - 225) <= tolerance
    assert page.locator("[data-redact-stage] .redact-box").count() == 1  # the drawn box is shown over the photo
    assert axe_violations(page) == []

    page.get_by_label("Reason").fill("A child's face")
    page.locator("input[type=submit]").click()
    page.wait_for_url(f"{site}/admin/reports/report/{report.pk}/change/")
    redacted = ReportPhoto.objects.get(pk=photo.pk)
    assert redacted.redacted_at is not None
    with redacted.image.open("rb") as stored, Image.open(stored) as painted:
        rgb = painted.convert("RGB")
        assert max(rgb.getpixel((x + width // 2, y + height // 2))) < 30  # inside the drawn box: black
        assert min(rgb.getpixel((x + width + 40, y + height + 40))) > 120  # outside it: the photo

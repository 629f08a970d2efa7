import io
import re

import pytest
from PIL import Image

from bench.pages.weight import HOME_ASSET_BUDGET, PROJECT_BUDGET, measure
from reports.lifecycle import update_add
from reports.models import ReportPhoto, UpdatePhoto
from reports.services import PhotoUpload, report_submit
from tests.factories import ProjectFactory, ReportFactory

pytestmark = pytest.mark.django_db


def test_project_page_without_the_map_stays_under_100_kb_gzipped(client) -> None:
    project = ProjectFactory(description="A long description. " * 50)
    ReportFactory.create_batch(30, project=project, description="What I saw on the ground. " * 20)
    weight = measure(client, f"/projects/{project.pk}/")
    assert weight.without_map <= PROJECT_BUDGET
    assert weight.map_bytes > 0  # the map files are counted, and left out of the budget


def test_home_page_css_and_js_stay_under_350_kb_gzipped(client) -> None:
    ProjectFactory.create_batch(20)
    weight = measure(client, "/")
    assert 0 < weight.asset_bytes <= HOME_ASSET_BUDGET
    assert not any(url.startswith("http") for url in weight.assets)


def phone_photo(n: int) -> PhotoUpload:
    """A photo larger than the 2,048 px stored, each a little different, sent through the real upload path."""
    image = Image.linear_gradient("L").resize((2200, 1650)).convert("RGB")
    image.paste((20 + n * 9, 90, 160), (n * 40, 100, n * 40 + 600, 700))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return PhotoUpload(buffer.getvalue(), f"IMG_{n:04d}.jpg", f"Photo {n} of the trench")


def test_report_page_with_20_photo_updates_stays_under_100_kb_gzipped_and_shows_only_thumbnails(client) -> None:
    """The budget of a project page, on the report page with its 5 photos and 20 updates each with a photo."""
    report = report_submit(title="Open trench on Main Road", description="The trench has been open for weeks. " * 30,
                           report_type="issue", lng=18.42, lat=-33.92, photos=[phone_photo(n) for n in range(5)])
    for n in range(20):
        update_add(report=report, text=f"Day {n}: still open, no workers on site. " * 8, name="Sipho",
                   photos=[phone_photo(5 + n)])
    weight = measure(client, f"/reports/{report.pk}/")
    assert weight.without_map <= PROJECT_BUDGET

    html = client.get(f"/reports/{report.pk}/").content.decode()
    shown = re.findall(r'<img src="([^"]+)"[^>]* width="(\d+)" height="(\d+)" loading="lazy"', html)
    photos = [*ReportPhoto.objects.filter(report=report), *UpdatePhoto.objects.filter(update__report=report)]
    assert len(shown) == len(photos) == 25 and html.count("<img") == 25
    assert {src for src, _, _ in shown} == {photo.thumbnail.url for photo in photos}
    assert all((width, height) == ("133", "100") for _, width, height in shown)
    assert not {photo.image.url for photo in photos} & {src for src, _, _ in shown}
    # each thumbnail links to its full image
    assert all(f'<a href="{photo.image.url}"><img src="{photo.thumbnail.url}"' in html for photo in photos)

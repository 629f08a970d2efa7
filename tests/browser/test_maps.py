"""The maps' default marker loads when static files have hashed names, as they do in production
(CompressedManifestStaticFilesStorage), where Leaflet's own guess at its image folder fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.test import override_settings

from tests.factories import ProjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HASHED = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"


@pytest.fixture(scope="module")
def hashed_static(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("static")
    storages = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": HASHED}}
    with override_settings(STATIC_ROOT=root, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    yield root


def test_the_project_location_marker_loads_with_hashed_static_names(page, site, settings, hashed_static) -> None:
    settings.STATIC_ROOT = hashed_static
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": HASHED}}
    # The live server's static handler looks files up by their source names; serve the collected ones instead.
    def collected(route, request) -> None:
        path = hashed_static / request.url.removeprefix(f"{site}/static/").split("?")[0]
        if path.is_file():
            route.fulfill(path=str(path))
        else:
            route.continue_()  # the map tiles the site fixture points at

    page.route(f"{site}/static/**", collected)
    project = ProjectFactory(location=Point(18.42, -33.92, srid=4326))
    page.goto(f"{site}/projects/{project.pk}/")
    marker = page.wait_for_selector("#point-map img.leaflet-marker-icon")
    source = marker.get_attribute("src") or ""
    assert source.startswith("/static/leaflet/images/marker-icon."), source  # not Leaflet's guess, "marker-icon.png"
    page.wait_for_function("img => img.complete", arg=marker)
    assert marker.evaluate("img => img.naturalWidth") > 0, source

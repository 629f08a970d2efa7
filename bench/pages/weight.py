"""Page weight: bytes a phone downloads (gzip) for the home page and a project page.

Builds a private SpatiaLite database in a temporary directory (migrate, the 257 municipalities, the demo data,
plus five community reports on the project measured, so the page is weighed as residents see it), renders the
pages in-process with Django's test client, gzips the HTML as the GZip middleware does, and weighs each
stylesheet and script the page links as whitenoise serves them (the .gz files collectstatic wrote). Map files
(Leaflet, map.js) and map tiles are counted apart: the budgets are

  - project page, without the map: HTML + CSS + JS <= 100 KB gzipped
  - home page: CSS + JS <= 350 KB gzipped (tiles excluded)

Usage:  CHANNEL_LAYER=memory .venv/bin/python bench/pages/weight.py
        (prints a table; exit status 1 if a budget is broken)
"""

from __future__ import annotations

import gzip
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

MAP_FILES = ("leaflet/", "js/map.js")
PROJECT_BUDGET = 100 * 1024
HOME_ASSET_BUDGET = 350 * 1024


def is_map_file(name: str) -> bool:
    return re.sub(r"\.[0-9a-f]{12}(\.[a-z0-9]+)$", r"\1", name).startswith(MAP_FILES)


@dataclass
class Weight:
    path: str
    html: int = 0
    assets: dict[str, int] = field(default_factory=dict)

    @property
    def map_bytes(self) -> int:
        return sum(size for name, size in self.assets.items() if is_map_file(name))

    @property
    def asset_bytes(self) -> int:
        return sum(self.assets.values())

    @property
    def without_map(self) -> int:
        return self.html + self.asset_bytes - self.map_bytes


def _static_gzip_size(url: str) -> int:
    """The size of the .gz file whitenoise serves when collectstatic ran; else gzip -9 of the source file."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    name = url.split("?")[0].removeprefix(settings.STATIC_URL)
    collected = Path(settings.STATIC_ROOT) / (name + ".gz")
    if collected.exists():
        return collected.stat().st_size
    name = re.sub(r"\.[0-9a-f]{12}(\.[a-z0-9]+)$", r"\1", name)  # hashed name from the manifest storage
    found = finders.find(name)
    if not found:
        raise FileNotFoundError(f"static file not found: {name}")
    return len(gzip.compress(Path(found).read_bytes(), compresslevel=9))


def measure(client: object, path: str) -> Weight:
    """Weigh one page: gzip of its HTML plus gzip of every stylesheet and script it links."""
    from django.conf import settings

    response = client.get(path)  # type: ignore[attr-defined]
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
    html = response.content
    weight = Weight(path=path, html=len(gzip.compress(html, compresslevel=6)))
    text = html.decode()
    links = re.findall(r'<script[^>]+src="([^"]+)"', text) + re.findall(
        r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', text)
    for url in links:
        if url.startswith(settings.STATIC_URL):
            weight.assets[url.removeprefix(settings.STATIC_URL)] = _static_gzip_size(url)
    return weight


def report(weights: list[Weight]) -> str:
    lines = []
    for w in weights:
        lines.append(f"{w.path}")
        lines.append(f"  HTML (gzip)                               {w.html / 1024:8.1f} KB")
        for name, size in sorted(w.assets.items()):
            lines.append(f"  {name:<42}{size / 1024:8.1f} KB{'  (map)' if is_map_file(name) else ''}")
        lines.append(f"  CSS + JS total                            {w.asset_bytes / 1024:8.1f} KB")
        lines.append(f"  everything without the map               {w.without_map / 1024:8.1f} KB")
    return "\n".join(lines)


def main() -> int:
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    work = Path(tempfile.mkdtemp(prefix="ba-weight-"))
    os.environ["DATABASE_URL"] = f"spatialite:///{work / 'weight.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(work / "media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    # Collect into a private directory with the production storage (hashed names, .gz files by whitenoise), so
    # the figures are those of the files served, and the site's own var/staticfiles is left alone.
    settings.STATIC_ROOT = str(work / "static")
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_municipalities", verbosity=0)
    call_command("load_demo_data", verbosity=0)

    from projects.models import Project

    setup_test_environment()  # ALLOWED_HOSTS gains testserver; nothing is written
    client = Client()
    from reports.services import report_submit

    project = Project.objects.filter(name__icontains="pipeline").first() or Project.objects.first()
    for n in range(5):
        report_submit(title=f"Report {n + 1} on the works", description="Trench open on Main Road; " * 10,
                      report_type="progress_update", lng=18.5, lat=-33.9, project=project, name="Resident")
    try:
        home = measure(client, "/")
        page = measure(client, f"/projects/{project.pk}/")
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    print(report([home, page]))
    ok = page.without_map <= PROJECT_BUDGET and home.asset_bytes <= HOME_ASSET_BUDGET
    print(f"\nproject page without map: {page.without_map / 1024:.1f} KB of {PROJECT_BUDGET // 1024} KB; "
          f"home CSS+JS: {home.asset_bytes / 1024:.1f} KB of {HOME_ASSET_BUDGET // 1024} KB -> "
          f"{'within budget' if ok else 'OVER BUDGET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

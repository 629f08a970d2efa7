"""Template hygiene: Django's {# #} comments end at the line's end, so a multi-line one shows on the page."""

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.test import Client

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_no_template_has_a_multi_line_short_comment() -> None:
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{text[: match.start()].count(chr(10)) + 1}"
        for path in TEMPLATES.rglob("*.html")
        for text in [path.read_text(encoding="utf-8")]
        for match in re.finditer(r"\{#(.*?)#\}", text, re.S)
        if "\n" in match.group(1)
    ]
    assert offenders == [], "use {% comment %} for comments over several lines: " + ", ".join(offenders)


def test_rendered_pages_show_no_template_syntax(client: "Client", db: None) -> None:
    from projects.demo import demo_data_load
    from projects.models import Project

    demo_data_load()
    project = Project.objects.select_related("municipality").first()
    assert project is not None and project.municipality is not None
    for url in ["/", f"/projects/{project.pk}/", f"/municipalities/{project.municipality.code}/", "/pipeline/",
                "/about/", "/reports/new/", "/municipalities/", "/alerts/", f"/alerts/?project={project.pk}"]:
        content = client.get(url).content
        assert b"{#" not in content and b"{%" not in content and b"{{" not in content, url

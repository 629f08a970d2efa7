"""Page fragments pushed to open pages, rendered from the same templates the pages include.

The HTMX ws extension swaps every top-level element of a message into the page by its id (an out-of-band swap),
so a push is the project's fragments concatenated: status, progress, budget and the community reports list (a
new report appears, a flagged one disappears). The relay renders them once per change batch, per project and
language, and only for pages that are open (groups with a member), so ingestion of thousands of projects does
not render thousands of pages nobody is looking at.

Home and municipality pages get the rows of the projects that changed (`project-row-<id>`; the page swaps in
those it shows and drops the others) and, on a municipality page, its totals and status breakdown. New projects
are not inserted into an open list (where they belong depends on the page's filters and sort): the totals count
them, and the list shows them on the next load.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from changelog.models import DataChangeLog
from municipalities.models import Municipality
from projects.fragments import municipality_totals_context, project_fragments_context
from projects.models import Project
from realtime.groups import html_home_group, html_municipality_group, html_project_group

logger = logging.getLogger(__name__)

PROJECT_FRAGMENTS = (
    "projects/fragments/status.html",
    "projects/fragments/affected.html",
    "projects/fragments/progress.html",
    "projects/fragments/budget.html",
    "reports/fragments/report_list.html",
)
ROW_FRAGMENT = "projects/fragments/project_row.html"
TOTALS_FRAGMENT = "municipalities/fragments/totals.html"


def languages() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


@dataclass(frozen=True)
class Target:
    """An open page a change may update: the project page, the home page or a municipality page, in a language."""

    page: str  # "project", "home" or "municipality"
    key: str  # the project id, the municipality's MDB code, or "" for home
    language: str


def candidate_groups(rows: Iterable[DataChangeLog]) -> dict[str, Target]:
    """Every page group these rows could update: group name -> target. Only changes that concern a project
    update pages; a district's page also lists its local municipalities' projects."""
    rows = [row for row in rows if row.project_id]
    districts = _districts({row.municipality_code.upper() for row in rows if row.municipality_code})
    targets: dict[str, Target] = {}
    for row in rows:
        code = row.municipality_code.upper()
        codes = {code, districts.get(code, "")} - {""}
        for language in languages():
            targets[html_project_group(row.project_id, language)] = Target("project", row.project_id, language)
            targets[html_home_group(language)] = Target("home", "", language)
            for each in codes:
                targets[html_municipality_group(each, language)] = Target("municipality", each, language)
    return targets


def _districts(codes: set[str]) -> dict[str, str]:
    """Municipality code -> its district's code, for the municipalities in a batch (one query)."""
    if not codes:
        return {}
    return {
        code.upper(): district.upper()
        for code, district in Municipality.objects.filter(code__in=codes, district__isnull=False)
        .values_list("code", "district__code")
    }


def pushes_for(
    rows: Sequence[DataChangeLog], listened: set[str]
) -> dict[int, list[tuple[str, dict[str, Any]]]]:
    """Per change id, the (group, message) pairs to send after its JSON update. One push per open page per
    batch: a project page's after the batch's last change of that project (the page shows the state after all
    of them), a list page's after the batch's last change."""
    last_row: dict[str, int] = {}
    for row in rows:
        if row.project_id:
            last_row[row.project_id] = row.pk
    pushes: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    lists: dict[str, Target] = {}
    for group, target in candidate_groups(rows).items():
        if group not in listened:
            continue
        if target.page != "project":
            lists[group] = target
            continue
        html = render_project(target.key, target.language)
        if html is not None:
            pushes.setdefault(last_row[target.key], []).append((group, _message(html)))
    if lists:
        for group, html in render_lists(list(last_row), lists).items():
            if html:  # e.g. the only changed project was deleted
                pushes.setdefault(rows[-1].pk, []).append((group, _message(html)))
    return pushes


def _message(html: str) -> dict[str, Any]:
    return {"type": "html.fragments", "html": html}


def render_lists(project_ids: list[str], targets: dict[str, Target]) -> dict[str, str]:
    """For open home and municipality pages: the changed projects' rows (each page swaps in those it shows,
    by id) and, for a municipality, its totals. A rendering failure leaves that page to its next poll."""
    projects = list(
        Project.objects.select_related("municipality", "municipality__district").filter(pk__in=project_ids)
    )
    rows: dict[tuple[str, str], str] = {}

    def row(project: Project, language: str) -> str:
        if (str(project.pk), language) not in rows:
            rows[(str(project.pk), language)] = render_to_string(ROW_FRAGMENT, {"project": project})
        return rows[(str(project.pk), language)]

    municipalities: dict[str, tuple[dict[str, Any], set[Any]] | None] = {}
    html: dict[str, str] = {}
    for group, target in targets.items():
        try:
            with translation.override(target.language):
                if target.page == "home":
                    html[group] = "".join(row(project, target.language) for project in projects)
                    continue
                if target.key not in municipalities:
                    municipalities[target.key] = _municipality_page(target.key, project_ids)
                found = municipalities[target.key]
                if found is None:
                    continue
                context, shown = found
                html[group] = render_to_string(TOTALS_FRAGMENT, context) + "".join(
                    row(project, target.language) for project in projects if project.pk in shown
                )
        except Exception:
            logger.exception("Could not render live list fragments for %s", group)
    return html


def _municipality_page(code: str, project_ids: list[str]) -> tuple[dict[str, Any], set[Any]] | None:
    """An open municipality page's totals context and which of the changed projects it lists (its own and,
    for a district, its local municipalities'); None if there is no such municipality."""
    municipality = Municipality.objects.filter(code=code).first()
    if municipality is None:
        return None
    shown = set(Project.objects.filter(pk__in=project_ids).in_municipality(municipality).values_list("pk", flat=True))
    return municipality_totals_context(municipality), shown


def render_project(project_id: str, language: str) -> str | None:
    """The project's live fragments in `language`; None if the project is gone or a template fails (the JSON
    feed and the page itself are unaffected, so a rendering bug must not hold up the relay)."""
    project = (
        Project.objects.select_related("municipality").prefetch_related("budgets").filter(pk=project_id).first()
    )
    if project is None:
        return None
    try:
        context = project_fragments_context(project)
        with translation.override(language):
            return "".join(render_to_string(name, context) for name in PROJECT_FRAGMENTS)
    except Exception:
        logger.exception("Could not render live fragments for project %s", project_id)
        return None

"""Page fragments pushed to open project pages, rendered from the same templates the page includes.

The HTMX ws extension swaps every top-level element of a message into the page by its id (an out-of-band swap),
so a push is the project's fragments concatenated: status, progress, budget and the community reports list (a
new report appears, a flagged one disappears). The relay renders them once per change batch, per project and
language, and only for pages that are open (groups with a member), so ingestion of thousands of projects does
not render thousands of pages nobody is looking at.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from realtime.groups import html_project_group
from realtime.models import DataChangeLog

logger = logging.getLogger(__name__)

PROJECT_FRAGMENTS = (
    "projects/fragments/status.html",
    "projects/fragments/progress.html",
    "projects/fragments/budget.html",
    "reports/fragments/report_list.html",
)


def languages() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


def candidate_groups(rows: Iterable[DataChangeLog]) -> dict[str, tuple[str, str]]:
    """Every page group these rows could update: group name -> (project id, language)."""
    return {
        html_project_group(row.project_id, language): (row.project_id, language)
        for row in rows
        if row.project_id
        for language in languages()
    }


def pushes_for(
    rows: Sequence[DataChangeLog], listened: set[str]
) -> dict[int, list[tuple[str, dict[str, Any]]]]:
    """Per change id, the (group, message) pairs to send after its JSON update. One push per open page per
    batch, attached to the batch's last change of that project (the page shows the state after all of them)."""
    last_row: dict[str, int] = {}
    for row in rows:
        if row.project_id:
            last_row[row.project_id] = row.pk
    pushes: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for group, (project_id, language) in candidate_groups(rows).items():
        if group not in listened:
            continue
        html = render_project(project_id, language)
        if html is not None:
            pushes.setdefault(last_row[project_id], []).append((group, {"type": "html.fragments", "html": html}))
    return pushes


def render_project(project_id: str, language: str) -> str | None:
    """The project's live fragments in `language`; None if the project is gone or a template fails (the JSON
    feed and the page itself are unaffected, so a rendering bug must not hold up the relay)."""
    from projects.models import Project
    from reports.models import Report

    project = (
        Project.objects.select_related("municipality").prefetch_related("budgets").filter(pk=project_id).first()
    )
    if project is None:
        return None
    reports = Report.objects.published().filter(project=project).prefetch_related("photos")
    context = {"project": project, "reports": reports, "report_count": reports.count()}
    try:
        with translation.override(language):
            return "".join(render_to_string(name, context) for name in PROJECT_FRAGMENTS)
    except Exception:
        logger.exception("Could not render live fragments for project %s", project_id)
        return None

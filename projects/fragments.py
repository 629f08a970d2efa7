"""The context of the fragments that a page includes and a live push re-renders, built in one place.

A project page and the relay's push of that page render the same templates (`projects/fragments/*.html`,
`reports/fragments/report_list.html`, `municipalities/fragments/totals.html`); if each built its own context
they would disagree (the push once listed every published report while the page listed 30). The page views and
`realtime.fragments` both call these functions: they live here, in the domain app, so that both can import
them downward.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Sum

from municipalities.models import Municipality
from projects.models import Project, ProjectQuerySet, Status
from reports.models import Report, ReportPhoto, public_photos

REPORTS_SHOWN = 30


def project_fragments_context(project: Project) -> dict[str, Any]:
    """`project`, its newest published reports (at most REPORTS_SHOWN) and how many it has in all."""
    reports = Report.objects.published().filter(project=project).prefetch_related(public_photos(ReportPhoto))
    return {"project": project, "reports": list(reports[:REPORTS_SHOWN]), "report_count": reports.count()}


def municipality_totals_context(municipality: Municipality) -> dict[str, Any]:
    """`municipality` and its totals fragment's figures (`totals`, `breakdown`), its local municipalities'
    projects included for a district."""
    return {"municipality": municipality, **_project_totals(Project.objects.in_municipality(municipality))}


def _project_totals(base: ProjectQuerySet) -> dict[str, Any]:
    """How many projects, their value, spending and latest fetch, and the count per status (`breakdown`)."""
    totals = base.aggregate(projects=Count("pk"), value=Sum("budget_allocated"), spent=Sum("budget_spent"),
                            fetched=Max("last_scraped_at"))
    counts = dict(base.values_list("status").annotate(n=Count("pk")).order_by())
    breakdown = [(value, label, counts.get(value, 0)) for value, label in Status.choices if counts.get(value)]
    return {"totals": totals, "breakdown": breakdown}

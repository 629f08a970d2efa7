"""Template tags that put insight figures on pages owned by lower apps (the project and municipality pages).

`projects` and `municipalities` sit below `insights` (import-linter), so their views cannot compute these figures;
a template loads this library by name instead, and the figure is computed here when the page is rendered.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from insights.cache import cached_figure
from insights.forecast_project import comparison_text, method_text, outcome_text, project_forecast
from insights.quality import measured_at, quality_total, real_projects
from municipalities.models import Municipality
from projects.models import Project

register = template.Library()


@register.inclusion_tag("projects/_forecast.html")
def project_forecast_section(project: Project) -> dict[str, Any]:
    """The project page's forecast section: one query (the project's progress entries in the change log)."""
    forecast = project_forecast(project.pk, project.end_date, project.status)
    return {"project": project, "forecast": forecast, "outcome": outcome_text(forecast),
            "comparison": comparison_text(forecast), "method": method_text()}


@register.inclusion_tag("insights/quality_summary.html")
def municipality_quality(municipality: Municipality) -> dict[str, Any]:
    """A municipality's data-quality summary (a district with its local municipalities), cached per data version."""
    day = timezone.localdate()
    now = measured_at(day)
    quality = cached_figure("quality_of_municipality",
                            lambda: quality_total(real_projects().in_municipality(municipality), now),
                            {"municipality": municipality.code, "day": day.isoformat()})
    return {"municipality": municipality, "quality": quality}

"""A small, clearly labelled demo data set, so that a fresh site shows what it will look like.

Demo projects carry `source="demo"` and `is_demo=True`; every page and API response that shows them says they
are demo data, and the first real ingestion removes them. Their names are made up, but their locations are not
invented: a demo project sits on its municipality's documented point (its seat town), or has no location.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from changelog.models import ChangeSource, ChangeType, EntityType
from changelog.services import ChangeEntry, change_log_record_many
from municipalities.models import Municipality
from municipalities.services import municipality_refresh_totals
from projects.models import Project, Source, Status
from projects.services import BudgetLine, project_upsert_from_source

# (code, name, type, status, source status, allocated, spent, progress, start, end)
DEMO_PROJECTS = [
    ("CPT", "Demo: Bulk water pipeline upgrade", "Bulk water", Status.IMPLEMENTATION, "Construction",
     "45000000.00", "21500000.00", "48", "2024-07-01", "2026-06-30"),
    ("CPT", "Demo: Wastewater treatment works extension", "Wastewater treatment", Status.PREPARATION, "Design",
     "120000000.00", "3200000.00", None, "2025-03-01", "2028-02-28"),
    ("ETH", "Demo: Informal settlement sanitation", "Sanitation", Status.IMPLEMENTATION, "Construction",
     "18500000.00", "19900000.00", "85", "2023-09-01", "2025-08-31"),
    ("BUF", "Demo: Reservoir refurbishment", "Water storage", Status.COMPLETED, "Completed",
     "9800000.00", "9650000.00", "100", "2022-04-01", "2024-03-31"),
    ("NC084", "Demo: Borehole and reticulation", "Water supply", Status.ON_HOLD, "On hold",
     "6100000.00", "2400000.00", "35", "2023-01-15", "2024-12-31"),
    ("LIM354", "Demo: Regional water scheme phase 2", "Bulk water", Status.IMPLEMENTATION, "Construction",
     "310000000.00", "142000000.00", "41", "2022-10-01", "2027-09-30"),
    ("KZN225", "Demo: Sewer pump station replacement", "Sanitation", Status.IDENTIFICATION, "Needs assessment",
     "7500000.00", None, None, None, None),
    ("EC101", "Demo: Water treatment plant upgrade", "Water treatment", Status.CANCELLED, "Terminated",
     "22000000.00", "1100000.00", "5", "2021-07-01", "2023-06-30"),
]


@transaction.atomic
def demo_data_load() -> int:
    """Load the demo projects when the site holds no project at all. Returns how many were created."""
    if Project.objects.exists():
        return 0
    municipalities = {m.code: m for m in Municipality.objects.filter(code__in={row[0] for row in DEMO_PROJECTS})}
    created = 0
    for code, name, kind, status, raw_status, allocated, spent, progress, start, end in DEMO_PROJECTS:
        municipality = municipalities.get(code)
        if municipality is None:
            continue
        values = {
            "municipality": municipality,
            "name": name,
            "description": "Made-up example shown until real data is loaded. Not a real project.",
            "project_type": kind,
            "status": status,
            "source_status": raw_status,
            "budget_allocated": Decimal(allocated),
            "budget_spent": Decimal(spent) if spent else None,
            "progress_percentage": Decimal(progress) if progress else None,
            "start_date": dt.date.fromisoformat(start) if start else None,
            "end_date": dt.date.fromisoformat(end) if end else None,
            "location": municipality.point,
            "is_demo": True,
        }
        budgets = [BudgetLine(budget_type="Original Budget", financial_year="2025/2026", amount=Decimal(allocated))]
        if spent:
            budgets.append(BudgetLine(budget_type="Audited Outcome", financial_year="2024/2025", amount=Decimal(spent)))
        project_upsert_from_source(source=Source.DEMO, external_id=f"demo-{created + 1}", values=values,
                                   budgets=budgets)
        created += 1
    municipality_refresh_totals(codes=municipalities)
    return created


@transaction.atomic
def demo_data_remove() -> int:
    """Remove every demo project (the first real ingestion calls this). Returns how many were removed."""
    demo = list(Project.objects.filter(is_demo=True).select_related("municipality"))
    change_log_record_many(entries=[
        ChangeEntry(
            entity_type=EntityType.PROJECT, entity_id=project.pk, change_type=ChangeType.DELETED,
            source=ChangeSource.ETL_PIPELINE, old_values={"name": project.name, "is_demo": True},
            municipality_code=project.municipality_code, project=project,
        )
        for project in demo
    ])
    codes = {p.municipality_code for p in demo if p.municipality_code}
    Project.objects.filter(pk__in=[p.pk for p in demo]).delete()
    municipality_refresh_totals(codes=codes)
    return len(demo)

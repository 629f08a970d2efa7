"""Seed N synthetic projects (bulk_create) into DATABASE_URL for the load tests. Not for real sites.

The rows depend only on the seed and the municipalities (ids included), so SpatiaLite and PostGIS seeded from
empty hold the same projects, and the HTTP bench (bench/http/) compares like with like.

    DATABASE_URL=... .venv/bin/python bench/api/seed.py 50000
"""

from __future__ import annotations

import os
import random
import sys
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")

import django  # noqa: E402

django.setup()

from django.contrib.gis.geos import Point  # noqa: E402
from django.db import connection  # noqa: E402

from municipalities.models import Municipality  # noqa: E402
from projects.models import Budget, Project, Status  # noqa: E402

STATUSES = [s for s, _ in Status.choices]
TYPES = ["New", "Renewal", "Upgrading", "Bulk water", "Sanitation", "Water treatment"]


def seed(count: int) -> None:
    rng = random.Random(42)
    municipalities = list(Municipality.objects.filter(point__isnull=False).order_by("code"))
    existing = Project.objects.filter(source="municipal_money", external_id__startswith="BENCH-").count()
    if existing >= count:
        print(f"{existing} bench projects already there")
        return
    batch: list[Project] = []
    budgets: list[Budget] = []
    for n in range(existing, count):
        municipality = rng.choice(municipalities)
        # Around the municipality's point, as real projects cluster around towns.
        point = Point(municipality.point.x + rng.gauss(0, 0.3), municipality.point.y + rng.gauss(0, 0.3), srid=4326)
        allocated = Decimal(rng.randrange(100_000, 500_000_000)) / 100
        project = Project(
            id=uuid.UUID(int=rng.getrandbits(128), version=4), source="municipal_money",
            external_id=f"BENCH-{n:06d}", municipality=municipality,
            name=f"Bench project {n} {rng.choice(TYPES)}", project_type=rng.choice(TYPES),
            status=rng.choice(STATUSES), location=point if rng.random() > 0.05 else None,
            budget_allocated=allocated, budget_spent=allocated * Decimal(rng.random()).quantize(Decimal("0.01")),
        )
        batch.append(project)
        for year in ("2022/2023", "2023/2024"):
            budgets.append(Budget(project=project, financial_year=year, budget_type="Audited Outcome",
                                  amount=allocated / 2, source="municipal_money"))
        if len(batch) >= 2000:
            Project.objects.bulk_create(batch)
            Budget.objects.bulk_create(budgets)
            batch, budgets = [], []
            print(f"{n + 1} projects", flush=True)
    Project.objects.bulk_create(batch)
    Budget.objects.bulk_create(budgets)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {count - existing} projects")


if __name__ == "__main__":
    seed(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)

"""The insights bench's data and actions, run inside Django with the bench's DATABASE_URL. Not for real sites.

    seed N       the bench projects (bench/api/seed.py), then red flags on some of them, 10 years of Treasury capital
                 data (original, adjusted budget, audited actual) for every municipality, and problem reports
    clear        empty the shared insights cache (the server's own copies are keyed by the data version, which
                 `ingest` moves: run.py measures a cold page after both)
    ingest       what an ingestion run does to the figures: one municipality's audited actual changes through the
                 service ingestion uses, which moves the data version
    warm         the warm-up the worker runs after an ingestion (insights.tasks.warm_figures); prints its seconds
"""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import caches  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import F  # noqa: E402
from django.utils import timezone  # noqa: E402

from municipalities.models import CapitalSpend, Municipality  # noqa: E402
from municipalities.services import CapitalAmount, capital_spend_sync  # noqa: E402
from projects.models import Project  # noqa: E402
from reports.models import Report, ReportState, ReportType  # noqa: E402

YEARS = [f"{year}/{year + 1}" for year in range(2015, 2025)]


def seed(count: int) -> None:
    subprocess.run([sys.executable, str(ROOT / "bench" / "api" / "seed.py"), str(count)], check=True)
    bench = Project.objects.filter(external_id__startswith="BENCH-")
    now = timezone.now()
    # Some red flags, chosen by the id's last digit so that both databases flag the same projects.
    bench.filter(external_id__endswith="3").update(end_date=dt.date(2022, 6, 30))
    bench.filter(external_id__endswith="7").update(progress_changed_at=now - dt.timedelta(days=400))
    bench.filter(external_id__endswith="5").update(budget_spent=F("budget_allocated") * Decimal("1.2"))
    bench.update(last_scraped_at=now)
    rng = random.Random(11)
    if not CapitalSpend.objects.exists():
        fetched = now
        rows = [CapitalSpend(municipality=m, financial_year=year, amount_type=kind,
                             amount=Decimal(rng.randrange(10_000_000, 5_000_000_000)), source="municipal_money",
                             fetched_at=fetched)
                for m in Municipality.objects.all() for year in YEARS for kind in ("ORGB", "ADJB", "AUDA")]
        CapitalSpend.objects.bulk_create(rows, batch_size=2000)
    if not Report.objects.filter(title__startswith="Bench").exists():
        projects = list(bench.exclude(location=None).values_list("pk", "location")[:5000])
        states = [ReportState.OPEN, ReportState.ACKNOWLEDGED, ReportState.FIXED, ReportState.IN_PROGRESS]
        Report.objects.bulk_create([
            Report(project_id=pk, title=f"Bench report {n}", description="Leak", location=point,
                   public_location=point, report_type=ReportType.ISSUE, state=rng.choice(states))
            for n, (pk, point) in enumerate(projects)], batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"{bench.count()} projects, {CapitalSpend.objects.count()} capital rows, {Report.objects.count()} reports")


def ingest() -> None:
    row = CapitalSpend.objects.filter(amount_type="AUDA").order_by("pk").select_related("municipality").first()
    assert row is not None
    amount = CapitalAmount(row.municipality.code, row.financial_year, "AUDA", row.amount + 1)
    capital_spend_sync(amounts=[amount], source="municipal_money", fetched_at=timezone.now())


if __name__ == "__main__":
    action = sys.argv[1]
    if action == "seed":
        seed(int(sys.argv[2]))
    elif action == "clear":
        caches["insights"].clear()
    elif action == "ingest":
        ingest()
    elif action == "warm":
        from insights.tasks import warm_figures

        print(f"WARM {warm_figures():.3f}")
    else:
        sys.exit(__doc__)

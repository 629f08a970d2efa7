"""Data for the tests that run `send_alerts` in other processes, made there through the services (run with
`manage.py shell -c "from tests.alerts.scenario import seed; seed(20)"`)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from alerts.models import AlertKind, Frequency
from alerts.services import AlertTarget, alert_confirm, alert_subscribe
from municipalities.models import Municipality
from projects.models import Project
from projects.services import project_upsert_from_source


def seed(count: int) -> None:
    """`count` addresses follow one project, confirmed; then the project changes three times."""
    with transaction.atomic():
        outcome = project_upsert_from_source(source="municipal_money", external_id="ONCE-1", values={
            "name": "Exactly-once pipeline", "municipality": Municipality.objects.get(code="CPT"),
            "progress_percentage": Decimal("10")})
    project = Project.objects.get(pk=outcome.project.pk)
    for n in range(count):
        alert = alert_subscribe(email=f"once{n}@example.org", target=AlertTarget(kind=AlertKind.PROJECT,
                                                                               project=project),
                                frequency=Frequency.IMMEDIATE, language="en")
        alert_confirm(alert=alert)
    for progress in ("20", "30", "40"):
        with transaction.atomic():
            project_upsert_from_source(source="municipal_money", external_id="ONCE-1",
                                       values={"progress_percentage": Decimal(progress)})


def seed_moderations(count: int) -> None:
    """`count` reports with an email, each hidden by a moderator and published again: two moderation notices and
    (as the report is public when sent) its private link owed to each sender."""
    from reports.services import report_flag, report_publish, report_submit

    for n in range(count):
        report = report_submit(title=f"Leak {n}", description="Water running down the street", report_type="issue",
                               lng=18.42, lat=-33.92, email=f"mod{n}@example.org", language="en")
        report_flag(reports=[report], moderator="thandeka", reason="Checking the photo")
        report_publish(reports=[report], moderator="thandeka", reason="The photo is fine")

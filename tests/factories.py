"""Model factories for tests (factory_boy)."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.gis.geos import Point

from municipalities.models import Municipality
from projects.models import Project, Status
from reports.models import Contributor, Report, ReportType
from reports.states import initial_state

__all__ = ["ProjectFactory", "ReportFactory", "ContributorFactory", "municipality"]


def municipality(code: str) -> Municipality:
    """The reference municipality with this MDB code (loaded into every test database)."""
    return Municipality.objects.get(code=code)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    source = "municipal_money"
    external_id = factory.Sequence(lambda n: f"TEST-{n:06d}")
    municipality = factory.LazyFunction(lambda: municipality("CPT"))
    name = factory.Sequence(lambda n: f"Water project {n}")
    project_type = "Water supply"
    status = Status.IMPLEMENTATION
    budget_allocated = Decimal("1000000.00")
    budget_spent = Decimal("250000.00")
    progress_percentage = Decimal("25")
    location = factory.LazyFunction(lambda: Point(18.4241, -33.9249, srid=4326))


class ContributorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contributor

    name = "Thandi"
    email = factory.Sequence(lambda n: f"person{n}@example.org")


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Report

    project = factory.SubFactory(ProjectFactory)
    title = "Pipes laid on Main Road"
    description = "The trench is closed and new pipes are in."
    location = factory.LazyFunction(lambda: Point(18.43, -33.93, srid=4326))
    report_type = ReportType.PROGRESS_UPDATE
    state = factory.LazyAttribute(lambda report: initial_state(report.report_type))

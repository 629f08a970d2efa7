"""What /api/v1/insights answers (for the OpenAPI document; bodies are written without per-row validation)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class SourceOut(Schema):
    source: str
    credit: str
    url: str
    fetched_at: dt.datetime | None = Field(None, description="When the newest of these figures was fetched.")


class Figure(Schema):
    sources: list[SourceOut]


class StatusRow(Schema):
    status: str
    label: str
    count: int
    rate: float | None = Field(None, description="Percentage of all projects in scope (one decimal).")


class StatusFigure(Figure):
    total: int
    rows: list[StatusRow]


class TypeRow(Schema):
    project_type: str = Field(description="As the source names it; empty when it gives none.")
    count: int
    rate: float | None


class TypeFigure(Figure):
    total: int
    rows: list[TypeRow]


class FlagRow(Schema):
    flag: str
    label: str
    count: int
    rate: float | None = Field(None, description="Percentage of all projects in scope; a project may have several.")


class FlagFigure(Figure):
    total: int
    rows: list[FlagRow]


class CapitalRow(Schema):
    financial_year: str
    original_budget: Decimal | None
    adjusted_budget: Decimal | None
    budget: Decimal | None = Field(None, description="Per municipality the adjusted budget, else the original.")
    actual: Decimal | None = Field(None, description="Audited capital spending (Treasury's AUDA).")
    spent_rate: float | None = Field(None, description="Audited spending as a percentage of budget, over the "
                                     "municipalities that reported both that year.")
    municipalities: int = Field(description="Municipalities that reported audited spending.")


class CapitalFigure(Figure):
    rows: list[CapitalRow]


class Compared(Schema):
    projects: int
    overdue: int
    overdue_rate: float | None
    allocated: Decimal = Field(description="Budget of the projects whose budget and spending are both known.")
    spent: Decimal
    spent_rate: float | None
    waiting: int = Field(description="Published problem reports (problems, quality concerns) not fixed yet.")


class MunicipalityRow(Compared):
    code: str
    name: str
    province: str
    category: str
    ranked: bool = Field(description="Whether it has enough projects to be ranked in the league tables.")


class MunicipalityFigure(Figure):
    rows: list[MunicipalityRow]
    min_projects: int


class ProvinceRow(Compared):
    province: str
    label: str


class ProvinceFigure(Figure):
    rows: list[ProvinceRow]


class Leagues(Figure):
    min_projects: int
    overdue: list[MunicipalityRow]
    spending: list[MunicipalityRow]
    waiting: list[MunicipalityRow]

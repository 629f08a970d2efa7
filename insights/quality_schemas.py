"""OpenAPI shapes of the data-quality tables (the bodies are built by insights.quality)."""

from __future__ import annotations

from ninja import Field, Schema


class QualityFigures(Schema):
    projects: int
    score: int = Field(description="0 to 100: completeness 40 %, consistency 40 %, freshness 20 % of the weight.")
    completeness: float = Field(description="Percent of the completeness checks passed (location, budget, dates, "
                                            "contractor, status).")
    consistency: float = Field(description="Percent of the consistency checks passed (spending not above budget, "
                                           "not 100 % done while not completed, end not before start).")
    freshness: float = Field(description="Percent of records the source confirmed in the last 30 days.")
    failures: dict[str, int] = Field(description="Records failing each rule, by rule key.")
    days_since_newest_confirmation: int | None
    days_since_oldest_confirmation: int | None
    never_confirmed: int


class SourceQuality(QualityFigures):
    source: str
    name: str


class MunicipalityQuality(QualityFigures):
    municipality_code: str | None = Field(description="Null for records no municipality was matched to.")
    name: str | None
    province: str | None


class SourceQualityTable(Schema):
    measured_at: str = Field(description="Freshness is counted from this moment (the start of the day).")
    total: QualityFigures | None
    rows: list[SourceQuality]


class MunicipalityQualityTable(Schema):
    measured_at: str
    total: QualityFigures | None
    rows: list[MunicipalityQuality]

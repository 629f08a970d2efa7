"""South African municipalities on the Municipal Demarcation Board (MDB) boundaries."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Province(models.TextChoices):
    EASTERN_CAPE = "EC", _("Eastern Cape")
    FREE_STATE = "FS", _("Free State")
    GAUTENG = "GT", _("Gauteng")
    KWAZULU_NATAL = "KZN", _("KwaZulu-Natal")
    LIMPOPO = "LIM", _("Limpopo")
    MPUMALANGA = "MP", _("Mpumalanga")
    NORTH_WEST = "NW", _("North West")
    NORTHERN_CAPE = "NC", _("Northern Cape")
    WESTERN_CAPE = "WC", _("Western Cape")


class Category(models.TextChoices):
    METRO = "A", _("Metropolitan municipality")
    LOCAL = "B", _("Local municipality")
    DISTRICT = "C", _("District municipality")


class PointMethod(models.TextChoices):
    """How a municipality's point was found; coordinates are never made up, so each has a documented origin."""

    NONE = "", _("No point yet")
    GAZETTEER_SEAT = "gazetteer_seat", _("Seat town in the GeoNames gazetteer")
    PROJECT_MEDIAN = "project_median", _("Median of its projects' locations")
    SOURCE = "source", _("Given by the data source")
    MANUAL = "manual", _("Set by a moderator")


class MunicipalityQuerySet(models.QuerySet["Municipality"]):
    def current(self) -> MunicipalityQuerySet:
        return self.filter(disestablished=False)

    def in_province(self, province: str) -> MunicipalityQuerySet:
        return self.filter(province=province)

    def of_category(self, category: str) -> MunicipalityQuerySet:
        return self.filter(category=category)


class Municipality(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(_("MDB code"), max_length=10, unique=True, help_text=_("For example CPT, EC101, DC10."))
    name = models.CharField(_("name"), max_length=200)
    long_name = models.CharField(_("long name"), max_length=250, blank=True)
    province = models.CharField(_("province"), max_length=3, choices=Province.choices, db_index=True)
    category = models.CharField(_("category"), max_length=1, choices=Category.choices, db_index=True)
    district = models.ForeignKey(
        "self",
        verbose_name=_("district"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="locals",
        limit_choices_to={"category": Category.DISTRICT},
    )
    seat = models.CharField(_("seat town"), max_length=100, blank=True)
    website = models.URLField(_("website"), blank=True)
    point = models.PointField(_("point"), srid=4326, null=True, blank=True)
    point_method = models.CharField(
        _("how the point was found"), max_length=20, choices=PointMethod.choices, blank=True, default=""
    )
    point_reference = models.CharField(_("point reference"), max_length=200, blank=True)
    boundary = models.MultiPolygonField(_("boundary"), srid=4326, null=True, blank=True)
    disestablished = models.BooleanField(_("disestablished"), default=False)
    # Kept current by the services that write projects, so that lists never aggregate on the fly.
    project_count = models.PositiveIntegerField(_("number of projects"), default=0)
    total_value = models.DecimalField(_("total value (ZAR)"), max_digits=15, decimal_places=2, default=Decimal("0"))
    # The DWS dashboard's own summary, shown beside the figures computed from the projects held.
    dashboard_url = models.URLField(_("DWS dashboard page"), max_length=1000, blank=True)
    dws_project_count = models.PositiveIntegerField(_("projects on the DWS dashboard"), null=True, blank=True)
    dws_total_value = models.DecimalField(
        _("total value on the DWS dashboard (ZAR)"), max_digits=15, decimal_places=2, null=True, blank=True
    )
    dws_fetched_at = models.DateTimeField(_("DWS figures fetched at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = MunicipalityQuerySet.as_manager()

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["name"]
        indexes = [models.Index(fields=["province", "category"], name="muni_province_category_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(category=Category.DISTRICT) | Q(district__isnull=True),
                name="district_has_no_district",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class CapitalSpend(models.Model):
    """Capital spending of one municipality for one financial year and one amount type (Treasury's capital_v2).

    Never summed across amount types or years: each row is what the cube reports for that one pair.
    """

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="capital_spending")
    financial_year = models.CharField(_("financial year"), max_length=9, help_text=_('For example "2023/2024".'))
    amount_type = models.CharField(_("amount type"), max_length=50, help_text=_("For example AUDA (audited actual)."))
    amount = models.DecimalField(_("amount (ZAR)"), max_digits=15, decimal_places=2)
    source = models.CharField(_("source"), max_length=50)  # the one name of the source that reported it
    fetched_at = models.DateTimeField(_("fetched at"))

    class Meta:
        verbose_name = _("capital spending")
        verbose_name_plural = _("capital spending")
        ordering = ["municipality", "financial_year", "amount_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "financial_year", "amount_type"], name="capital_spend_unique_year_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.municipality.code} {self.financial_year} {self.amount_type}"

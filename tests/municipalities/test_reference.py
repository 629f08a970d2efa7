import pytest
from django.core.management import call_command

from changelog.models import DataChangeLog
from municipalities.models import Category, Municipality, PointMethod
from municipalities.services import municipality_load_reference, municipality_locate_points

pytestmark = pytest.mark.django_db


def test_the_reference_list_holds_the_257_current_municipalities() -> None:
    assert Municipality.objects.count() == 257
    assert Municipality.objects.filter(category=Category.METRO).count() == 8
    assert Municipality.objects.filter(category=Category.DISTRICT).count() == 44
    assert Municipality.objects.filter(category=Category.LOCAL).count() == 205


def test_every_local_municipality_belongs_to_a_district_and_no_other_does() -> None:
    locals_ = Municipality.objects.filter(category=Category.LOCAL)
    assert not locals_.filter(district__isnull=True).exists()
    assert set(locals_.values_list("district__category", flat=True)) == {Category.DISTRICT}
    assert not Municipality.objects.exclude(category=Category.LOCAL).filter(district__isnull=False).exists()


def test_renamed_districts_carry_their_current_names() -> None:
    names = dict(Municipality.objects.filter(code__in=["DC10", "DC28", "DC4"]).values_list("code", "name"))
    assert names == {"DC10": "Sarah Baartman", "DC28": "King Cetshwayo", "DC4": "Garden Route"}
    kheis = Municipality.objects.get(code="NC084")
    assert (kheis.name, kheis.province, kheis.district.code) == ("!Kheis", "NC", "DC8")


def test_loading_the_reference_list_again_changes_nothing() -> None:
    before = DataChangeLog.objects.count()
    result = municipality_load_reference()
    assert (result.created, result.updated, result.unchanged) == (0, 0, 257)
    assert DataChangeLog.objects.count() == before


def test_a_name_refreshed_by_the_source_is_not_renamed_back_by_the_reference_list() -> None:
    Municipality.objects.filter(code="DC4").update(name="Garden Route District")
    result = municipality_load_reference()
    assert result.updated == 0
    assert Municipality.objects.get(code="DC4").name == "Garden Route District"


def test_a_changed_district_follows_the_reference_list_and_the_change_is_logged() -> None:
    Municipality.objects.filter(code="NC084").update(district=Municipality.objects.get(code="DC6"))
    result = municipality_load_reference()
    assert result.updated == 1
    entry = DataChangeLog.objects.filter(entity_type="municipality").latest("pk")
    assert entry.old_values["district"] == "DC6" and entry.new_values["district"] == "DC8"
    assert entry.field_changes == ["district"]


def test_points_come_from_the_seat_town_in_the_gazetteer_with_their_reference() -> None:
    result = municipality_locate_points()
    assert result.by_gazetteer >= 245
    cape_town = Municipality.objects.get(code="CPT")
    assert cape_town.point_method == PointMethod.GAZETTEER_SEAT
    assert cape_town.point_reference.startswith("GeoNames ")
    assert -34.5 < cape_town.point.y < -33.5 and 18.0 < cape_town.point.x < 19.0
    # A municipality whose seat the gazetteer does not hold gets no invented point.
    for code in result.without_point:
        municipality = Municipality.objects.get(code=code)
        assert municipality.point is None and municipality.point_method == PointMethod.NONE


def test_without_a_gazetteer_entry_the_median_of_project_locations_is_used() -> None:
    from django.contrib.gis.geos import Point

    from tests.factories import ProjectFactory

    municipality_locate_points()
    without = Municipality.objects.filter(point__isnull=True).first()
    assert without is not None
    for x, y in [(29.0, -30.0), (29.2, -30.2), (29.4, -30.1)]:
        ProjectFactory(municipality=without, location=Point(x, y, srid=4326))
    municipality_locate_points()
    without.refresh_from_db()
    assert without.point_method == PointMethod.PROJECT_MEDIAN
    assert (round(without.point.x, 3), round(without.point.y, 3)) == (29.2, -30.1)


def test_the_load_command_is_idempotent() -> None:
    call_command("load_municipalities")
    before = DataChangeLog.objects.count()
    call_command("load_municipalities")
    assert DataChangeLog.objects.count() == before

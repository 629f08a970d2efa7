"""SpatiaLite keeps every spatial index enabled after migrations (Django's table rebuilds drop them)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SpatiaLite only; PostGIS keeps its GiST indexes")
def test_every_geometry_column_has_its_spatial_index_after_migrate() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT f_table_name, f_geometry_column, spatial_index_enabled FROM geometry_columns "
                       "WHERE f_table_name NOT LIKE 'iso_%'")
        rows = cursor.fetchall()
    assert rows and all(enabled == 1 for _, _, enabled in rows), rows

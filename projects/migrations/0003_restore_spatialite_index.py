"""Re-create the SpatiaLite spatial index of projects.location.

On SQLite, Django applies AddConstraint by rebuilding the table ("new__projects_project" renamed into place); the
rebuilt table keeps SpatiaLite's geometry metadata but not its spatial index (spatial_index_enabled = 0, no
triggers, an empty idx_projects_project_location). The map layer reads that R*Tree directly, so it is rebuilt
here. PostGIS keeps its GiST index through the same migration: nothing to do there.
"""

from django.db import migrations


def restore_spatial_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT spatial_index_enabled FROM geometry_columns "
            "WHERE f_table_name = 'projects_project' AND f_geometry_column = 'location'"
        )
        row = cursor.fetchone()
        if row is None or row[0] == 1:
            return
        cursor.execute("DROP TABLE IF EXISTS idx_projects_project_location")
        cursor.execute("SELECT CreateSpatialIndex('projects_project', 'location')")


class Migration(migrations.Migration):
    dependencies = [("projects", "0002_add_original_schema_indexes")]

    operations = [migrations.RunPython(restore_spatial_index, migrations.RunPython.noop)]

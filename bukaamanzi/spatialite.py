"""Keep SpatiaLite's spatial indexes in place after migrations.

On SQLite, Django applies several schema operations (AddConstraint, AlterField...) by rebuilding the table and
renaming it into place. The rebuilt table keeps SpatiaLite's geometry metadata but not its R*Tree index
(`spatial_index_enabled = 0`, no triggers), so bounding-box queries silently fall back to full scans. Rather
than a repair migration after every such operation, every `migrate` ends by re-creating whichever spatial
index is disabled. PostGIS keeps its GiST indexes through the same operations: nothing to do there.
"""

from __future__ import annotations

from typing import Any

from django.db import connections


def restore_spatial_indexes(using: str = "default", **_: Any) -> list[str]:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    restored = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'geometry_columns'")
        if cursor.fetchone() is None:
            return []
        cursor.execute("SELECT f_table_name, f_geometry_column FROM geometry_columns WHERE spatial_index_enabled = 0")
        for table, column in cursor.fetchall():
            # Names come from SpatiaLite's own metadata table, never from user input.
            cursor.execute(f'DROP TABLE IF EXISTS "idx_{table}_{column}"')  # noqa: S608
            cursor.execute("SELECT CreateSpatialIndex(%s, %s)", [table, column])
            restored.append(f"{table}.{column}")
    return restored

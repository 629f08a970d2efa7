"""On PostgreSQL, tell listening processes when the data version moves (projects/dataversion.py).

A statement trigger on the project and change-log tables notifies the channel with the writing transaction's id;
PostgreSQL delivers it at commit, once per transaction whatever the number of statements (identical notifications
in one transaction are folded). Nothing on SpatiaLite, which has no notifications: there the version is queried.
"""

from django.db import migrations

FUNCTION = "bukaamanzi_notify_data_version"
TRIGGER = "bukaamanzi_data_version"
TABLES = ("projects_project", "realtime_datachangelog")  # Project's and DataChangeLog's db_table


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from projects.dataversion import CHANNEL

    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{CHANNEL}', pg_current_xact_id()::text); RETURN NULL; END $$"
    )
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0006_project_affected_count"),
        ("changelog", "0002_add_alerts_matched"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]

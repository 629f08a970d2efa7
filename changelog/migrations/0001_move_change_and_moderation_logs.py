"""Move DataChangeLog (from realtime) and AdminAction (from reports) into this app, keeping their tables.

State only: the tables stay where they are (`Meta.db_table` names them), so no row is copied and the migration
is the same on SpatiaLite and PostGIS (neither table has a geometry column, so SpatiaLite's spatial metadata is
not involved). The old apps drop the models from their state in their own next migration, which depends on
this one.

The content types are moved as well, so that the permissions attached to them (the Moderator group's
view_datachangelog and view_adminaction) follow the models instead of being left on stale content types.
"""

from django.db import migrations, models

MOVED = (("realtime", "datachangelog"), ("reports", "adminaction"))


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    using = schema_editor.connection.alias
    for old_app, model in MOVED:
        # A content type already created under the new label (by a post_migrate run) would clash: the old one
        # carries the permissions that groups hold, so it is the one kept.
        if ContentType.objects.using(using).filter(app_label=old_app, model=model).exists():
            ContentType.objects.using(using).filter(app_label="changelog", model=model).delete()
            ContentType.objects.using(using).filter(app_label=old_app, model=model).update(app_label="changelog")


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    using = schema_editor.connection.alias
    for old_app, model in MOVED:
        ContentType.objects.using(using).filter(app_label="changelog", model=model).update(app_label=old_app)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("realtime", "0002_add_filter_snapshot"),
        # The Moderator group's permissions are created on the old content types there, then moved here.
        ("reports", "0002_moderator_group"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DataChangeLog",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("entity_type", models.CharField(choices=[("project", "Project"), ("municipality", "Municipality"), ("report", "Report"), ("budget", "Budget")], max_length=20, verbose_name="entity type")),
                        ("entity_id", models.CharField(max_length=64, verbose_name="entity id")),
                        ("municipality_code", models.CharField(blank=True, max_length=10, verbose_name="municipality code")),
                        ("project_id", models.CharField(blank=True, max_length=64, verbose_name="project id")),
                        ("project_status", models.CharField(blank=True, max_length=20, verbose_name="project status")),
                        ("project_type", models.CharField(blank=True, max_length=200, verbose_name="project type")),
                        ("change_type", models.CharField(choices=[("created", "Created"), ("updated", "Updated"), ("deleted", "Deleted")], max_length=10, verbose_name="change")),
                        ("field_changes", models.JSONField(blank=True, default=list, verbose_name="fields changed")),
                        ("old_values", models.JSONField(blank=True, default=dict, verbose_name="old values")),
                        ("new_values", models.JSONField(blank=True, default=dict, verbose_name="new values")),
                        ("source", models.CharField(choices=[("etl_pipeline", "Data source"), ("admin_action", "Moderator"), ("community_report", "Community report")], max_length=20, verbose_name="source")),
                        ("notification_sent", models.BooleanField(default=False, verbose_name="sent to live clients")),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="when")),
                    ],
                    options={
                        "verbose_name": "data change",
                        "verbose_name_plural": "data changes",
                        "db_table": "realtime_datachangelog",
                        "ordering": ["-pk"],
                        "indexes": [
                            models.Index(fields=["entity_type", "entity_id"], name="changelog_entity_idx"),
                            models.Index(fields=["project_id", "created_at"], name="changelog_project_idx"),
                            models.Index(fields=["municipality_code", "created_at"], name="changelog_muni_idx"),
                            models.Index(condition=models.Q(("notification_sent", False)), fields=["notification_sent"], name="changelog_unsent_idx"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="AdminAction",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("admin_name", models.CharField(max_length=150, verbose_name="moderator")),
                        ("target_type", models.CharField(max_length=50, verbose_name="target type")),
                        ("target_id", models.CharField(max_length=64, verbose_name="target id")),
                        ("action", models.CharField(max_length=50, verbose_name="action")),
                        ("reason", models.TextField(verbose_name="reason")),
                        ("metadata", models.JSONField(blank=True, default=dict, verbose_name="details")),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="when")),
                    ],
                    options={
                        "verbose_name": "moderation action",
                        "verbose_name_plural": "moderation actions",
                        "db_table": "reports_adminaction",
                        "ordering": ["-created_at"],
                        "indexes": [models.Index(fields=["target_type", "target_id"], name="adminaction_target_idx")],
                        "constraints": [models.CheckConstraint(condition=models.Q(("reason", ""), _negated=True), name="adminaction_reason_required")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]

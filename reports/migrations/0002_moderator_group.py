"""Data migration: the "Moderator" group with exactly the permissions moderation needs.

Moderators review reports (view + change: the change permission is what the moderation actions ask for),
see their photos and contributors, correct project fields (view + change project; budgets are shown beside
them), pick municipalities, and read the audit trail (moderation log, change log) and ingestion runs.
Nothing else: no deleting, no adding, no user or group management, no schedules or task queues, no running
the sources. The list is frozen here, as migrations must be; docs/moderation.md explains it.
"""

from django.db import migrations

GROUP_NAME = "Moderator"

PERMISSIONS = (
    ("reports", "view_report"),
    ("reports", "change_report"),
    ("reports", "view_reportphoto"),
    ("reports", "view_contributor"),
    ("reports", "view_adminaction"),
    ("projects", "view_project"),
    ("projects", "change_project"),
    ("projects", "view_budget"),
    ("municipalities", "view_municipality"),
    ("realtime", "view_datachangelog"),
    ("ingestion", "view_ingestionrun"),
)


def create_moderator_group(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); on a fresh database they do not
    # exist yet, so create them now for the apps this group needs.
    from django.contrib.auth.management import create_permissions

    using = schema_editor.connection.alias
    for app_label in sorted({app for app, _codename in PERMISSIONS}):
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = []
    for app_label, codename in PERMISSIONS:
        permissions.append(Permission.objects.using(using).get(content_type__app_label=app_label, codename=codename))
    group, _created = Group.objects.using(using).get_or_create(name=GROUP_NAME)
    group.permissions.set(permissions)


def delete_moderator_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("projects", "0001_initial"),
        ("municipalities", "0001_initial"),
        ("realtime", "0001_initial"),
        ("ingestion", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_moderator_group, delete_moderator_group)]

"""Data migration: moderators see residents' "report abuse" flags (view only: flags are added by residents and
cleared by restoring the item). docs/moderation.md lists the group."""

from django.db import migrations

GROUP_NAME = "Moderator"
PERMISSIONS = (("reports", "view_flag"),)


def _permissions(apps, schema_editor):
    # As in 0002: on a fresh database the permissions of new models do not exist until post_migrate.
    from django.contrib.auth.management import create_permissions

    using = schema_editor.connection.alias
    app_config = apps.get_app_config("reports")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=using)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return [Permission.objects.using(using).get(content_type__app_label=app, codename=codename)
            for app, codename in PERMISSIONS]


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME).first()
    if group is not None:
        group.permissions.add(*_permissions(apps, schema_editor))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps, schema_editor))


class Migration(migrations.Migration):
    dependencies = [("reports", "0011_resident_flags")]

    operations = [migrations.RunPython(grant, revoke)]

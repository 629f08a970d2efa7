"""Data migration: moderators see the Open311 record behind a report (which API key posted it, the media_url it
named), read only, as the admin shows it. docs/moderation.md lists the group."""

from django.db import migrations

GROUP_NAME = "Moderator"
PERMISSIONS = (("open311", "view_open311request"),)


def _permissions(apps, schema_editor):
    # As in reports 0002: on a fresh database the permissions of new models do not exist until post_migrate.
    from django.contrib.auth.management import create_permissions

    using = schema_editor.connection.alias
    app_config = apps.get_app_config("open311")
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
    dependencies = [("open311", "0001_open311_request"), ("reports", "0014_moderators_keep_ban_list")]

    operations = [migrations.RunPython(grant, revoke)]

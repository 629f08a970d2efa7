"""Data migration: moderators keep the ban list (reports.bans): see it, list senders ("add", always with a
reason) and take them off it (a change-list action that needs "change", also with a reason). No delete: a ban
leaves the list only through that action, which records why. docs/moderation.md lists the group."""

from django.db import migrations

GROUP_NAME = "Moderator"
PERMISSIONS = (("reports", "view_ban"), ("reports", "add_ban"), ("reports", "change_ban"))


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
    dependencies = [("reports", "0013_moderation_bans_edits_photos")]

    operations = [migrations.RunPython(grant, revoke)]

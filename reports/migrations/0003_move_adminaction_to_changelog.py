"""AdminAction now belongs to the changelog app (changelog 0001): drop it from this app's state only; the
table stays and is the changelog model's table."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_moderator_group"),
        ("changelog", "0001_move_change_and_moderation_logs"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AdminAction")],
            database_operations=[],
        ),
    ]

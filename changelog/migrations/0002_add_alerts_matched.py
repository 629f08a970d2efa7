"""The email alerts' mark on each change. Rows already in the log count as matched (alerts are about what
happens after they start); new rows are written unmatched."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('changelog', '0001_move_change_and_moderation_logs'),
    ]

    operations = [
        migrations.AddField(
            model_name='datachangelog',
            name='alerts_matched',
            field=models.BooleanField(default=True, verbose_name='matched to email alerts'),
        ),
        migrations.AlterField(
            model_name='datachangelog',
            name='alerts_matched',
            field=models.BooleanField(default=False, verbose_name='matched to email alerts'),
        ),
        migrations.AddIndex(
            model_name='datachangelog',
            index=models.Index(condition=models.Q(('alerts_matched', False)), fields=['id'], name='changelog_alerts_unmatched_idx'),
        ),
    ]

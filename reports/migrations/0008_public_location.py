"""The place the public sees: a copy of `location` for every report sent so far (none chose "roughly" before the
choice existed), then required, with its own spatial index for the public "nearby" search."""

import django.contrib.gis.db.models.fields
from django.db import migrations, models
from django.db.models import F


def copy_locations(apps, schema_editor):
    Report = apps.get_model("reports", "Report")
    Report.objects.update(public_location=F("location"))


class Migration(migrations.Migration):
    dependencies = [("reports", "0007_reporter_emails")]

    operations = [
        migrations.AddField(
            model_name="report",
            name="location_is_rough",
            field=models.BooleanField(default=False, verbose_name="place shown only roughly"),
        ),
        # Added with a placeholder point that no row keeps (the next step copies each report's own), so the
        # column is required from the start: SpatiaLite cannot alter a geometry column afterwards.
        migrations.AddField(
            model_name="report",
            name="public_location",
            field=django.contrib.gis.db.models.fields.PointField(
                default="SRID=4326;POINT(0 0)", srid=4326, verbose_name="location shown to the public"),
            preserve_default=False,
        ),
        migrations.RunPython(copy_locations, migrations.RunPython.noop),
    ]

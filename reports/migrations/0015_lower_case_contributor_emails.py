"""Contributor emails lower-cased, as reports.services.contributor_for now stores them: the first-time-sender hold
compared the stored address with the new one in lower case, so a sender who typed capitals was held every time."""

from django.db import migrations
from django.db.models.functions import Lower


def lower_case(apps, schema_editor):  # type: ignore[no-untyped-def]
    Contributor = apps.get_model("reports", "Contributor")
    Contributor.objects.exclude(email=Lower("email")).update(email=Lower("email"))


class Migration(migrations.Migration):
    dependencies = [("reports", "0014_moderators_keep_ban_list")]

    # Nothing to undo: the addresses as typed are not kept, and lower-cased ones work the same way backwards.
    operations = [migrations.RunPython(lower_case, migrations.RunPython.noop)]

"""Runs and breakers of National Treasury's source were stored as "treasury" while its projects were stored as
"municipal_money", so status pages looked runs up under a name they were never stored under. One name now:
"municipal_money". Reversible."""

from django.db import migrations

OLD, NEW = "treasury", "municipal_money"


def rename(apps, schema_editor, old: str, new: str) -> None:
    apps.get_model("ingestion", "IngestionRun").objects.filter(source=old).update(source=new)
    circuit = apps.get_model("ingestion", "SourceCircuit")
    if circuit.objects.filter(source=new).exists():
        circuit.objects.filter(source=old).delete()  # a breaker under the new name already: keep that one
    else:
        circuit.objects.filter(source=old).update(source=new)
    schedule = apps.get_model("django_q", "Schedule")
    for row in schedule.objects.filter(func="ingestion.tasks.scheduled_ingestion", kwargs__contains=repr(old)):
        row.kwargs = row.kwargs.replace(repr(old), repr(new))
        row.save(update_fields=["kwargs"])


class Migration(migrations.Migration):
    dependencies = [
        ("ingestion", "0002_add_source_circuit"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.RunPython(lambda apps, editor: rename(apps, editor, OLD, NEW),
                             lambda apps, editor: rename(apps, editor, NEW, OLD)),
    ]

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from municipalities.services import municipality_load_reference, municipality_locate_points


class Command(BaseCommand):
    help = "Load the 257 current municipalities (idempotent) and give each a documented point where one exists."

    def handle(self, *args: Any, **options: Any) -> None:
        loaded = municipality_load_reference()
        if loaded.errors:
            raise CommandError("Reference list has errors: " + "; ".join(loaded.errors))
        located = municipality_locate_points()
        self.stdout.write(
            f"Municipalities: {loaded.created} created, {loaded.updated} updated, {loaded.unchanged} unchanged. "
            f"Points: {located.by_gazetteer} from the gazetteer, {located.by_projects} from project locations, "
            f"{len(located.without_point)} without a point ({', '.join(located.without_point) or '-'})."
        )

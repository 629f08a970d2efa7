from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from projects.demo import demo_data_load


class Command(BaseCommand):
    help = "Load the labelled demo projects when the database holds no project (a no-op otherwise)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.LOAD_DEMO_DATA:
            self.stdout.write("Demo data: switched off (LOAD_DEMO_DATA=false).")
            return
        created = demo_data_load()
        self.stdout.write(f"Demo data: {created} demo projects loaded." if created else
                          "Demo data: not needed (projects exist).")

"""Upsert every schedule of the site by name (run by `make run`; safe to run again)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from bukaamanzi.schedules import schedules_upsert


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules (each ingestion source's and the relay sweep), by name."

    def handle(self, *args: Any, **options: Any) -> None:
        for name, result in schedules_upsert().items():
            if result != "unchanged" or options["verbosity"] > 1:
                self.stdout.write(f"{name}: {result}")

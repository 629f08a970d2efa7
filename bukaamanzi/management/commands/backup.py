"""Make a backup now: `python manage.py backup [--keep N]` (the nightly schedule does the same)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bukaamanzi.backups import BackupError, backup_create, backups_prune


class Command(BaseCommand):
    help = ("Back up the database (SQLite's online backup API, or pg_dump) and the photos into a new directory "
            "under BACKUP_DIR, with a manifest of row counts and checksums. Safe while the site runs.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--keep", type=int, default=None,
                            help="then delete all but the newest N backups (the schedule uses BACKUP_KEEP)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup_create()
            pruned = backups_prune(keep=options["keep"]) if options["keep"] is not None else []
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{result.path}: {result.tables} tables, {result.rows} rows, {result.files} files")
        for path in pruned:
            self.stdout.write(f"deleted {path}")

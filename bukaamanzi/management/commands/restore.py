"""Put a backup back: `python manage.py restore [NAME_OR_PATH] [--no-input]` (the newest one unless named)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bukaamanzi.backups import ENGINE_NAMES, BackupError, backup_resolve, backup_restore, manifest_read


class Command(BaseCommand):
    help = ("Replace the database and the photos with a backup's (the newest in BACKUP_DIR unless named), after "
            "checking its checksums; checks the row counts and files again afterwards. Stop the site first.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", nargs="?", help="a backup's name in BACKUP_DIR or its path (default: newest)")
        parser.add_argument("--no-input", "--noinput", action="store_false", dest="interactive",
                            help="do not ask for confirmation")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            path = backup_resolve(options["backup"])
            manifest = manifest_read(path)
            if options["interactive"]:
                engine = ENGINE_NAMES.get(manifest["engine"], manifest["engine"])
                rows = sum(table["rows"] for table in manifest["database"]["tables"].values())
                self.stdout.write(f"{path}: {engine}, made {manifest['created']}, {rows} rows, "
                                  f"{len(manifest['media'])} files.")
                answer = input("This replaces the whole database and every photo. Type 'yes' to go on: ")
                if answer.strip().lower() != "yes":
                    raise CommandError("Restore cancelled.")
            backup_restore(path=path)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Restored {path}: every table's rows and every file match its manifest.")

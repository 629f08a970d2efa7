"""Run a source now: `python manage.py ingest <treasury|dws|all> [--from-file PATH] [--kind change_check] [--force]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ingestion.models import RunStatus
from ingestion.services import KIND_FULL, SOURCES, UnknownSource, ingestion_run_now


class Command(BaseCommand):
    help = (
        "Fetch a source now and load what changed. --from-file reads saved responses instead of the network: "
        "for treasury a JSON file or a directory of them (geography array, projects pages, capital_v2 "
        "aggregates); for dws an HTML page, or a directory with index.html and <MDB code>.html pages."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", choices=[*SOURCES, "all"])
        parser.add_argument("--from-file", type=Path, dest="from_file", help="saved response, page or directory")
        parser.add_argument("--kind", default=KIND_FULL, help="full (default) or change_check (dws)")
        parser.add_argument("--force", action="store_true", help="load even if what was fetched is unchanged")

    def handle(self, *args: Any, **options: Any) -> None:
        sources = SOURCES if options["source"] == "all" else (options["source"],)
        if options["from_file"] and len(sources) > 1:
            raise CommandError("--from-file needs one source (treasury or dws), not all")
        failed = False
        for source in sources:
            try:
                run = ingestion_run_now(
                    source=source, kind=options["kind"], triggered_by="manage.py ingest",
                    from_path=options["from_file"], force=options["force"],
                )
            except UnknownSource as error:
                raise CommandError(str(error)) from error
            self.stdout.write(
                f"{run.source} {run.kind} run {run.pk}: {run.status} "
                f"(created {run.created_count}, updated {run.updated_count}, unchanged {run.unchanged_count}, "
                f"failed {run.failed_count}, {run.duration_seconds or 0:.2f} s)"
            )
            if run.error:
                self.stderr.write(run.error)
            failed |= run.status in (RunStatus.FAILED, RunStatus.REFUSED)
        if failed:
            raise CommandError("at least one run failed or was refused; see above")

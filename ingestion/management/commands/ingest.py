"""Run a source now: `python manage.py ingest <source|all> [--from-file PATH] [--kind change_check] [--force]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ingestion.models import RunStatus
from ingestion.services import ingestion_run_now
from ingestion.sources.base import KIND_FULL, UnknownSource, registered_sources, source_class, source_names


class Command(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Written when the command runs, from the registry, so that every registered source is described.
        saved = "; ".join(f"for {source.name} {source.saved_files_help}" for source in registered_sources()
                          if source.saved_files_help)
        self.help = f"Fetch a source now and load what changed. --from-file reads saved responses instead: {saved}."
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help=f"one of {', '.join(source_names())}, or all")
        parser.add_argument("--from-file", type=Path, dest="from_file", help="saved response, page or directory")
        parser.add_argument("--kind", default=KIND_FULL, help="full (default) or change_check (dws)")
        parser.add_argument("--force", action="store_true", help="load even if what was fetched is unchanged")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["source"] == "all":
            sources = source_names()
        else:
            try:
                sources = [source_class(options["source"]).name]
            except UnknownSource as error:
                raise CommandError(str(error)) from error
        if options["from_file"] and len(sources) > 1:
            raise CommandError(f"--from-file needs one source ({', '.join(source_names())}), not all")
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

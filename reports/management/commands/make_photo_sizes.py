"""Make the thumbnail and share card of photos stored before derived sizes existed.

Safe to run again and beside the site: only photos still missing a size are read, in batches by primary key
(so memory stays flat and a photo that fails is passed over, not retried forever), and each is written on its own.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Q

from reports.models import ReportPhoto, UpdatePhoto
from reports.services import photo_make_sizes


class Command(BaseCommand):
    help = "Make the missing thumbnails and share cards of stored photos (idempotent; prints counts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=200, help="photos read per query (default 200)")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = max(1, options["batch_size"])
        models: tuple[type[ReportPhoto] | type[UpdatePhoto], ...] = (ReportPhoto, UpdatePhoto)
        for model in models:
            missing = model.objects.filter(Q(thumbnail="") | Q(card=""))
            had = model.objects.count() - missing.count()
            made = failed = 0
            last_pk = 0
            while batch := list(missing.filter(pk__gt=last_pk).order_by("pk")[:batch_size]):
                for photo in batch:
                    try:
                        photo_make_sizes(photo=photo)
                    # A missing or unreadable original is reported and left as it is: pages keep showing it
                    # (or its broken link) exactly as before.
                    except (OSError, ValueError) as exc:
                        failed += 1
                        self.stderr.write(f"{model._meta.verbose_name} {photo.pk} ({photo.image.name}): {exc}")
                    else:
                        made += 1
                last_pk = batch[-1].pk
            self.stdout.write(f"{model._meta.verbose_name_plural}: {made} made, {failed} failed, "
                              f"{had} already had their sizes.")

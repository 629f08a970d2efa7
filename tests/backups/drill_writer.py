"""The site writing while a backup runs (tests/backups/test_drill.py starts it as a process of its own).

Until the stop file appears, each step stores a photo-like file through the storage (as a report's photo is, before
its row commits) and then records a change-log row naming it, through the change-log service, in a transaction
of its own. Prints how many steps it made.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import django


def main(stop_file: Path) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")
    django.setup()
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import transaction

    from changelog.services import change_log_record

    step = 0
    while not stop_file.exists():
        step += 1
        name = default_storage.save(f"drill/{step:06d}.jpg", ContentFile(os.urandom(2048 + step)))
        with transaction.atomic():
            change_log_record(entity_type="project", entity_id=step, change_type="updated", source="drill",
                              new_values={"file": name, "step": step})
        time.sleep(0.005)
    return step


if __name__ == "__main__":
    print(main(Path(sys.argv[1])))

"""Send unsent change-log rows now. The every-minute sweep is scheduled with the others by `setup_schedules`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from realtime.relay import relay_pending


class Command(BaseCommand):
    help = "Send change-log rows not yet delivered to live clients."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = relay_pending()
        self.stdout.write(f"Sent {sent} change(s).")

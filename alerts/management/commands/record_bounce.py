"""Record a bounce the mail system reported after the email left (a delivery status notification).

Point the mail server's bounce handling at it, for example a Postfix pipe or a provider's webhook relay:
`manage.py record_bounce someone@example.org --reason "550 5.1.1 user unknown"` (add `--soft` for a temporary
failure). After ALERT_MAX_HARD_FAILURES hard ones in a row the address is paused. An unknown address is not an
error (bounces arrive for mail we did not send); it is reported and nothing is written.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from alerts.models import Subscriber
from alerts.services import bounce_record


class Command(BaseCommand):
    help = "Record a bounce for an alert address (hard unless --soft); pauses the address after repeated ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--reason", default="Bounce reported by the mail system")
        parser.add_argument("--soft", action="store_true", help="a temporary failure: recorded, not counted")

    def handle(self, *args: Any, **options: Any) -> None:
        subscriber = Subscriber.objects.filter(email=options["email"].strip().lower()).first()
        if subscriber is None:
            self.stdout.write("No alert address matches; nothing recorded.")
            return
        bounce_record(subscriber=subscriber, hard=not options["soft"], reason=options["reason"])
        subscriber.refresh_from_db()
        state = "paused" if subscriber.paused_at else f"{subscriber.hard_failures} hard failure(s) in a row"
        self.stdout.write(f"Bounce recorded ({state}).")

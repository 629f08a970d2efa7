"""Send the email alerts that are due now (also scheduled every minute by `setup_schedules`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from alerts.delivery import send_alerts_pass


class Command(BaseCommand):
    help = "Match new changes to alerts, claim what is due, and send it. Safe to run beside another sender."

    def handle(self, *args: Any, **options: Any) -> None:
        result = send_alerts_pass()
        self.stdout.write(
            f"{result.matched} alert items matched, {result.claimed} emails claimed, {result.sent} sent, "
            f"{result.failed} failed (retried later), {result.expired} expired rows removed"
        )

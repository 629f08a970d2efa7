"""The webhook queue on /metrics (`bukaamanzi_queue_*{queue="webhook"}`), read from the database at each scrape."""

from __future__ import annotations

from django.db.models import Count, Min, Q
from django.utils import timezone

from bukaamanzi.lib.metrics import QueueStats
from webhooks.models import Delivery, DeliveryStatus


def webhook_queue() -> QueueStats:
    pending = Delivery.objects.pending().aggregate(n=Count("pk"), retrying=Count("pk", filter=Q(attempts__gt=0)),
                                                   oldest=Min("created_at"))
    oldest = pending["oldest"]
    return QueueStats(waiting=pending["n"], retrying=pending["retrying"],
                      given_up=Delivery.objects.filter(status=DeliveryStatus.FAILED).count(),
                      oldest_age_seconds=(timezone.now() - oldest).total_seconds() if oldest else 0.0)

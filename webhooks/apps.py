from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from bukaamanzi.lib.metrics import register_queue
        from webhooks import receivers  # noqa: F401  (connects the change-log and ingestion signals)
        from webhooks.metrics import webhook_queue

        register_queue("webhook", webhook_queue)  # waiting, retrying and failed deliveries on /metrics

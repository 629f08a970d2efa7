from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        # Ingestion may not import this app (it sits below it), so it announces finished runs with a signal.
        from ingestion.signals import run_finished
        from insights.tasks import warm_after_run

        run_finished.connect(warm_after_run, dispatch_uid="insights.warm_after_run")

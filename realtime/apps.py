from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = _("Realtime")

    def ready(self) -> None:
        # Imported here, once the app registry is ready: the receivers read models.
        from ingestion import signals as ingestion_signals
        from realtime import receivers

        ingestion_signals.run_changed.connect(receivers.run_changed, dispatch_uid="realtime-run-changed")
        ingestion_signals.run_finished.connect(receivers.run_finished, dispatch_uid="realtime-run-finished")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = _("Realtime")

    def ready(self) -> None:
        # The apps below announce what happened through signals, because they may not import this app (it sits
        # above them): see changelog.signals and ingestion.signals. Connected once, with fixed uids.
        from realtime import receivers  # noqa: F401  (importing the module connects its receivers)

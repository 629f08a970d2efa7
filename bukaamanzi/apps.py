from django.apps import AppConfig
from django.db.models.signals import post_migrate

from bukaamanzi.spatialite import restore_spatial_indexes


class BukaamanziConfig(AppConfig):
    """The project package as an app only for wiring that belongs to no domain app."""

    name = "bukaamanzi"
    verbose_name = "Buka Amanzi"

    def ready(self) -> None:
        # bukaamanzi has no models, so Django sends it no post_migrate: listen to all (cheap once restored).
        post_migrate.connect(restore_spatial_indexes, dispatch_uid="restore_spatial_indexes")
        # Metrics and logs: the request id rides along into django-q2 tasks; the email queue is on /metrics.
        from bukaamanzi.observability import collectors, logs, tasks

        tasks.connect()
        logs.configure_structlog()
        collectors.register_builtin_queues()

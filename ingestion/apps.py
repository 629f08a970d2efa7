from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IngestionConfig(AppConfig):
    name = "ingestion"
    verbose_name = _("Ingestion")

    def ready(self) -> None:
        # Imported here: the source classes read models, loaded only once the app registry is ready. The order
        # is the order status pages and `ingest all` use. Another app adds a source the same way, from its ready().
        from ingestion.sources.base import register
        from ingestion.sources.dws_source import Dws
        from ingestion.sources.municipal_money_source import MunicipalMoney

        register(MunicipalMoney)
        register(Dws)

        from django_q.signals import post_spawn

        from ingestion.workers import on_cluster_spawn

        post_spawn.connect(on_cluster_spawn, dispatch_uid="ingestion-abandoned-runs")

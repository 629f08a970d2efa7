from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Projects")

    def ready(self) -> None:
        # Imported here: attribution reads the models, which are loaded only once the app registry is ready.
        from bukaamanzi.lib.sources import source_info_register
        from projects.attribution import DEMO_SOURCE_INFO

        source_info_register(DEMO_SOURCE_INFO)

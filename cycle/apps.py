from django.apps import AppConfig
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from . import i18n


class CycleConfig(AppConfig):
    name = "cycle"
    verbose_name = _("Commissioning cycles")

    def ready(self) -> None:
        # The messages of the rules and the services are translated on the pages by Django.
        i18n.install(translation.gettext, translation.ngettext)

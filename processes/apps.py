from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcessesConfig(AppConfig):
    name = "processes"
    verbose_name = _("Commissioning processes")

    def ready(self) -> None:
        # The flow follows every cycle the services move; see ``cycle.workflow``. Imported here,
        # not at the top: the flow module defines models and imports others', which Django
        # allows only once the app registry is ready (an app-loading rule, not an import cycle).
        from cycle import workflow

        from .commissioning import FLOW_WORKFLOW

        workflow.register(FLOW_WORKFLOW)

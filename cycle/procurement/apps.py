from django.apps import AppConfig


class ProcurementConfig(AppConfig):
    name = "cycle.procurement"
    label = "procurement"
    verbose_name = "Procurement"

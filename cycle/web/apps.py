from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "cycle.web"
    label = "web"
    verbose_name = "Web pages"

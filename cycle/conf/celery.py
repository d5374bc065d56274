"""The celery application. Configuration comes from Django settings prefixed ``CELERY_``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cycle.conf.settings")

app = Celery("cycle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["processes", "cycle"])

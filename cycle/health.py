"""``/healthz``: whether this instance can do its work, for a load balancer or a monitor.

JSON with three checks: the database answers, the broker accepts a connection (in the embedded
default, with celery eager, there is none to check), and the oldest notification still waiting in
the outbox has waited less than ``HEALTHZ_OUTBOX_MAX_AGE_SECONDS`` (older means the workers or the
sweep are not delivering). 200 when all three hold, 503 otherwise. It needs no sign-in and shows
no personal data: only counts and ages.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import outbox
from .models import Notification


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
    return {"ok": True, "vendor": connection.vendor}


def _broker() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "eager: tasks run in the web process"}
    try:
        with current_app.connection_for_write(transport_options={"max_retries": 0}) as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
            transport = broker.transport_cls
    except Exception as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
    return {"ok": True, "transport": str(transport)}


def _outbox() -> dict[str, Any]:
    try:
        age = outbox.oldest_undelivered()
        waiting = Notification.objects.undelivered().count()
        given_up = Notification.objects.filter(failed_at__isnull=False).count()
    except Exception as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
    seconds = None if age is None else round(age.total_seconds(), 1)
    limit = settings.HEALTHZ_OUTBOX_MAX_AGE_SECONDS
    return {
        "ok": seconds is None or seconds <= limit,
        "oldest_undelivered_seconds": seconds,
        "max_age_seconds": limit,
        "undelivered": waiting,
        "given_up": given_up,
    }


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "broker": _broker()}
    checks["outbox"] = (
        _outbox() if checks["database"]["ok"] else {"ok": False, "error": "no database"}
    )
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unhealthy", **checks}, status=200 if healthy else 503
    )

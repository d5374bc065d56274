"""``/healthz``: the database, the broker and the outbox's oldest waiting notification."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cycle.models import Notification

pytestmark = pytest.mark.django_db


def test_healthy_with_an_empty_outbox(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"] == {"ok": True, "mode": "eager: tasks run in the web process"}
    assert body["outbox"]["oldest_undelivered_seconds"] is None
    assert body["outbox"]["undelivered"] == 0
    assert "no-cache" in response["Cache-Control"]


def test_a_notification_waiting_too_long_makes_it_unhealthy(client, world, settings):
    settings.HEALTHZ_OUTBOX_MAX_AGE_SECONDS = 600
    assert Notification.objects.undelivered().exists()  # the panel's welcome, not yet sent
    assert client.get("/healthz").status_code == 200

    Notification.objects.undelivered().update(created_at=timezone.now() - timedelta(minutes=11))
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["outbox"]["ok"] is False
    assert 660 <= body["outbox"]["oldest_undelivered_seconds"] < 700


def test_a_broker_that_cannot_be_reached_makes_it_unhealthy(client, settings, monkeypatch):
    from celery import current_app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(current_app.conf, "broker_url", "redis://127.0.0.1:1/10")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["broker"]["ok"] is False
    assert "Connection refused" in body["broker"]["error"] or "111" in body["broker"]["error"]
    assert body["database"]["ok"] is True


def test_only_get(client):
    assert client.post("/healthz").status_code == 405

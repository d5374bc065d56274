"""The GOV.UK Notify backend: what it sends to Notify's client, and what it refuses to start
without. Notify itself is not reached (no network here): its client is replaced by a recorder
with the same method."""

from __future__ import annotations

import sys
import types

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage

from cycle.mail import GovUKNotifyBackend


class RecordingClient:
    sent: list[dict] = []

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    def send_email_notification(self, **kwargs: object) -> dict:
        RecordingClient.sent.append({"api_key": self.api_key, **kwargs})
        return {"id": "notify-id"}


@pytest.fixture
def notify_client(monkeypatch):
    package = types.ModuleType("notifications_python_client")
    module = types.ModuleType("notifications_python_client.notifications")
    module.NotificationsAPIClient = RecordingClient
    monkeypatch.setitem(sys.modules, "notifications_python_client", package)
    monkeypatch.setitem(sys.modules, "notifications_python_client.notifications", module)
    RecordingClient.sent = []
    return RecordingClient


def test_each_message_goes_to_notify_through_the_template_with_its_key_as_reference(
    notify_client, settings
):
    settings.GOVUK_NOTIFY_API_KEY = "key-123"
    settings.GOVUK_NOTIFY_TEMPLATE_ID = "template-456"
    message = EmailMessage(
        subject="Day services: The budget went down",
        body="The budget went down from £1,200,000 to £900,000.",
        to=["pauline@example.org"],
        headers={"X-Cycle-Notification": "budget:7:42"},
    )

    assert GovUKNotifyBackend().send_messages([message]) == 1
    assert notify_client.sent == [
        {
            "api_key": "key-123",
            "email_address": "pauline@example.org",
            "template_id": "template-456",
            "personalisation": {
                "subject": "Day services: The budget went down",
                "body": "The budget went down from £1,200,000 to £900,000.",
            },
            "reference": "budget:7:42",
        }
    ]


def test_without_its_key_and_template_the_backend_does_not_start(notify_client, settings):
    settings.GOVUK_NOTIFY_API_KEY = ""
    settings.GOVUK_NOTIFY_TEMPLATE_ID = "template-456"
    with pytest.raises(ImproperlyConfigured, match="GOVUK_NOTIFY_API_KEY"):
        GovUKNotifyBackend()


def test_without_the_client_package_the_backend_says_which_to_install(settings, monkeypatch):
    settings.GOVUK_NOTIFY_API_KEY = "key"
    settings.GOVUK_NOTIFY_TEMPLATE_ID = "template"
    monkeypatch.setitem(sys.modules, "notifications_python_client", None)
    with pytest.raises(ImproperlyConfigured, match="notifications-python-client"):
        GovUKNotifyBackend()

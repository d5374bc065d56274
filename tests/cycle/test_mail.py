"""E-mail through GOV.UK Notify: the backend drives Notify's own client
(``notifications-python-client``) against a stand-in for Notify's API on this machine, an HTTP
server that checks each request as Notify would (the path, the signed token, the fields) and
answers as Notify does: 201 with the notification, or an error in Notify's own form."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage

from cycle import outbox
from cycle.mail import GovUKNotifyBackend, NotifyRefused
from cycle.models import Notification

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"cycle_live_key-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"


@dataclass
class FakeNotify:
    """What the stand-in received, and what it is to answer next."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def _handler(notify: FakeNotify) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            try:
                claims = jwt.decode(token, SECRET, algorithms=["HS256"])
            except jwt.PyJWTError:
                return self.answer(403, _error(403, "AuthError", "Invalid token: signature"))
            if claims.get("iss") != SERVICE_ID:
                return self.answer(403, _error(403, "AuthError", "Invalid token: service"))
            if self.path != "/v2/notifications/email":
                return self.answer(404, _error(404, "NotFoundError", "Not found"))
            notify.received.append(body)
            if notify.refusals:
                return self.answer(*notify.refusals.pop(0))
            notification_id = str(uuid.uuid4())
            return self.answer(
                201,
                {
                    "id": notification_id,
                    "reference": body.get("reference"),
                    "content": {
                        "subject": body["personalisation"]["subject"],
                        "body": body["personalisation"]["body"],
                        "from_email": "cycle@notifications.service.gov.uk",
                    },
                    "uri": f"{notify.url}/v2/notifications/{notification_id}",
                    "template": {"id": body["template_id"], "version": 1, "uri": ""},
                },
            )

        def answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _error(status: int, error: str, message: str) -> dict[str, Any]:
    return {"status_code": status, "errors": [{"error": error, "message": message}]}


@pytest.fixture
def notify(settings) -> Iterator[FakeNotify]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeNotify(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "cycle.mail.GovUKNotifyBackend"
    settings.GOVUK_NOTIFY_API_KEY = API_KEY
    settings.GOVUK_NOTIFY_TEMPLATE_ID = TEMPLATE_ID
    settings.GOVUK_NOTIFY_BASE_URL = fake.url
    settings.GOVUK_NOTIFY_REPLY_TO_ID = ""
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def budget_notification(world) -> Notification:
    disclosure = world.disclose_budget("900000")
    return Notification.objects.select_related("recipient").get(
        idempotency_key=f"budget:{disclosure.pk}:{world.panel[0].pk}"
    )


@pytest.mark.django_db
def test_a_notification_goes_to_notify_through_the_template_with_its_key_as_reference(
    notify, world, settings
):
    notification = budget_notification(world)

    assert outbox.deliver(notification.pk) is outbox.Outcome.DELIVERED

    [sent] = notify.received
    assert sent == {
        "email_address": notification.recipient.email,
        "template_id": TEMPLATE_ID,
        "personalisation": {
            "subject": "Day services: The budget is £900,000.",
            "body": notification.body + settings.NOTIFICATION_EMAIL_FOOTER,
        },
        "reference": notification.idempotency_key,
    }
    notification.refresh_from_db()
    assert notification.delivered_at is not None
    assert notification.attempts == 1


@pytest.mark.django_db
def test_a_reply_to_address_kept_in_notify_is_named_when_set(notify, settings):
    settings.GOVUK_NOTIFY_REPLY_TO_ID = "8e222534-7f05-4972-86e3-17c5d9f894e2"
    message = EmailMessage("Subject", "Body", to=["pauline@example.org"])

    assert GovUKNotifyBackend().send_messages([message]) == 1

    assert notify.received[0]["email_address"] == "pauline@example.org"
    assert notify.received[0]["email_reply_to_id"] == "8e222534-7f05-4972-86e3-17c5d9f894e2"
    assert "reference" not in notify.received[0]


@pytest.mark.django_db
def test_a_refusal_by_notify_is_retried_with_notifys_reason_on_record(notify, world):
    notification = budget_notification(world)
    notify.refusals.append((429, _error(429, "RateLimitError", "Exceeded rate limit for key")))

    assert outbox.deliver(notification.pk) is outbox.Outcome.RETRY

    notification.refresh_from_db()
    assert notification.delivered_at is None
    assert notification.last_error == (
        "NotifyRefused: HTTP 429 from GOV.UK Notify: RateLimitError: Exceeded rate limit for key"
    )
    # The next try, once Notify takes it, delivers it: the same message, once more.
    assert outbox.deliver(notification.pk) is outbox.Outcome.DELIVERED
    assert [sent["reference"] for sent in notify.received] == [notification.idempotency_key] * 2


@pytest.mark.django_db
def test_a_message_notify_rejects_is_given_up_at_once_and_the_lead_told(notify, world):
    notification = budget_notification(world)
    notify.refusals.append(
        (
            400,
            _error(
                400, "BadRequestError", "Can't send to this recipient using a team-only API key"
            ),
        )
    )

    assert outbox.deliver(notification.pk) is outbox.Outcome.GAVE_UP

    notification.refresh_from_db()
    assert notification.attempts == 1 and notification.failed_at is not None
    assert notification.last_error == (
        "NotifyRejected: HTTP 400 from GOV.UK Notify: BadRequestError: Can't send to this "
        "recipient using a team-only API key"
    )
    [warning] = Notification.objects.filter(kind=Notification.Kind.DELIVERY_FAILED)
    assert warning.recipient_id == world.lead.pk  # no involvement lead is named
    assert warning.body.startswith(
        f"We tried once to e-mail {notification.recipient.username} "
        f"({notification.recipient.email}) and could not."
    )
    assert "team-only API key" in warning.body


@pytest.mark.django_db
def test_notify_out_of_reach_leaves_the_notification_waiting(notify, world, settings):
    notification = budget_notification(world)
    settings.GOVUK_NOTIFY_BASE_URL = "http://127.0.0.1:1"

    assert outbox.deliver(notification.pk) is outbox.Outcome.RETRY

    notification.refresh_from_db()
    assert notification.delivered_at is None
    assert notification.last_error.startswith("NotifyRefused: HTTP ")
    assert notify.received == []


def test_a_wrong_key_is_refused_by_notify_and_said_so(notify, settings):
    settings.GOVUK_NOTIFY_API_KEY = f"cycle_live_key-{SERVICE_ID}-{uuid.uuid4()}"
    message = EmailMessage("Subject", "Body", to=["pauline@example.org"])

    with pytest.raises(NotifyRefused, match=r"HTTP 403 from GOV.UK Notify: AuthError: Invalid"):
        GovUKNotifyBackend().send_messages([message])
    assert notify.received == []


def test_fail_silently_counts_only_what_notify_took(notify):
    notify.refusals.append((429, _error(429, "RateLimitError", "Exceeded rate limit")))
    message = EmailMessage("Subject", "Body", to=["a@example.org", "b@example.org"])

    assert GovUKNotifyBackend(fail_silently=True).send_messages([message]) == 1
    assert [sent["email_address"] for sent in notify.received] == ["a@example.org", "b@example.org"]


@pytest.mark.parametrize(
    ("api_key", "template_id", "words"),
    [
        ("", TEMPLATE_ID, "needs GOVUK_NOTIFY_API_KEY and GOVUK_NOTIFY_TEMPLATE_ID"),
        (API_KEY, "", "needs GOVUK_NOTIFY_API_KEY and GOVUK_NOTIFY_TEMPLATE_ID"),
        (SECRET, TEMPLATE_ID, "must be the whole key as GOV.UK Notify showed it"),
    ],
)
def test_without_a_whole_key_and_a_template_the_backend_does_not_start(
    settings, api_key, template_id, words
):
    settings.GOVUK_NOTIFY_API_KEY = api_key
    settings.GOVUK_NOTIFY_TEMPLATE_ID = template_id

    with pytest.raises(ImproperlyConfigured, match=words):
        GovUKNotifyBackend()

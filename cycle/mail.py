"""Sending a notification by e-mail, through whichever Django mail backend is configured.

Development prints e-mail to the console (standard error); production sets ``EMAIL_BACKEND`` to
SMTP, a provider's Django backend, or :class:`GovUKNotifyBackend` here, which sends through GOV.UK
Notify with Notify's own client (many NHS bodies and councils send through it). Each message
carries a ``Message-ID`` made from the notification's idempotency key, so a message that had to be
sent twice is recognisably the same.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from .models import Notification


class Undeliverable(Exception):
    """The message cannot be delivered as it stands (no address, or an address or message the
    provider rejects): trying again would fail the same way, so the outbox gives up at once and
    tells the involvement lead, instead of retrying."""


def message_id(notification: Notification) -> str:
    digest = hashlib.sha256(notification.idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{settings.NOTIFICATION_MESSAGE_ID_DOMAIN}>"


def build(notification: Notification) -> EmailMessage:
    return EmailMessage(
        subject=notification.subject,
        body=notification.body + settings.NOTIFICATION_EMAIL_FOOTER,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient.email],
        headers={
            "Message-ID": message_id(notification),
            "X-Cycle-Notification": notification.idempotency_key,
        },
    )


def send(notification: Notification) -> None:
    """Send one notification; raise if the backend could not take it."""
    if not notification.recipient.email:
        raise Undeliverable(f"{notification.recipient.get_username()} has no e-mail address")
    sent = build(notification).send(fail_silently=False)
    if sent != 1:
        raise RuntimeError("the mail backend did not accept the message")


class ConsoleBackend(DjangoConsoleBackend):
    """Development: e-mail printed to standard error, so it never mixes with a command's output
    (``cycle show --json``, an export) on standard output."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream", sys.stderr)
        super().__init__(*args, **kwargs)


NOTIFY_API = "https://api.notifications.service.gov.uk"
_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
NOTIFY_KEY = re.compile(rf".+-{_ID}-{_ID}", re.IGNORECASE)
"""A Notify API key: its name, the service ID and the secret, joined by hyphens."""


class GovUKNotifyBackend(BaseEmailBackend):
    """Send e-mail through GOV.UK Notify, with its own client (``notifications-python-client``).

    Notify sends from templates: make one e-mail template whose subject is ``((subject))`` and
    whose body is ``((body))``, and set ``GOVUK_NOTIFY_API_KEY`` and
    ``GOVUK_NOTIFY_TEMPLATE_ID`` (``GOVUK_NOTIFY_REPLY_TO_ID`` for a reply-to address kept in
    Notify; ``GOVUK_NOTIFY_BASE_URL`` only to reach another Notify API). The idempotency key goes
    to Notify as the ``reference``, so a notification can be traced in Notify's own records.

    A message Notify refuses raises :class:`NotifyRefused` with Notify's own words, and the outbox
    retries it and in the end tells the involvement lead, as for any mail server; one Notify
    rejects as such (HTTP 400: the address, say) raises :class:`NotifyRejected`, which is
    :class:`Undeliverable`: the lead is told at once.
    """

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        api_key = getattr(settings, "GOVUK_NOTIFY_API_KEY", "")
        self.template_id = getattr(settings, "GOVUK_NOTIFY_TEMPLATE_ID", "")
        self.reply_to_id = getattr(settings, "GOVUK_NOTIFY_REPLY_TO_ID", "") or None
        if not api_key or not self.template_id:
            raise ImproperlyConfigured(
                "GovUKNotifyBackend needs GOVUK_NOTIFY_API_KEY and GOVUK_NOTIFY_TEMPLATE_ID"
            )
        if not NOTIFY_KEY.fullmatch(api_key):
            # The client would otherwise take the wrong parts of the key and fail each request.
            raise ImproperlyConfigured(
                "GOVUK_NOTIFY_API_KEY must be the whole key as GOV.UK Notify showed it: the "
                "key's name, the service ID and the secret, joined by hyphens"
            )
        base_url = getattr(settings, "GOVUK_NOTIFY_BASE_URL", "") or NOTIFY_API
        self.client = NotificationsAPIClient(
            api_key, base_url=base_url, timeout=settings.EMAIL_TIMEOUT
        )

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            for address in message.to:
                try:
                    self._send_one(message, address)
                except Exception:
                    if not self.fail_silently:
                        raise
                    continue
                sent += 1
        return sent

    def _send_one(self, message: EmailMessage, address: str) -> None:
        try:
            self.client.send_email_notification(
                email_address=address,
                template_id=self.template_id,
                personalisation={"subject": message.subject, "body": message.body},
                reference=message.extra_headers.get("X-Cycle-Notification"),
                email_reply_to_id=self.reply_to_id,
            )
        except APIError as error:
            if error.status_code == 400:  # the address or the message itself: final
                raise NotifyRejected(_notify_words(error)) from error
            raise NotifyRefused(_notify_words(error)) from error


class NotifyRefused(Exception):
    """GOV.UK Notify did not take a message (a key without permission, too many requests, Notify
    unavailable or out of reach); the text is Notify's own reason. Tried again later."""


class NotifyRejected(NotifyRefused, Undeliverable):
    """Notify rejected the message itself (HTTP 400: an address it will not send to, a team key
    and an address outside the team): not tried again."""


def _notify_words(error: Any) -> str:
    """``HTTP 400 from GOV.UK Notify: BadRequestError: ...`` from the client's error."""
    status = getattr(error, "status_code", None)
    reasons = getattr(error, "message", None)
    if isinstance(reasons, list):
        words = "; ".join(
            f"{item.get('error', '')}: {item.get('message', '')}".strip(": ")
            for item in reasons
            if isinstance(item, dict)
        )
    else:
        words = str(reasons or error)
    where = f"HTTP {status} from GOV.UK Notify" if status else "GOV.UK Notify"
    return f"{where}: {words or 'no reason given'}"

"""Sending a notification by e-mail, through whichever Django mail backend is configured.

Development prints e-mail to the console (standard error); production sets ``EMAIL_BACKEND`` to
SMTP, a provider's Django backend, or :class:`GovUKNotifyBackend` here, which sends through GOV.UK
Notify (many NHS bodies and councils do). Each message carries a ``Message-ID`` made from the
notification's idempotency key, so a message that had to be sent twice is recognisably the same.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend

from .models import Notification


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
        raise ValueError(f"{notification.recipient.get_username()} has no e-mail address")
    sent = build(notification).send(fail_silently=False)
    if sent != 1:
        raise RuntimeError("the mail backend did not accept the message")


class ConsoleBackend(DjangoConsoleBackend):
    """Development: e-mail printed to standard error, so it never mixes with a command's output
    (``cycle show --json``, an export) on standard output."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream", sys.stderr)
        super().__init__(*args, **kwargs)


class GovUKNotifyBackend(BaseEmailBackend):
    """Send e-mail through GOV.UK Notify (``pip install notifications-python-client``).

    Notify sends from templates: make one e-mail template whose subject is ``((subject))`` and
    whose body is ``((body))``, and set ``GOVUK_NOTIFY_API_KEY`` and
    ``GOVUK_NOTIFY_TEMPLATE_ID``. The idempotency key goes to Notify as the ``reference``, so a
    notification can be traced in Notify's own records.
    """

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        api_key = getattr(settings, "GOVUK_NOTIFY_API_KEY", "")
        self.template_id = getattr(settings, "GOVUK_NOTIFY_TEMPLATE_ID", "")
        if not api_key or not self.template_id:
            raise ImproperlyConfigured(
                "GovUKNotifyBackend needs GOVUK_NOTIFY_API_KEY and GOVUK_NOTIFY_TEMPLATE_ID"
            )
        try:
            from notifications_python_client.notifications import NotificationsAPIClient
        except ImportError as error:  # an optional dependency, named in the message
            raise ImproperlyConfigured(
                "GovUKNotifyBackend needs the notifications-python-client package"
            ) from error
        self.client = NotificationsAPIClient(api_key)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            for address in message.to:
                try:
                    self.client.send_email_notification(
                        email_address=address,
                        template_id=self.template_id,
                        personalisation={"subject": message.subject, "body": message.body},
                        reference=message.extra_headers.get("X-Cycle-Notification"),
                    )
                except Exception:
                    if not self.fail_silently:
                        raise
                    continue
                sent += 1
        return sent

"""Mail backends for tests: one that always fails, and one that writes each message to a file
slowly, so that a test can kill a worker in the middle of sending."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


class FailingBackend(BaseEmailBackend):
    """Refuses every message, as a mail server that is down would."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise ConnectionRefusedError("the mail server refused the connection")


class SlowFileBackend(BaseEmailBackend):
    """Writes each message to ``$MAILSINK_DIR/<key>.<uuid>.eml``, after a marker file that says
    sending has begun and a pause of ``$MAILSINK_DELAY`` seconds.

    A message is delivered when its ``.eml`` file exists; a worker killed during the pause leaves
    only the marker. Counting ``.eml`` files per key counts deliveries.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.directory = Path(os.environ["MAILSINK_DIR"])
        self.delay = float(os.environ.get("MAILSINK_DELAY", "0"))

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            key = message.extra_headers["X-Cycle-Notification"].replace(":", "_")
            token = uuid.uuid4().hex
            (self.directory / f"{key}.{token}.sending").write_text(str(os.getpid()))
            if self.delay:
                time.sleep(self.delay)
            (self.directory / f"{key}.{token}.eml").write_bytes(message.message().as_bytes())
        return len(email_messages)

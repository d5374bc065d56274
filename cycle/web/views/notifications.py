"""The notifications pages: everything a person has been told, and how they want to be told.

Reads through ``cycle.notifications`` (the inbox, in one query), writes through its services
(marking read, the choice of e-mail or in the app only). The home page lists the latest few
through ``{% latest_notifications %}`` (``templatetags/notices.py``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse

from cycle import notifications, selectors
from cycle.models import Notification

from ..forms import PageForm
from ..navigation import MenuEntry, register
from .base import ServiceFormView

PAGE_SIZE = 100


class MarkReadForm(PageForm):
    """No fields: the button says it all."""


class NotificationsView(ServiceFormView):
    """Everything the user has been told, newest first, the unread ones marked."""

    template_name = "web/notifications/list.html"
    form_class = MarkReadForm
    submit_label = "Mark all as read"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        rows = list(notifications.inbox(user, limit=PAGE_SIZE))
        cycle_ids = {row.cycle_id for row in rows if row.cycle_id is not None}
        visible = set(
            selectors.cycles_visible_to(user).filter(pk__in=cycle_ids).values_list("pk", flat=True)
        )
        return super().get_context_data(
            rows=rows,
            unread=sum(1 for row in rows if row.read_at is None),
            visible_cycles=visible,
            channel=notifications.channel_for(user),
            undeliverable=notifications.undeliverable_for(user).exists(),
            **kwargs,
        )

    def perform(self, form: MarkReadForm) -> int:
        return notifications.notifications_mark_read(actor=self.request.user)

    def confirmation(self, result: int) -> str:
        if result == 0:
            return "You had no unread notifications."
        return f"You marked {result} notification{'s' if result != 1 else ''} as read."

    def get_success_url(self) -> str:
        return reverse("web:notifications")


class ChannelForm(PageForm):
    channel = forms.ChoiceField(
        label="How do you want to be told?",
        help_text="Whatever you choose, everything is also shown here when you sign in.",
        choices=[
            (Notification.Channel.EMAIL, "By e-mail, and when I sign in"),
            (Notification.Channel.IN_APP, "Only when I sign in"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how you want to be told"},
    )
    service_fields = {"invalid.notification_channel": "channel"}


class NotificationSettingsView(ServiceFormView):
    """The user's choice: e-mail as well as in the app, or in the app only."""

    template_name = "web/notifications/settings.html"
    form_class = ChannelForm
    submit_label = "Save"

    def get_initial(self) -> dict[str, Any]:
        return {"channel": notifications.channel_for(self.request.user)}

    def perform(self, form: ChannelForm) -> Any:
        return notifications.notification_preference_set(
            actor=self.request.user, channel=form.cleaned_data["channel"]
        )

    def confirmation(self, result: Any) -> str:
        if result.channel == Notification.Channel.EMAIL:
            return "You will be told by e-mail, and when you sign in."
        return "You will be told only when you sign in. We will not e-mail you."

    def get_success_url(self) -> str:
        return reverse("web:notifications")


class RetryForm(PageForm):
    notification = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={"required": "Choose an e-mail to try again"},
    )


class UndeliverableView(ServiceFormView):
    """E-mails of the user's cycles that could not be delivered, each with a button to try it
    again (after the person's address has been put right, say)."""

    template_name = "web/notifications/undeliverable.html"
    form_class = RetryForm
    submit_label = "Try again"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        rows = list(notifications.undeliverable_for(self.request.user)[:PAGE_SIZE])
        return super().get_context_data(rows=rows, **kwargs)

    def perform(self, form: RetryForm) -> Notification:
        return notifications.notification_retry(
            actor=self.request.user, notification_id=form.cleaned_data["notification"]
        )

    def confirmation(self, result: Notification) -> str:
        who = result.recipient.get_full_name() or result.recipient.get_username()
        return f"We will try again to e-mail {who} at {result.recipient.email or 'no address'}."

    def get_success_url(self) -> str:
        return reverse("web:notifications-undeliverable")


register(MenuEntry("Notifications", "web:notifications", lambda user: True))

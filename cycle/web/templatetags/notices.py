"""The home page's notifications: ``{% load notices %}{% latest_notifications user %}``."""

from __future__ import annotations

from typing import Any

from django import template

from cycle import notifications

register = template.Library()

LATEST = 5


@register.inclusion_tag("web/notifications/latest.html")
def latest_notifications(user: Any) -> dict[str, Any]:
    """The user's newest few notifications and how many are unread (two queries)."""
    return {
        "rows": list(notifications.inbox(user, limit=LATEST)),
        "unread": notifications.unread_count(user),
    }

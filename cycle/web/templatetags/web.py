"""Template helpers of the web pages: ``{% load web %}``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template

register = template.Library()


@register.filter
def described_by(field: Any) -> str:
    """The ids of a field's hint and error message, for ``aria-describedby``."""
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}-hint")
    if field.errors:
        ids.append(f"{field.auto_id}-error")
    return " ".join(ids)


@register.simple_tag
def cycle_url(url_name: str, cycle: Any, *args: Any) -> str:
    """The URL of one of a cycle's pages; empty if that page does not exist (yet)."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(url_name, args=[cycle.pk, *args])
    except NoReverseMatch:
        return ""


@register.filter
def duration_words(value: timedelta) -> str:
    """A wait in whole minutes, in words: ``15 minutes``, ``1 minute``."""
    minutes = max(1, round(value.total_seconds() / 60))
    return f"{minutes} minute{'' if minutes == 1 else 's'}"

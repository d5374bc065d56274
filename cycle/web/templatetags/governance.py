"""Template helpers of the governance pages: ``{% load governance %}``."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from ..governance import dashboard

register = template.Library()


@register.filter
def stage_name(stage_key: str, template_key: str) -> str:
    """``{{ visit.stage_key|stage_name:cycle.template_key }}``: the stage's name."""
    return dashboard.stage_name(template_key, stage_key)


@register.filter
def any_stage_name(stage_key: str) -> str:
    """A stage's name from its key alone, whatever the template (keys shared name alike)."""
    return dashboard.any_stage_name(stage_key)


@register.filter
def outcome_label(outcome: str) -> str:
    """A compliance outcome word (``member-left``, ``re-attested`` …) in plain English."""
    return dashboard.OUTCOME_LABELS.get(outcome, outcome)


@register.filter
def breakable(text: str, every: int = 16) -> str:
    """Long unbroken text (a hash) that may wrap on a narrow screen: a ``<wbr>`` every 16 chars."""
    value = str(text)
    return mark_safe(
        "<wbr>".join(escape(value[i : i + every]) for i in range(0, len(value), every))
    )

"""Forms of the governance pages: overriding a gate, filtering the audit trail, choosing a report.

They check the shape of what was typed; the override service decides whether a departure is
allowed, and its refusal lands on the override form (``PageForm.add_service_error``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cycle.gates import Unmet
from cycle.models import AuditEvent, CommissioningCycle, Organisation

from ..forms import PageForm

REASON_LIMIT = 4000


class OverrideForm(PageForm):
    """Which unmet conditions of the gate the board departs from, and why."""

    codes = forms.MultipleChoiceField(
        label=_("Which conditions does the board depart from?"),
        help_text=_("Tick each one. The gate stays closed for any condition you do not tick."),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Tick at least one condition the board departs from"),
            "invalid_choice": _(
                "The gate has changed since this page was opened. Check the conditions again."
            ),
        },
    )
    reason = forms.CharField(
        label=_("The board's reasons"),
        help_text=_(
            "Say why departing from the guidance is justified here. The reasons stay on the "
            "record, and the panel and commissioners can read them."
        ),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=REASON_LIMIT,
        error_messages={
            "required": _("Enter the board's reasons for the override"),
            "max_length": _("The reasons must be %(limit_value)d characters or fewer")
            % {"limit_value": REASON_LIMIT},
        },
    )

    service_fields = {"invalid.reason": "reason", "invalid.too_long": "reason"}

    def __init__(self, *args: Any, unmet: Sequence[Unmet] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes: Any = self.fields["codes"]
        codes.choices = [(item.code, item.message) for item in unmet]


def _choices(values: Iterable[tuple[str, Any]], everything: str) -> list[tuple[str, Any]]:
    return [("", everything), *values]


class AuditFilterForm(PageForm):
    """What to narrow the audit trail to; every field may be left empty."""

    action = forms.ChoiceField(label=_("Action"), required=False)
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=_choices(AuditEvent.Outcome.choices, str(_("Done or refused"))),
    )
    actor = forms.CharField(
        label=_("Who acted (username)"),
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    cycle = forms.TypedChoiceField(label=_("Cycle"), required=False, coerce=int, empty_value=None)
    stage = forms.ChoiceField(label=_("Stage"), required=False)
    period_from = forms.DateField(
        label=_("From (day included)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the first day as a date, for example 2025-04-01")},
    )
    period_to = forms.DateField(
        label=_("To (day included)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the last day as a date, for example 2026-03-31")},
    )

    def __init__(
        self,
        *args: Any,
        actions: Iterable[str] = (),
        cycles: Iterable[CommissioningCycle] = (),
        stages: Iterable[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["action"].choices = _choices(
            ((action, action) for action in actions), str(_("Any action"))
        )
        fields["cycle"].choices = _choices(
            ((str(cycle.pk), f"{cycle.title} ({cycle.organisation.name})") for cycle in cycles),
            str(_("Any cycle")),
        )
        fields["stage"].choices = _choices(stages, str(_("Any stage")))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_from"), data.get("period_to")
        if start and end and end < start:
            self.add_error("period_to", _("The last day must be on or after the first day"))
        return data


def _year_to_today() -> tuple[date, date]:
    today = timezone.localdate()
    return today - timedelta(days=364), today


class ReportForm(PageForm):
    """Which organisation's report on involvement, for which period, in which format."""

    FORMATS = (
        ("html", _("Web page (HTML)")),
        ("csv", _("Spreadsheet (CSV)")),
        ("pdf", _("Printable document (PDF)")),
    )

    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of the organisations your board oversees")},
    )
    period_from = forms.DateField(
        label=_("First day of the period"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Enter the first day of the period"),
            "invalid": _("Enter the first day as a date, for example 2025-04-01"),
        },
    )
    period_to = forms.DateField(
        label=_("Last day of the period"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Enter the last day of the period"),
            "invalid": _("Enter the last day as a date, for example 2026-03-31"),
        },
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=FORMATS,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a format"),
            "invalid_choice": _(
                "Choose a format: a web page, a spreadsheet or a printable document"
            ),
        },
    )

    def __init__(self, *args: Any, organisations: Any = None, **kwargs: Any) -> None:
        start, end = _year_to_today()
        # As text in the form a date input takes (a date would be rendered in words).
        kwargs.setdefault(
            "initial",
            {"period_from": start.isoformat(), "period_to": end.isoformat(), "format": "pdf"},
        )
        super().__init__(*args, **kwargs)
        field: Any = self.fields["organisation"]
        field.queryset = organisations if organisations is not None else Organisation.objects.none()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_from"), data.get("period_to")
        if start and end and end < start:
            self.add_error("period_to", _("The last day must be on or after the first day"))
        return data

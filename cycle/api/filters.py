"""Query filters of the list endpoints (django-filter; shown in the schema)."""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django import forms
from django.db.models import QuerySet

from cycle.models import AuditEvent, Notification, RoleBoundaryAgreement, SignOff, UserInput
from roles.models import PanelMembership


class StrictBooleanField(forms.NullBooleanField):
    """``true`` or ``false`` (or absent); anything else is an error, not silently no filter."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]
        if value in (None, ""):
            return None
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")

    def validate(self, value: Any) -> None:
        pass


class BooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField


class AuditFilter(filters.FilterSet):
    action = filters.CharFilter(help_text="Only this action, e.g. budget.disclosed.")
    outcome = filters.ChoiceFilter(choices=AuditEvent.Outcome.choices)
    actor = filters.CharFilter(field_name="actor_name", help_text="Only this user's events.")
    stage = filters.CharFilter(field_name="stage_key")
    since = filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = filters.IsoDateTimeFilter(field_name="at", lookup_expr="lte")

    class Meta:
        model = AuditEvent
        fields: list[str] = []


class LedgerFilter(AuditFilter):
    cycle = filters.NumberFilter(field_name="cycle_id", min_value=1, max_value=2**63 - 1)

    class Meta(AuditFilter.Meta):
        pass


class BoundaryFilter(filters.FilterSet):
    stage = filters.CharFilter(field_name="stage_key")

    class Meta:
        model = RoleBoundaryAgreement
        fields: list[str] = []


class SignOffFilter(filters.FilterSet):
    stage = filters.CharFilter(field_name="visit__stage_key")
    visit = filters.NumberFilter(field_name="visit_id", min_value=1, max_value=2**63 - 1)
    kind = filters.ChoiceFilter(choices=SignOff.Kind.choices)
    current = BooleanFilter(
        method="filter_current", help_text="Only positions not since superseded or withdrawn."
    )

    class Meta:
        model = SignOff
        fields: list[str] = []

    def filter_current(self, queryset: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
        return queryset.filter(superseded_at__isnull=value)


class InputFilter(filters.FilterSet):
    stage = filters.CharFilter(field_name="stage_key")
    status = filters.ChoiceFilter(choices=UserInput.Status.choices)

    class Meta:
        model = UserInput
        fields: list[str] = []


class MembershipFilter(filters.FilterSet):
    include_former = BooleanFilter(
        method="filter_former", help_text="Also members who have left (default: current only)."
    )

    class Meta:
        model = PanelMembership
        fields: list[str] = []

    @property
    def qs(self) -> QuerySet[Any]:
        queryset = super().qs
        if not self.form.cleaned_data.get("include_former"):
            queryset = queryset.filter(left_at__isnull=True)
        return queryset

    def filter_former(self, queryset: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
        return queryset


class NotificationFilter(filters.FilterSet):
    unread = BooleanFilter(
        method="filter_unread", help_text="true: only those not read yet; false: only read ones."
    )

    class Meta:
        model = Notification
        fields: list[str] = []

    def filter_unread(self, queryset: QuerySet[Any], name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        return queryset.filter(read_at__isnull=value)

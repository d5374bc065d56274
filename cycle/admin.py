"""The admin: for looking cycles up and for operations, never for changing the record by hand.

Gate records (role boundaries and their acknowledgements, budget disclosures, sign-offs,
overrides), stage visits, decisions and the audit ledger are read-only here: they change only
through ``cycle.services``, which check permission, evaluate the gate and write the ledger. A
cycle is read-only too, its stage and status above all. The one way to move a cycle from the
admin is the action "Advance through the involvement gate": it calls the same entry point as
every other caller, as the signed-in user, and when the gate is closed it shows every unmet
condition and changes nothing.

Any model of this app that is not registered explicitly below is registered read-only, so a
record added later cannot be edited here by accident. Staff who are not superusers see only the
cycles they may see anywhere else (``selectors.cycles_visible_to``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.apps import apps
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from roles import accounts

from . import selectors, services
from .errors import GateClosed, ServiceError
from .models import (
    AuditEvent,
    BoundaryAcknowledgement,
    BudgetDisclosure,
    CommissioningCycle,
    Decision,
    GateOverride,
    LedgerHead,
    Organisation,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
)


def apply_changes(request: HttpRequest, changes: Iterable[Callable[[], Any]]) -> None:
    """Call each service of a change made on an admin page; a refused or invalid one is shown
    as an error (and, if refused, is on the ledger), and the others go ahead."""
    for change in changes:
        try:
            change()
        except ServiceError as error:
            messages.error(request, f"{error.code}: {error.message!s}")


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Shows records; nobody may add, change or delete them here, superusers included."""

    cycle_lookup: str | None = "cycle"
    """The path from the model to its cycle, used to narrow what non-superusers see."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        user: Any = request.user
        if user.is_superuser:
            return queryset
        if self.cycle_lookup is None:
            return queryset.none()
        visible = selectors.cycles_visible_to(user).values("pk")
        return queryset.filter(**{f"{self.cycle_lookup}__in": visible})

    def get_list_filter(self, request: HttpRequest) -> Any:
        """Filters on a related record offer only those of the records shown (the cycles the
        user may see), never, say, every organisation's name."""
        return [
            (entry, admin.RelatedOnlyFieldListFilter)
            if isinstance(entry, str) and self.model._meta.get_field(entry).is_relation
            else entry
            for entry in super().get_list_filter(request)
        ]


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """An organisation's settings are edited here; its staff through ``roles.accounts``."""

    list_display = ("name",)
    search_fields = ("name",)
    filter_horizontal = ("staff",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        organisation, actor = form.instance, request.user
        staff, wanted = set(organisation.staff.all()), set(form.cleaned_data["staff"])
        changes: list[Callable[[], Any]] = [
            partial(accounts.staff_add, actor=actor, organisation_id=organisation.pk, user=user)
            for user in sorted(wanted - staff, key=lambda user: user.pk)
        ]
        changes += [
            partial(accounts.staff_remove, actor=actor, organisation_id=organisation.pk, user=user)
            for user in sorted(staff - wanted, key=lambda user: user.pk)
        ]
        apply_changes(request, changes)


class StageVisitInline(ReadOnlyInline):
    model = StageVisit
    fields = ("stage_key", "opened_at", "opened_reason", "closed_at", "closure")
    readonly_fields = fields


@admin.register(CommissioningCycle)
class CommissioningCycleAdmin(ReadOnlyAdmin):
    cycle_lookup = "pk"
    list_display = (
        "title",
        "organisation",
        "current_stage",
        "status",
        "lead_commissioner",
        "updated_at",
    )
    list_filter = ("status", "template_key", "organisation")
    list_select_related = ("organisation", "lead_commissioner")
    search_fields = ("title", "service_area", "organisation__name")
    fields = (
        "title",
        "organisation",
        "service_area",
        "lead_commissioner",
        "involvement_lead",
        "template_key",
        "current_stage",
        "status",
        "gate",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = [StageVisitInline]
    actions = ["advance_through_gate"]

    @admin.display(description=_("involvement gate"))
    def gate(self, cycle: CommissioningCycle) -> str:
        if cycle.status == CommissioningCycle.Status.COMPLETED:
            return str(_("The cycle is completed."))
        result = selectors.gate_state(cycle)
        if result.open:
            return str(_("Open: every condition is met."))
        return format_html(
            "{}<ul>{}</ul>",
            _("Closed. Still needed:"),
            format_html_join("", "<li>{}</li>", ((item.message,) for item in result.unmet)),
        )

    @admin.action(description=_("Advance through the involvement gate"))
    def advance_through_gate(
        self, request: HttpRequest, queryset: QuerySet[CommissioningCycle]
    ) -> None:
        for cycle in queryset.order_by("pk"):
            try:
                services.stage_advance(actor=request.user, cycle_id=cycle.pk)
            except GateClosed as closed:
                self.message_user(
                    request,
                    format_html(
                        "{}<ul>{}</ul>",
                        _("“%(title)s” stays at stage %(stage)s: the involvement gate is closed.")
                        % {"title": cycle.title, "stage": closed.stage_key},
                        format_html_join(
                            "",
                            "<li>{}: {}</li>",
                            ((item.code, item.message) for item in closed.result.unmet),
                        ),
                    ),
                    level=messages.ERROR,
                )
            except ServiceError as error:
                self.message_user(
                    request,
                    _("“%(title)s” was not moved: %(reason)s")
                    % {"title": cycle.title, "reason": error.message},
                    level=messages.ERROR,
                )
            else:
                cycle.refresh_from_db()
                self.message_user(
                    request,
                    _("“%(title)s” is now at stage %(stage)s (%(status)s).")
                    % {
                        "title": cycle.title,
                        "stage": cycle.current_stage,
                        "status": cycle.get_status_display(),
                    },
                    level=messages.SUCCESS,
                )


@admin.register(StageVisit)
class StageVisitAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "stage_key", "opened_at", "closed_at", "closure")
    list_filter = ("closure", "stage_key")
    list_select_related = ("cycle",)
    search_fields = ("cycle__title",)


@admin.register(RoleBoundaryAgreement)
class RoleBoundaryAgreementAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "stage_key", "version", "influence", "recorded_by", "recorded_at")
    list_filter = ("influence", "stage_key")
    list_select_related = ("cycle", "recorded_by")
    search_fields = ("cycle__title", "purpose", "decision_maker")


@admin.register(BoundaryAcknowledgement)
class BoundaryAcknowledgementAdmin(ReadOnlyAdmin):
    cycle_lookup = "agreement__cycle"
    list_display = ("agreement", "member", "acknowledged_at")
    list_select_related = ("agreement", "member")


@admin.register(BudgetDisclosure)
class BudgetDisclosureAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "version", "amount", "currency", "disclosed_by", "disclosed_at")
    list_select_related = ("cycle", "disclosed_by")
    search_fields = ("cycle__title",)


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "visit", "member", "kind", "recorded_at", "superseded_at", "withdrawn")
    list_filter = ("kind", "withdrawn")
    list_select_related = ("cycle", "visit", "member")
    search_fields = ("cycle__title",)


@admin.register(GateOverride)
class GateOverrideAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "visit", "by", "unmet_codes", "recorded_at")
    list_select_related = ("cycle", "visit", "by")
    search_fields = ("cycle__title", "reason")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "stage_key", "summary", "decided_by", "decided_at", "veto_used")
    list_filter = ("veto_used",)
    list_select_related = ("cycle", "decided_by")
    search_fields = ("cycle__title", "summary")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor_name", "action", "outcome", "cycle", "stage_key")
    list_filter = ("outcome", "action")
    list_select_related = ("cycle",)
    search_fields = ("action", "actor_name", "cycle__title")


@admin.register(LedgerHead)
class LedgerHeadAdmin(ReadOnlyAdmin):
    cycle_lookup = None


def register_the_rest_read_only(app_label: str) -> None:
    """Register every model of ``app_label`` the admin does not know yet, read-only."""
    for model in apps.get_app_config(app_label).get_models():
        if admin.site.is_registered(model):
            continue
        field_names = {field.name for field in model._meta.get_fields()}
        admin.site.register(
            model,
            type(
                f"{model.__name__}Admin",
                (ReadOnlyAdmin,),
                {"cycle_lookup": "cycle" if "cycle" in field_names else None},
            ),
        )


register_the_rest_read_only("cycle")

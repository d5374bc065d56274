"""The admin for who takes part: governance boards are managed here; the rest is read-only.

Panel membership grants and revokes the object permissions a member acts with, and working
agreements, their signatures and declarations of interest are gate conditions, so they change only
through ``roles.services``, never by hand here. Governance boards are operations data: an
administrator sets up who sits on which board and which organisations it oversees.
"""

from __future__ import annotations

from django.contrib import admin

from cycle.admin import ReadOnlyAdmin, register_the_rest_read_only

from .models import (
    AgreementSignature,
    ConflictDeclaration,
    GovernanceBoard,
    PanelMembership,
    WorkingAgreement,
)


@admin.register(GovernanceBoard)
class GovernanceBoardAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name",)
    search_fields = ("name",)
    filter_horizontal = ("organisations", "members")


@admin.register(PanelMembership)
class PanelMembershipAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "member", "represents", "tier", "tender_panel", "joined_at", "left_at")
    list_filter = ("tier", "tender_panel")
    list_select_related = ("cycle", "member")
    search_fields = ("cycle__title", "member__username", "represents")


@admin.register(WorkingAgreement)
class WorkingAgreementAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "version", "recorded_by", "recorded_at")
    list_select_related = ("cycle", "recorded_by")


@admin.register(AgreementSignature)
class AgreementSignatureAdmin(ReadOnlyAdmin):
    cycle_lookup = "agreement__cycle"
    list_display = ("agreement", "member", "signed_at")
    list_select_related = ("agreement", "member")


@admin.register(ConflictDeclaration)
class ConflictDeclarationAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "member", "interest", "declared_at")
    list_filter = ("interest",)
    list_select_related = ("cycle", "member")


register_the_rest_read_only("roles")

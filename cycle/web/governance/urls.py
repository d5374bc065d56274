"""URLs of the governance pages, mounted at /governance/ inside the ``web`` namespace."""

from typing import Any

from django.urls import path

from roles.permissions import AUDIT_PERM

from ..navigation import MenuEntry, register
from . import self_assessment, views


def audits_anything(user: Any) -> bool:
    return bool(user.has_perm(AUDIT_PERM))


urlpatterns = [
    path("", views.DashboardView.as_view(), name="governance-dashboard"),
    path("cycles/<int:cycle_id>/", views.CycleRecordView.as_view(), name="governance-cycle"),
    path(
        "cycles/<int:cycle_id>/override/",
        views.OverrideView.as_view(),
        name="governance-override",
    ),
    path(
        "cycles/<int:cycle_id>/verify/",
        views.VerifyView.as_view(),
        name="governance-verify-cycle",
    ),
    path(
        "cycles/<int:cycle_id>/ledger.jsonl",
        views.LedgerExportView.as_view(),
        {"fmt": "jsonl"},
        name="governance-ledger-jsonl",
    ),
    path(
        "cycles/<int:cycle_id>/ledger.csv",
        views.LedgerExportView.as_view(),
        {"fmt": "csv"},
        name="governance-ledger-csv",
    ),
    path("audit/", views.AuditTrailView.as_view(), name="governance-audit"),
    path("audit/verify/", views.VerifyView.as_view(), name="governance-verify"),
    path("report/", views.ReportView.as_view(), name="governance-report"),
    path(
        "organisations/<int:organisation_id>/self-assessment/",
        self_assessment.SelfAssessmentView.as_view(),
        name="governance-self-assessment",
    ),
    path(
        "organisations/<int:organisation_id>/self-assessment/record/",
        self_assessment.SelfAssessmentRecordView.as_view(),
        name="governance-self-assessment-record",
    ),
]

register(MenuEntry("Compliance", "web:governance-dashboard", audits_anything))
register(MenuEntry("Audit trail", "web:governance-audit", audits_anything))
register(MenuEntry("Report", "web:governance-report", audits_anything))

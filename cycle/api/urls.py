"""URLs of the API: version 1 under ``/api/v1/``, the schema and its reference under ``/api/``."""

from __future__ import annotations

from typing import Any

from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import duty, involvement, notifications, procurement, views


class IdConverter:
    """A database id: digits only (a number too large to be an id is simply not found)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")


class NoSuchEndpoint(APIView):
    """Anything else under /api/ answers a problem, not an HTML page."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    schema = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound(f"There is no API endpoint at {request.path}.")

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # pragma: no cover
        raise NotFound()


class SwaggerView(SpectacularSwaggerSplitView):
    """The Swagger UI with its assets from this site and no inline script or style."""

    template_name = "api/swagger_ui.html"
    permission_classes = [AllowAny]


cycle_urls = [
    path("", views.CycleDetail.as_view(), name="cycle-detail"),
    path("stages/", views.StageList.as_view(), name="cycle-stages"),
    path("visits/", views.VisitList.as_view(), name="cycle-visits"),
    path("advance/", views.Advance.as_view(), name="cycle-advance"),
    path("reopen/", views.Reopen.as_view(), name="cycle-reopen"),
    path("signoff-request/", views.SignOffRequest.as_view(), name="cycle-signoff-request"),
    path("involvement-lead/", views.InvolvementLead.as_view(), name="cycle-involvement-lead"),
    path("boundaries/", views.BoundaryList.as_view(), name="cycle-boundaries"),
    path(
        "boundaries/acknowledge/",
        views.BoundaryAcknowledge.as_view(),
        name="cycle-boundaries-acknowledge",
    ),
    path("budget/", views.BudgetList.as_view(), name="cycle-budget"),
    path("signoffs/", views.SignOffList.as_view(), name="cycle-signoffs"),
    path(
        "signoffs/withdraw-dissent/",
        views.DissentWithdraw.as_view(),
        name="cycle-dissent-withdraw",
    ),
    path("overrides/", views.OverrideList.as_view(), name="cycle-overrides"),
    path("decisions/", views.DecisionList.as_view(), name="cycle-decisions"),
    path("inputs/", views.InputList.as_view(), name="cycle-inputs"),
    path("inputs/<id:input_id>/", views.InputDetail.as_view(), name="cycle-input"),
    path(
        "inputs/<id:input_id>/responses/",
        views.ResponseList.as_view(),
        name="cycle-input-responses",
    ),
    path("panel/", views.MembershipList.as_view(), name="cycle-panel"),
    path("panel/leave/", views.MembershipLeave.as_view(), name="cycle-panel-leave"),
    path("panel/<id:membership_id>/", views.MembershipDetail.as_view(), name="cycle-membership"),
    path(
        "panel/<id:membership_id>/remove/",
        views.MembershipRemove.as_view(),
        name="cycle-membership-remove",
    ),
    path("agreements/", views.AgreementList.as_view(), name="cycle-agreements"),
    path("agreements/sign/", views.AgreementSign.as_view(), name="cycle-agreement-sign"),
    path("declarations/", views.DeclarationList.as_view(), name="cycle-declarations"),
    path("duty/", duty.DutyAssessmentList.as_view(), name="cycle-duty"),
    path(
        "duty/proposal-changes/", duty.ProposalChangeList.as_view(), name="cycle-proposal-changes"
    ),
    path("consultations/", duty.ConsultationList.as_view(), name="cycle-consultations"),
    path(
        "consultations/<id:consultation_id>/consideration/",
        duty.ConsultationConsider.as_view(),
        name="cycle-consultation-consider",
    ),
    path("pressures/", involvement.PressureList.as_view(), name="cycle-pressures"),
    path(
        "pressures/<id:pressure_id>/disclose/",
        involvement.PressureDisclose.as_view(),
        name="cycle-pressure-disclose",
    ),
    path("procurement/routes/", procurement.RouteList.as_view(), name="procurement-routes"),
    path("procurement/tender/", procurement.TenderView.as_view(), name="procurement-tender"),
    path("procurement/bids/", procurement.BidList.as_view(), name="procurement-bids"),
    path(
        "procurement/bids/<id:bid_id>/interests/",
        procurement.BidInterestDeclare.as_view(),
        name="procurement-bid-interests",
    ),
    path(
        "procurement/bids/<id:bid_id>/scores/",
        procurement.BidScore.as_view(),
        name="procurement-bid-scores",
    ),
    path(
        "procurement/bids/<id:bid_id>/comments/",
        procurement.BidCommentList.as_view(),
        name="procurement-bid-comments",
    ),
    path(
        "procurement/bids/<id:bid_id>/moderations/",
        procurement.BidModerate.as_view(),
        name="procurement-bid-moderations",
    ),
    path(
        "procurement/evaluation/",
        procurement.EvaluationView.as_view(),
        name="procurement-evaluation",
    ),
    path("meetings/", procurement.MeetingList.as_view(), name="cycle-meetings"),
    path(
        "meetings/<id:meeting_id>/papers/",
        procurement.MeetingPapers.as_view(),
        name="cycle-meeting-papers",
    ),
    path(
        "procurement/decisions/",
        procurement.AwardDecisionList.as_view(),
        name="procurement-decisions",
    ),
    path("procurement/notice/", procurement.NoticeView.as_view(), name="procurement-notice"),
    path(
        "procurement/representations/",
        procurement.RepresentationList.as_view(),
        name="procurement-representations",
    ),
    path(
        "procurement/representations/<id:representation_id>/review/",
        procurement.RepresentationReview.as_view(),
        name="procurement-representation-review",
    ),
    path(
        "procurement/contract-award/",
        procurement.ContractAward.as_view(),
        name="procurement-contract-award",
    ),
    path("coverage/", involvement.CoverageList.as_view(), name="cycle-coverage"),
    path(
        "coverage/<id:group_id>/",
        involvement.CoverageRecord.as_view(),
        name="cycle-coverage-record",
    ),
    path("audit/", views.CycleAudit.as_view(), name="cycle-audit"),
    path("audit/verify/", views.CycleAuditVerify.as_view(), name="cycle-audit-verify"),
    path("audit/export/", views.CycleAuditExport.as_view(), name="cycle-audit-export"),
]

v1 = [
    path("cycles/", views.CycleList.as_view(), name="cycles"),
    path("cycles/<id:cycle_id>/", include(cycle_urls)),
    path(
        "organisations/<id:organisation_id>/self-assessments/",
        involvement.SelfAssessmentList.as_view(),
        name="organisation-self-assessments",
    ),
    path(
        "organisations/<id:organisation_id>/self-assessments/proposal/",
        involvement.SelfAssessmentProposal.as_view(),
        name="organisation-self-assessment-proposal",
    ),
    path("audit/", views.LedgerList.as_view(), name="ledger"),
    path("audit/verify/", views.LedgerVerify.as_view(), name="ledger-verify"),
    path("notifications/", notifications.NotificationList.as_view(), name="notifications"),
    path(
        "notifications/read/",
        notifications.NotificationReadAll.as_view(),
        name="notifications-read",
    ),
    path(
        "notifications/<id:notification_id>/read/",
        notifications.NotificationRead.as_view(),
        name="notification-read",
    ),
    path(
        "notifications/preference/",
        notifications.NotificationPreferenceView.as_view(),
        name="notification-preference",
    ),
    path("tokens/", views.TokenList.as_view(), name="tokens"),
    path("tokens/<id:token_id>/revoke/", views.TokenRevoke.as_view(), name="token-revoke"),
]

app_name = "api"
urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^[\s\S]*$", NoSuchEndpoint.as_view(), name="no-such-endpoint"),
]

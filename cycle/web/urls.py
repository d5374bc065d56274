"""The web pages' URLs (namespace ``web``), mounted at the site's root."""

from django.urls import include, path

from .views import (
    account,
    commissioner,
    cycles,
    duty,
    meetings,
    notifications,
    procurement,
    procurement_steps,
    representative,
)

app_name = "web"

cycle_pages = [
    path("", cycles.CycleView.as_view(), name="cycle"),
    # Role boundaries
    path("boundaries/", commissioner.BoundariesView.as_view(), name="boundaries"),
    path("boundaries/record/", commissioner.BoundariesEditView.as_view(), name="boundaries-edit"),
    path(
        "boundaries/acknowledge/",
        representative.AcknowledgeView.as_view(),
        name="boundaries-acknowledge",
    ),
    # Budget
    path("budget/", commissioner.BudgetView.as_view(), name="budget"),
    path("budget/record/", commissioner.BudgetEditView.as_view(), name="budget-edit"),
    # Panel, involvement lead, working agreement
    path("panel/", commissioner.PanelView.as_view(), name="panel"),
    path("panel/add/", commissioner.MemberAddView.as_view(), name="panel-add"),
    path("panel/remove/", commissioner.MemberRemoveView.as_view(), name="panel-remove"),
    path("panel/tender/", commissioner.TenderPanelView.as_view(), name="panel-tender"),
    path("panel/lead/", commissioner.InvolvementLeadView.as_view(), name="involvement-lead"),
    path("agreement/", commissioner.AgreementView.as_view(), name="agreement"),
    path("agreement/record/", commissioner.AgreementEditView.as_view(), name="agreement-edit"),
    path("agreement/sign/", representative.AgreementSignView.as_view(), name="agreement-sign"),
    # Sign-off
    path("sign-offs/", commissioner.SignOffsView.as_view(), name="signoffs"),
    path("sign-off/ask/", commissioner.SignOffRequestView.as_view(), name="signoff-request"),
    path("sign-off/", representative.SignOffView.as_view(), name="signoff"),
    path("sign-off/withdraw/", representative.WithdrawView.as_view(), name="dissent-withdraw"),
    # Input and answers
    path("inputs/", commissioner.InputsView.as_view(), name="inputs"),
    path("inputs/new/", representative.InputNewView.as_view(), name="input-new"),
    path("inputs/<int:input_id>/answer/", commissioner.RespondView.as_view(), name="input-respond"),
    # Decisions, interests, reopening
    path("decisions/", commissioner.DecisionsView.as_view(), name="decisions"),
    path("decisions/record/", commissioner.DecisionRecordView.as_view(), name="decision-record"),
    path("interests/", representative.InterestsView.as_view(), name="interests"),
    # Decision meetings and their papers
    path("meetings/", meetings.MeetingsView.as_view(), name="meetings"),
    path("meetings/new/", meetings.MeetingNewView.as_view(), name="meeting-new"),
    path(
        "meetings/<int:meeting_id>/change/",
        meetings.MeetingChangeView.as_view(),
        name="meeting-change",
    ),
    path(
        "meetings/<int:meeting_id>/papers/",
        meetings.MeetingPapersView.as_view(),
        name="meeting-papers",
    ),
    path("reopen/", commissioner.ReopenView.as_view(), name="reopen"),
    # The duty to involve and consultations
    path("duty/", duty.DutyView.as_view(), name="duty"),
    path("duty/assess/", duty.DutyAssessView.as_view(), name="duty-assess"),
    path("duty/change/", duty.ProposalChangeView.as_view(), name="duty-change"),
    path("consultations/", duty.ConsultationsView.as_view(), name="consultations"),
    path("consultations/open/", duty.ConsultationOpenView.as_view(), name="consultation-open"),
    path(
        "consultations/<int:consultation_id>/consider/",
        duty.ConsultationConsiderView.as_view(),
        name="consultation-consider",
    ),
    path("pressures/", duty.PressuresView.as_view(), name="pressures"),
    path("pressures/record/", duty.PressureRecordView.as_view(), name="pressure-record"),
    path(
        "pressures/<int:pressure_id>/disclose/",
        duty.PressureDiscloseView.as_view(),
        name="pressure-disclose",
    ),
    path("coverage/", duty.CoverageView.as_view(), name="coverage"),
    path("coverage/add/", duty.CoverageGroupAddView.as_view(), name="coverage-add"),
    path("coverage/<int:group_id>/", duty.CoverageRecordView.as_view(), name="coverage-record"),
    # Procurement: the tender, scoring and views on a bid, the notice of intention
    path("procurement/", procurement.ProcurementView.as_view(), name="procurement"),
    path(
        "procurement/bids/<int:bid_id>/",
        procurement.BidScoreView.as_view(),
        name="procurement-bid",
    ),
    path(
        "procurement/bids/<int:bid_id>/views/",
        procurement.BidViewsView.as_view(),
        name="procurement-bid-views",
    ),
    path(
        "procurement/bids/<int:bid_id>/interest/",
        procurement.BidInterestView.as_view(),
        name="procurement-bid-interest",
    ),
    path("procurement/notice/", procurement.NoticeView.as_view(), name="procurement-notice"),
    # Procurement: the steps that record something
    path("procurement/route/", procurement_steps.RouteView.as_view(), name="procurement-route"),
    path(
        "procurement/tender/",
        procurement_steps.TenderOpenView.as_view(),
        name="procurement-tender",
    ),
    path(
        "procurement/bids/new/",
        procurement_steps.BidRecordView.as_view(),
        name="procurement-bid-new",
    ),
    path(
        "procurement/bids/<int:bid_id>/moderate/",
        procurement_steps.ModerateView.as_view(),
        name="procurement-moderate",
    ),
    path(
        "procurement/meeting/",
        procurement_steps.MeetingScheduleView.as_view(),
        name="procurement-meeting",
    ),
    path(
        "procurement/meetings/<int:meeting_id>/papers/",
        procurement_steps.MeetingPapersView.as_view(),
        name="procurement-papers",
    ),
    path(
        "procurement/award/",
        procurement_steps.AwardDecideView.as_view(),
        name="procurement-award",
    ),
    path(
        "procurement/notice/publish/",
        procurement_steps.NoticePublishView.as_view(),
        name="procurement-notice-publish",
    ),
    path(
        "procurement/representations/new/",
        procurement_steps.RepresentationRecordView.as_view(),
        name="procurement-representation",
    ),
    path(
        "procurement/representations/<int:representation_id>/review/",
        procurement_steps.RepresentationReviewView.as_view(),
        name="procurement-review",
    ),
    path(
        "procurement/contract/",
        procurement_steps.ContractAwardView.as_view(),
        name="procurement-contract",
    ),
]

urlpatterns = [
    path("", cycles.HomeView.as_view(), name="home"),
    path("help/", account.HelpView.as_view(), name="help"),
    path("cycles/new/", cycles.CycleCreateView.as_view(), name="cycle-create"),
    path("notifications/", notifications.NotificationsView.as_view(), name="notifications"),
    path(
        "notifications/undelivered/",
        notifications.UndeliverableView.as_view(),
        name="notifications-undeliverable",
    ),
    path(
        "notifications/settings/",
        notifications.NotificationSettingsView.as_view(),
        name="notification-settings",
    ),
    path("cycles/<int:cycle_id>/", include(cycle_pages)),
    # Governance board members' pages.
    path("governance/", include("cycle.web.governance.urls")),
]

"""The ledger's vocabulary: every action an audit event can name, declared once.

:class:`LedgerAction` is what happened (``stage.advanced``). Each service declares the actions it
writes (``@service(LedgerAction.STAGE_ADVANCED)``, see ``cycle.service_support``) and appends them
by these constants; compliance, the report, the BPMN replay and the generator read them by the same
constants, so no module spells an action as a string of its own.

:class:`Operation` is what was attempted: a refused event is recorded under the name of the
operation refused (``stage_advance``), as every ledger written so far records it, and its payload
names the action it refused (``"refused": "stage.advanced"``). A service whose name is not an
operation here fails at import, so renaming a function cannot silently rename ledger events.

To add an action: a member of :class:`LedgerAction` (and, for a new service, of
:class:`Operation`), then declare it on the service that writes it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LedgerAction(models.TextChoices):
    CYCLE_CREATED = "cycle.created", _("Cycle created")
    INVOLVEMENT_LEAD_NAMED = "cycle.involvement_lead_named", _("Involvement lead named")
    PANEL_JOINED = "panel.joined", _("Member joined the panel")
    PANEL_LEFT = "panel.left", _("Member left the panel")
    TENDER_PANEL_JOINED = "panel.tender_panel_joined", _("Member joined the tender panel")
    TENDER_PANEL_LEFT = "panel.tender_panel_left", _("Member left the tender panel")
    AGREEMENT_RECORDED = "agreement.recorded", _("Working agreement recorded")
    AGREEMENT_SIGNED = "agreement.signed", _("Working agreement signed")
    CONFLICT_DECLARED = "conflict.declared", _("Interests declared")
    BOUNDARIES_AGREED = "boundaries.agreed", _("Role boundaries recorded")
    BOUNDARIES_ACKNOWLEDGED = "boundaries.acknowledged", _("Role boundaries acknowledged")
    BUDGET_DISCLOSED = "budget.disclosed", _("Budget disclosed")
    SIGNOFF_REQUESTED = "signoff.requested", _("Sign-off asked for")
    SIGNOFF_ATTESTED = "signoff.attested", _("Signed off")
    SIGNOFF_DISSENTED = "signoff.dissented", _("Dissented")
    DISSENT_WITHDRAWN = "signoff.dissent_withdrawn", _("Dissent withdrawn")
    STAGE_ADVANCED = "stage.advanced", _("Stage passed")
    STAGE_REOPENED = "stage.reopened", _("Stage reopened")
    GATE_OVERRIDDEN = "gate.overridden", _("Gate overridden")
    DECISION_RECORDED = "decision.recorded", _("Decision recorded")
    INPUT_SUBMITTED = "input.submitted", _("Input submitted")
    INPUT_RESPONDED = "input.responded", _("Input answered")
    INPUT_FLAGGED_OVERDUE = "input.flagged_overdue", _("Input overdue")
    MEETING_SCHEDULED = "meeting.scheduled", _("Decision meeting scheduled")
    MEETING_PAPERS_ISSUED = "meeting.papers_issued", _("Decision papers issued")
    MEETING_CHANGED = "meeting.changed", _("Decision meeting changed")
    REMINDER_SENT = "reminder.sent", _("Reminder sent")
    REMINDER_ESCALATED_TO_LEAD = "reminder.escalated_to_lead", _("Escalated to the lead")
    REMINDER_ESCALATED_TO_BOARD = "reminder.escalated_to_board", _("Escalated to the board")
    TOKEN_CREATED = "token.created", _("API token created")
    TOKEN_REVOKED = "token.revoked", _("API token revoked")

    ACCOUNT_CREATED = "account.created", _("Account created")
    ACCOUNT_PASSWORD_SET = "account.password_set", _("Password set")
    ACCOUNT_ACTIVATED = "account.activated", _("Account activated")
    ACCOUNT_DEACTIVATED = "account.deactivated", _("Account deactivated")
    ROLE_GRANTED = "role.granted", _("Role granted")
    ROLE_REVOKED = "role.revoked", _("Role revoked")
    STAFF_ADDED = "staff.added", _("Staff member added")
    STAFF_REMOVED = "staff.removed", _("Staff member removed")
    BOARD_MEMBER_ADDED = "board.member_added", _("Board member added")
    BOARD_MEMBER_REMOVED = "board.member_removed", _("Board member removed")
    BOARD_OVERSIGHT_ADDED = "board.oversight_added", _("Board oversight added")
    BOARD_OVERSIGHT_REMOVED = "board.oversight_removed", _("Board oversight removed")
    PROCUREMENT_ROUTE_RECORDED = "procurement.route_recorded", _("Procurement route recorded")
    PROCUREMENT_TENDER_OPENED = "procurement.tender_opened", _("Tender opened")
    PROCUREMENT_BID_RECORDED = "procurement.bid_recorded", _("Bid recorded")
    PROCUREMENT_BID_INTEREST_DECLARED = (
        "procurement.bid_interest_declared",
        _("Interest in a bid declared"),
    )
    PROCUREMENT_BID_SCORED = "procurement.bid_scored", _("Bid scored")
    PROCUREMENT_BID_COMMENTED = "procurement.bid_commented", _("Bid commented on")
    PROCUREMENT_SCORE_MODERATED = "procurement.score_moderated", _("Score moderated")
    PROCUREMENT_AWARD_DECIDED = "procurement.award_decided", _("Award decided")
    PROCUREMENT_NOTICE_PUBLISHED = "procurement.notice_published", _("Notice published")
    PROCUREMENT_REPRESENTATION_RECORDED = (
        "procurement.representation_recorded",
        _("Representation recorded"),
    )
    PROCUREMENT_REPRESENTATION_REVIEWED = (
        "procurement.representation_reviewed",
        _("Representation reviewed"),
    )
    PROCUREMENT_CONTRACT_AWARDED = "procurement.contract_awarded", _("Contract awarded")
    DUTY_ASSESSED = "duty.assessed", _("Duty to involve assessed")
    PROPOSAL_CHANGED = "proposal.changed", _("Proposal changed")
    CONSULTATION_OPENED = "consultation.opened", _("Consultation opened")
    CONSULTATION_CONSIDERED = "consultation.considered", _("Consultation responses considered")
    PRESSURE_RECORDED = "pressure.recorded", _("External pressure recorded")
    PRESSURE_DISCLOSED = "pressure.disclosed", _("External pressure told to the panel")
    SELF_ASSESSMENT_RECORDED = "self_assessment.recorded", _("Self-assessment recorded")
    COVERAGE_GROUP_ADDED = "coverage.group_added", _("Group to hear from added")
    COVERAGE_RECORDED = "coverage.recorded", _("Who speaks for a group recorded")


class Operation(models.TextChoices):
    """The operations a refusal is recorded under: one per service, named as the service is."""

    CYCLE_CREATE = "cycle_create"
    INVOLVEMENT_LEAD_NAME = "involvement_lead_name"
    MEMBERSHIP_ADD = "membership_add"
    MEMBERSHIP_REMOVE = "membership_remove"
    MEMBERSHIP_LEAVE = "membership_leave"
    MEMBERSHIP_SET_TENDER_PANEL = "membership_set_tender_panel"
    AGREEMENT_RECORD = "agreement_record"
    AGREEMENT_SIGN = "agreement_sign"
    CONFLICT_DECLARE = "conflict_declare"
    BOUNDARIES_AGREE = "boundaries_agree"
    BOUNDARIES_ACKNOWLEDGE = "boundaries_acknowledge"
    BUDGET_DISCLOSE = "budget_disclose"
    SIGNOFF_REQUEST = "signoff_request"
    SIGNOFF_RECORD = "signoff_record"
    DISSENT_WITHDRAW = "dissent_withdraw"
    STAGE_ADVANCE = "stage_advance"
    STAGE_REOPEN = "stage_reopen"
    GATE_OVERRIDE = "gate_override"
    DECISION_RECORD = "decision_record"
    INPUT_SUBMIT = "input_submit"
    INPUT_RESPOND = "input_respond"
    INPUT_FLAG_OVERDUE = "input_flag_overdue"
    MEETING_SCHEDULE = "meeting_schedule"
    MEETING_PAPERS_ISSUE = "meeting_papers_issue"
    MEETING_CHANGE = "meeting_change"
    REMINDERS_SEND_FOR_CYCLE = "reminders_send_for_cycle"
    TOKEN_CREATE = "token_create"
    TOKEN_REVOKE = "token_revoke"
    ACCOUNT_CREATE = "account_create"
    ACCOUNT_SET_PASSWORD = "account_set_password"
    ACCOUNT_ACTIVATE = "account_activate"
    ACCOUNT_DEACTIVATE = "account_deactivate"
    ROLE_GRANT = "role_grant"
    ROLE_REVOKE = "role_revoke"
    STAFF_ADD = "staff_add"
    STAFF_REMOVE = "staff_remove"
    BOARD_MEMBER_ADD = "board_member_add"
    BOARD_MEMBER_REMOVE = "board_member_remove"
    BOARD_OVERSIGHT_ADD = "board_oversight_add"
    BOARD_OVERSIGHT_REMOVE = "board_oversight_remove"
    ROUTE_RECORD = "route_record"
    TENDER_OPEN = "tender_open"
    BID_RECORD = "bid_record"
    BID_INTEREST_DECLARE = "bid_interest_declare"
    SCORE_RECORD = "score_record"
    BID_COMMENT_RECORD = "bid_comment_record"
    SCORE_MODERATE = "score_moderate"
    AWARD_DECIDE = "award_decide"
    NOTICE_PUBLISH = "notice_publish"
    REPRESENTATION_RECORD = "representation_record"
    REPRESENTATION_REVIEW = "representation_review"
    CONTRACT_AWARD_RECORD = "contract_award_record"
    DUTY_ASSESS = "duty_assess"
    PROPOSAL_CHANGE_RECORD = "proposal_change_record"
    CONSULTATION_OPEN = "consultation_open"
    CONSULTATION_CONSIDER = "consultation_consider"
    PRESSURE_RECORD = "pressure_record"
    PRESSURE_DISCLOSE = "pressure_disclose"
    SELF_ASSESSMENT_RECORD = "self_assessment_record"
    COVERAGE_GROUP_ADD = "coverage_group_add"
    COVERAGE_RECORD = "coverage_record"

"""Who is told what, in plain words, when something changes in a cycle.

Each service that changes something people must hear about makes one call here, inside its own
transaction, after its ledger event: :func:`budget_disclosed`, :func:`boundaries_agreed`,
:func:`signoff_requested`, :func:`input_responded`, :func:`signoff_recorded` (a dissent),
:func:`gate_overridden`, :func:`member_joined`, :func:`member_left`, :func:`stage_reopened`,
:func:`pressure_recorded`. Each
says who is told and builds the message; :func:`cycle.outbox.write` stores them, so they are
committed with the change and delivered after it.

Below those are the reads and writes of a person's own notifications: their inbox, marking read,
and their choice of e-mail or in-app only (the in-app notification is never skipped); and, for an
involvement lead, the e-mails of their cycles that could not be delivered, and trying one again.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from roles.models import GovernanceBoard, PanelMembership

from . import selectors
from .errors import Conflict, InvalidRequest, NotFound
from .gates import PAPERS_NOTICE_DAYS
from .i18n import gettext_lazy as _
from .models import (
    BudgetDisclosure,
    CommissioningCycle,
    DecisionMeeting,
    GateOverride,
    InputResponse,
    Notification,
    NotificationPreference,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
    UserInput,
)
from .outbox import Message, dispatch, write
from .stages import get_template

Kind = Notification.Kind
Channel = Notification.Channel

# Who is told


def board_member_ids(cycle: CommissioningCycle) -> set[int]:
    """Members of every governance board that oversees the cycle's organisation."""
    return set(
        GovernanceBoard.members.through.objects.filter(
            governanceboard__organisations=cycle.organisation_id
        ).values_list("user_id", flat=True)
    )


def involvement_lead_id(cycle: CommissioningCycle) -> int:
    """The cycle's involvement lead, or its lead commissioner while none is named."""
    return int(cycle.involvement_lead_id or cycle.lead_commissioner_id)


def lead_and_board(cycle: CommissioningCycle) -> set[int]:
    return {involvement_lead_id(cycle)} | board_member_ids(cycle)


# Plain words


def money(amount: Decimal | None, currency: str = "GBP") -> str:
    """£1,200,000 or £1,200,000.50; other currencies by their code."""
    if amount is None:
        return "withheld"
    figure = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return f"£{figure}" if currency == "GBP" else f"{currency} {figure}"


def person(user_id: int | None) -> str:
    if user_id is None:
        return "Someone"
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return "Someone"
    return user.get_full_name() or user.get_username()


def stage_name(cycle: CommissioningCycle, stage_key: str) -> str:
    try:
        return get_template(cycle.template_key).get(stage_key).name
    except KeyError:
        return stage_key


def _budget_change(previous: BudgetDisclosure | None, current: BudgetDisclosure) -> str:
    new = money(current.amount, current.currency)
    if previous is None:
        if current.amount is None:
            return f"The budget cannot be given yet. The reason: {current.withheld_reason}"
        return f"The budget is {new}."
    old = money(previous.amount, previous.currency)
    if current.amount is None:
        was = "" if previous.amount is None else f" (it was {old})"
        return f"The budget is no longer given{was}. The reason: {current.withheld_reason}"
    if previous.amount is None:
        return f"The budget is now given: {new}. Before, it was withheld."
    if current.currency != previous.currency or current.amount == previous.amount:
        return f"The budget is {new} (it was {old})."
    direction = "down" if current.amount < previous.amount else "up"
    return f"The budget went {direction} from {old} to {new}."


def _budget_message(
    cycle: CommissioningCycle, previous: BudgetDisclosure | None, current: BudgetDisclosure
) -> Message:
    change = _budget_change(previous, current)
    lines = [f"{change}", ""]
    if current.constraints and (previous is None or previous.constraints != current.constraints):
        lines.append(f"What the money must cover, or other limits: {current.constraints}")
        lines.append("")
    lines.append(f"{person(current.disclosed_by_id)} recorded this for {cycle.title}.")
    if previous is not None:
        lines.append(
            "What you told us before about how it went no longer counts, because the money "
            "changed. Please tell us again if you took part in the way that was agreed."
        )
    subject = change if len(change) <= 120 else "The budget has changed"
    return Message(subject=f"{cycle.title}: {subject}", body="\n".join(lines))


_TERM_LABELS = {
    "purpose": "Why users are involved",
    "user_role": "What users do",
    "influence": "How much users can change",
    "decision_maker": "Who decides",
    "commissioner_authority": "What the commissioner can decide",
    "fixed_matters": "What is fixed",
    "open_matters": "What can still change",
}
_TERMS = tuple((name, _TERM_LABELS[name]) for name in RoleBoundaryAgreement.TERMS)


def _term(agreement: RoleBoundaryAgreement, name: str) -> str:
    if name == "influence":
        return str(agreement.get_influence_display())
    return str(getattr(agreement, name)) or "(nothing recorded)"


def _boundaries_message(
    cycle: CommissioningCycle,
    previous: RoleBoundaryAgreement | None,
    agreement: RoleBoundaryAgreement,
) -> Message:
    stage = stage_name(cycle, agreement.stage_key)
    # In the words of the representative's pages: "Your part in this step".
    if previous is None:
        lines = [f"We wrote down your part in '{stage}':"]
        lines += [f"- {label}: {_term(agreement, name)}" for name, label in _TERMS]
        subject = f"{cycle.title}: please read your part in '{stage}'"
    else:
        changed = [
            f"- {label}: it was \u201c{_term(previous, name)}\u201d, "
            f"now \u201c{_term(agreement, name)}\u201d."
            for name, label in _TERMS
            if getattr(previous, name) != getattr(agreement, name)
        ]
        if changed:
            lines = [f"Your part in '{stage}' has changed:", *changed]
            subject = f"{cycle.title}: your part in '{stage}' has changed"
        else:
            lines = [f"Your part in '{stage}' was written down again. Nothing in it changed."]
            subject = f"{cycle.title}: your part in '{stage}' was written down again"
    lines += [
        "",
        f"Please read it and say you have read it. This is version {agreement.version}. We can "
        "only ask you how it went when you have read it.",
    ]
    return Message(subject=subject, body="\n".join(lines))


# One call from each service


def budget_disclosed(
    *,
    cycle: CommissioningCycle,
    disclosure: BudgetDisclosure,
    previous: BudgetDisclosure | None,
) -> list[Notification]:
    """Tell every active panel member what the budget is now, and what it was."""
    return write(
        kind=Kind.BUDGET_CHANGED,
        cycle=cycle,
        recipient_ids=selectors.active_member_ids(cycle),
        message=_budget_message(cycle, previous, disclosure),
        key=f"budget:{disclosure.pk}",
    )


def boundaries_agreed(
    *,
    cycle: CommissioningCycle,
    agreement: RoleBoundaryAgreement,
    previous: RoleBoundaryAgreement | None,
) -> list[Notification]:
    """Tell every active panel member the new role boundaries, or what changed in them."""
    return write(
        kind=Kind.BOUNDARIES_CHANGED,
        cycle=cycle,
        recipient_ids=selectors.active_member_ids(cycle),
        message=_boundaries_message(cycle, previous, agreement),
        key=f"boundaries:{agreement.pk}",
    )


def signoff_requested(
    *,
    cycle: CommissioningCycle,
    member_ids: Iterable[int],
    visit_id: int | None = None,
    visit_just_opened: bool = False,
) -> list[Notification]:
    """Ask members for their sign-off on the current stage (once per member and stage visit).
    A visit opened in this transaction (``visit_just_opened``) has asked nobody yet, so nobody
    is looked for among those already asked."""
    visit_id = visit_id if visit_id is not None else _open_visit_id(cycle)
    stage = stage_name(cycle, cycle.current_stage)
    return write(
        kind=Kind.SIGNOFF_REQUESTED,
        cycle=cycle,
        recipient_ids=member_ids,
        message=Message(
            subject=f"{cycle.title}: please tell us how '{stage}' went",
            body=(
                f"Did you take part in '{stage}' in the way we agreed? Were you told about the "
                "money? Please tell us yes or no. If no, tell us what went wrong.\n\n"
                "This is not about whether you like a choice that was made. It only says if you "
                "took part as agreed."
            ),
        ),
        key=f"signoff-requested:{visit_id}",
        skip_existing=not visit_just_opened,
    )


def _open_visit_id(cycle: CommissioningCycle) -> int | None:
    visit = selectors.open_visit(cycle)
    return visit.pk if visit is not None else None


def input_responded(
    *, cycle: CommissioningCycle, user_input: UserInput, response: InputResponse
) -> list[Notification]:
    """Tell whoever gave the input (and the whole panel, for the panel's input) the answer."""
    recipients = {user_input.submitted_by_id}
    if user_input.source == UserInput.Source.PANEL:
        recipients |= selectors.active_member_ids(cycle)
    said = user_input.text if len(user_input.text) <= 200 else user_input.text[:197] + "…"
    if response.kind == InputResponse.Kind.WE_DID:
        answer, subject = f"We did: {response.text}", "what we did with what you said"
    elif response.kind == InputResponse.Kind.WE_COULD_NOT:
        answer, subject = f"We couldn't, because: {response.text}", "an answer to what you said"
    else:
        answer = "We are still thinking about it" + (f": {response.text}" if response.text else ".")
        subject = "we are still thinking about what you said"
    return write(
        kind=Kind.INPUT_ANSWERED,
        cycle=cycle,
        recipient_ids=recipients,
        message=Message(
            subject=f"{cycle.title}: {subject}",
            body=(
                f"You said: \u201c{said}\u201d\n\n{answer}\n\n"
                f"{person(response.responded_by_id)} answered this."
            ),
        ),
        key=f"input-response:{response.pk}",
    )


def signoff_recorded(*, cycle: CommissioningCycle, signoff: SignOff) -> list[Notification]:
    """A dissent tells the involvement lead and the governance board; an attestation nobody."""
    if signoff.kind != SignOff.Kind.DISSENT:
        return []
    stage = stage_name(cycle, cycle.current_stage)
    return write(
        kind=Kind.DISSENT_RECORDED,
        cycle=cycle,
        recipient_ids=lead_and_board(cycle),
        message=Message(
            subject=f"{cycle.title}: {person(signoff.member_id)} recorded dissent",
            body=(
                f"{person(signoff.member_id)} says involvement in '{stage}' did not happen as "
                f"agreed. Their reasons:\n\n{signoff.reasons}\n\nThe gate stays closed until the "
                "dissent is withdrawn, or a governance board member overrides it with written "
                "reasons."
            ),
        ),
        key=f"dissent:{signoff.pk}",
    )


WAIVED_IN_PLAIN_WORDS = {
    "boundaries.unacknowledged": "Not everyone had said they read their part",
    "signoff.stale": "Some told us how it went before something changed",
    "signoff.quorum": "Not enough of the panel had told us how it went",
    "signoff.dissent": "Someone said it did not happen as agreed",
    "agreement.unsigned": "Not everyone had signed the working agreement",
    "papers.late": "The papers for the meeting came late",
    "papers.not_issued": "The papers for the meeting were not sent",
}
"""What a governance board may let go, in the words of the representative's pages (the panel
is told of every override)."""


def gate_overridden(*, cycle: CommissioningCycle, override: GateOverride) -> list[Notification]:
    """Tell the involvement lead, the governance board and the panel that a gate was overridden."""
    stage = stage_name(cycle, cycle.current_stage)
    codes = [code for code in override.unmet_codes.split(",") if code]
    waived = "".join(f"\n- {WAIVED_IN_PLAIN_WORDS.get(code, code)}." for code in codes)
    return write(
        kind=Kind.GATE_OVERRIDDEN,
        cycle=cycle,
        recipient_ids=lead_and_board(cycle) | selectors.active_member_ids(cycle),
        message=Message(
            subject=f"{cycle.title}: '{stage}' ended before everything was done",
            body=(
                f"{person(override.by_id)}, for the governance board (the people who check the "
                f"plan), let '{stage}' end before everything was done. What was not done:"
                f"{waived}\n\n"
                f"Their reasons:\n\n{override.reason}\n\nEveryone who checks the plan can "
                "read this, and it stays on the record."
            ),
        ),
        key=f"override:{override.pk}",
    )


def member_joined(*, cycle: CommissioningCycle, membership: PanelMembership) -> list[Notification]:
    """Welcome the new member, and tell the involvement lead."""
    name = person(membership.member_id)
    return write(
        kind=Kind.MEMBER_JOINED,
        cycle=cycle,
        recipient_ids={membership.member_id, involvement_lead_id(cycle)},
        message=lambda pk: Message(
            subject=f"{cycle.title}: you have joined the panel"
            if pk == membership.member_id
            else f"{cycle.title}: {name} joined the panel",
            body=(
                f"You are now on the panel of {cycle.title}. Please read your part in this "
                "step, and say you have read it."
                if pk == membership.member_id
                else f"{name} joined the panel of {cycle.title}"
                + (f", representing {membership.represents}." if membership.represents else ".")
            ),
        ),
        key=f"joined:{membership.pk}",
    )


def member_left(*, cycle: CommissioningCycle, membership: PanelMembership) -> list[Notification]:
    """Tell the member who left (or was taken off) and the involvement lead."""
    name = person(membership.member_id)
    reason = f" The reason given: {membership.left_reason}" if membership.left_reason else ""
    return write(
        kind=Kind.MEMBER_LEFT,
        cycle=cycle,
        recipient_ids={membership.member_id, involvement_lead_id(cycle)},
        message=lambda pk: Message(
            subject=f"{cycle.title}: you are no longer on the panel"
            if pk == membership.member_id
            else f"{cycle.title}: {name} left the panel",
            body=(
                f"You are no longer on the panel of {cycle.title}.{reason}"
                if pk == membership.member_id
                else f"{name} is no longer on the panel of {cycle.title}.{reason} Their "
                "sign-offs stop counting for the open stage."
            ),
        ),
        key=f"left:{membership.pk}",
    )


def stage_reopened(*, cycle: CommissioningCycle, visit: StageVisit) -> list[Notification]:
    """Tell the panel that an earlier stage is open again, and why."""
    stage = stage_name(cycle, visit.stage_key)
    return write(
        kind=Kind.STAGE_REOPENED,
        cycle=cycle,
        recipient_ids=selectors.active_member_ids(cycle),
        message=Message(
            subject=f"{cycle.title}: '{stage}' is open again",
            body=(
                f"{person(visit.opened_by_id)} opened '{stage}' again. The reason:\n\n"
                f"{visit.opened_reason}\n\nPlease read your part in it again, and tell us again "
                "if you took part in the way that was agreed."
            ),
        ),
        key=f"reopened:{visit.pk}",
    )


def pressure_recorded(
    *,
    cycle: CommissioningCycle,
    pressure: Any,
    affected: Iterable[str],
    disclosed_now: bool = False,
) -> list[Notification]:
    """Tell the panel about an external pressure and what it means for them, or, while it cannot
    be told yet, that there is one and why it cannot be told."""
    stages = [stage_name(cycle, key) for key in affected]
    where = f"\n\nIt affects: {', '.join(stages)}." if stages else ""
    if pressure.disclosed:
        lead = "can now be told" if disclosed_now else "has been recorded"
        subject = f"{cycle.title}: {pressure.title}"
        body = (
            f"Something outside the cycle {lead}: {pressure.title} "
            f"({pressure.get_category_display().lower()}).\n\n"
            f"What it means for people who use services:\n\n{pressure.implication}{where}"
        )
    else:
        subject = f"{cycle.title}: a pressure on the cycle that cannot be told yet"
        body = (
            f"Something outside the cycle ({pressure.get_category_display().lower()}) bears on "
            f"it, but the details cannot be given yet. The reason:\n\n{pressure.withheld_reason}"
            f"{where}\n\nYou will be told what it means for you as soon as it can be given."
        )
    if pressure.reopened_stage and not disclosed_now:
        body += f"\n\nBecause of it, '{stage_name(cycle, pressure.reopened_stage)}' is open again."
    return write(
        kind=Kind.PRESSURE_RECORDED,
        cycle=cycle,
        recipient_ids=selectors.active_member_ids(cycle),
        message=Message(subject=subject, body=body),
        key=f"pressure:{pressure.pk}:{'disclosed' if disclosed_now else 'recorded'}",
    )


def input_overdue(
    *, cycle: CommissioningCycle, user_input: UserInput, working_days: int
) -> list[Notification]:
    """Tell the lead commissioner that input has waited too long for an answer."""
    said = user_input.text if len(user_input.text) <= 200 else user_input.text[:197] + "…"
    return write(
        kind=Kind.INPUT_OVERDUE,
        cycle=cycle,
        recipient_ids=[cycle.lead_commissioner_id],
        message=Message(
            subject=f"{cycle.title}: input waiting {working_days} working days for an answer",
            body=(
                f"{person(user_input.submitted_by_id)} said: \u201c{said}\u201d\n\n"
                f"It has had no answer for {working_days} working days. Please answer it: "
                '"we did", or "we couldn\'t, because …". If it stays unanswered the governance '
                "board will be told."
            ),
        ),
        key=f"input-overdue:{user_input.pk}",
    )


def _when(day: Any) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def papers_issued(*, cycle: CommissioningCycle, meeting: DecisionMeeting) -> list[Notification]:
    """Tell the panel the papers for a decision meeting have been sent, and how long they have."""
    assert meeting.papers_issued_on is not None
    notice = (meeting.held_on - meeting.papers_issued_on).days
    short = (
        f" That is only {notice} days before the meeting; the guide asks for at least "
        f"{PAPERS_NOTICE_DAYS}. This is on the record."
        if notice < PAPERS_NOTICE_DAYS
        else ""
    )
    return write(
        kind=Kind.PAPERS_ISSUED,
        cycle=cycle,
        recipient_ids=selectors.active_member_ids(cycle),
        message=Message(
            subject=f"{cycle.title}: papers for the decision meeting on {_when(meeting.held_on)}",
            body=(
                f"We sent you the papers for the meeting on {_when(meeting.held_on)}. We sent "
                f"them on {_when(meeting.papers_issued_on)}.{short}\n\n"
                f"The meeting is of {meeting.forum}. {person(meeting.decision_maker_id)} "
                "decides. Please read the papers. Then tell us what you think, before the "
                "meeting."
            ),
        ),
        key=f"papers:{meeting.pk}:{meeting.papers_issued_on.isoformat()}",
        skip_existing=True,
    )


def meeting_changed(
    *, cycle: CommissioningCycle, meeting: DecisionMeeting, before: str
) -> list[Notification]:
    """Tell the panel a decision meeting has moved, or is now somewhere else or decided by
    someone else."""
    return write(
        kind=Kind.MEETING_CHANGED,
        cycle=cycle,
        recipient_ids=selectors.active_member_ids(cycle),
        message=Message(
            subject=f"{cycle.title}: the decision meeting has changed",
            body=(
                f"The decision meeting was {before}. It is now {meeting.forum} on "
                f"{_when(meeting.held_on)}, and {person(meeting.decision_maker_id)} decides. "
                "If you want your views heard, tell the commissioners before then."
            ),
        ),
        key=f"meeting-changed:{meeting.pk}:{timezone.now().isoformat()}",
    )


def meeting_soon(
    *, cycle: CommissioningCycle, meeting: DecisionMeeting, member_ids: Iterable[int]
) -> list[Notification]:
    """Remind panel members that a decision meeting is coming up."""
    papers = (
        f"The papers were sent on {_when(meeting.papers_issued_on)}."
        if meeting.papers_issued_on
        else "The papers have not been sent to the panel yet."
    )
    return write(
        kind=Kind.MEETING_SOON,
        cycle=cycle,
        recipient_ids=member_ids,
        message=Message(
            subject=f"{cycle.title}: the decision meeting is on {_when(meeting.held_on)}",
            body=(
                f"{meeting.forum} meets on {_when(meeting.held_on)} to decide. {papers} "
                "If you want them to hear what you think, tell us before then."
            ),
        ),
        key=f"meeting-soon:{meeting.pk}",
        skip_existing=True,
    )


# A person's own notifications


def inbox(user: Any, *, limit: int = 50) -> QuerySet[Notification]:
    """The user's notifications, newest first, with their cycles (one query)."""
    return Notification.objects.filter(recipient_id=user.pk).select_related("cycle")[:limit]


def unread_count(user: Any) -> int:
    return Notification.objects.filter(recipient_id=user.pk).unread().count()


def channel_for(user: Any) -> str:
    chosen = (
        NotificationPreference.objects.filter(user_id=user.pk)
        .values_list("channel", flat=True)
        .first()
    )
    return chosen or Channel.EMAIL


@transaction.atomic
def notifications_mark_read(*, actor: Any, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the actor's own notifications read (all of them when no ids are given).

    Someone else's notifications are never touched, whatever ids are passed. Returns how many
    were unread and are read now.
    """
    mine = Notification.objects.filter(recipient_id=actor.pk).unread()
    if notification_ids is not None:
        mine = mine.filter(pk__in=list(notification_ids))
    return mine.update(read_at=timezone.now())


@transaction.atomic
def notification_preference_set(*, actor: Any, channel: str) -> NotificationPreference:
    """Choose e-mail (and in the app) or in the app only, for everything from now on."""
    if channel not in Channel.values:
        raise InvalidRequest(
            _(
                "Choose one of: %(choices)s.",
                choices=", ".join(Channel.values),
            ),
            code="invalid.notification_channel",
        )
    preference, _created = NotificationPreference.objects.update_or_create(
        user_id=actor.pk, defaults={"channel": channel, "updated_at": timezone.now()}
    )
    return preference


# E-mails that could not be delivered, for the involvement lead


def _leads(user: Any) -> Q:
    """Cycles whose failed e-mails ``user`` hears of: as their involvement lead, or as their
    lead commissioner while none is named (as :func:`involvement_lead_id`)."""
    return Q(cycle__involvement_lead_id=user.pk) | Q(
        cycle__involvement_lead__isnull=True, cycle__lead_commissioner_id=user.pk
    )


def undeliverable_for(user: Any) -> QuerySet[Notification]:
    """E-mails given up on in the cycles whose failures ``user`` hears of, the latest first, with
    their recipients and cycles (one query)."""
    return (
        Notification.objects.filter(_leads(user), failed_at__isnull=False)
        .select_related("recipient", "cycle")
        .order_by("-failed_at", "-id")
    )


@transaction.atomic
def notification_retry(*, actor: Any, notification_id: int) -> Notification:
    """Try again to e-mail a notification that was given up on (once the person's address has
    been put right, say): it goes back into the outbox with its tries counted from nought, and
    is sent after the commit. Only whoever was told of the failure may do this."""
    notification = (
        Notification.objects.select_for_update(of=("self",))
        .filter(_leads(actor), pk=notification_id)
        .first()
    )
    if notification is None:
        raise NotFound(
            _(
                "There is no e-mail like that for you to try again.",
            ),
            code="notification.not_found",
        )
    if notification.failed_at is None:
        raise Conflict(
            _(
                "That e-mail has not been given up on: it has been delivered, or is still "
                "being tried.",
            ),
            code="notification.not_given_up",
        )
    notification.failed_at = None
    notification.attempts = 0
    notification.next_attempt_at = timezone.now()
    notification.save(update_fields=["failed_at", "attempts", "next_attempt_at"])
    pk = notification.pk
    transaction.on_commit(lambda: dispatch([pk]), robust=True)
    return notification

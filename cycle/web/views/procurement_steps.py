"""The procurement steps that change something: the route, the tender, bids, moderation, the
decision meeting and the award, the notice of intention, representations and their review, and
the contract as awarded.

Each page's form calls one service of ``cycle.procurement.services`` (or ``cycle.meetings``);
the service decides who may, and a refusal lands on the form's error summary with nothing
written. The route is answered in two steps: the questions, then a check of the answers with the
process they lead to and why, before anything is recorded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from cycle import meetings
from cycle.models import DecisionMeeting
from cycle.procurement import selectors
from cycle.procurement import services as procurement
from cycle.procurement.evaluation import SCORE_MAX
from cycle.procurement.models import (
    AwardDecision,
    Bid,
    IntentionNotice,
    KeyCriterion,
    Lot,
    Representation,
    RouteAssessment,
    Score,
    Side,
)
from cycle.procurement.routes import QUESTIONS, RouteAnswers, decide_route
from roles.definitions import DECISION_MAKER

from ..forms import PageForm
from .base import CheckAnswersMixin, CycleFormView
from .procurement import BidMixin, TenderMixin

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d %m %Y"]


def _date(label: Any, required: bool = True, hint: Any = None) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=hint or _("For example, 09/01/2009"),
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"width": "10", "inputmode": "numeric"}),
        error_messages={
            "required": _("Enter the date"),
            "invalid": _("Enter a real date, like 09/01/2009"),
        },
    )


def _text(label: Any, required_message: Any, rows: int = 4, hint: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=hint,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": required_message},
    )


def _day(value: Any) -> str:
    return f"{value.day} {value:%B %Y}"


class ProcurementStepView(CycleFormView):
    """A procurement step: its form calls one service, then back to the procurement page."""

    success_url_name = "web:procurement"


# --- the route ---------------------------------------------------------------------------------

AMOUNT_HINT = _("In pounds, like 1200000. Leave it empty if the question does not apply.")


class RouteForm(PageForm):
    """The regime's questions in the order it asks them, then why these answers."""

    rationale = forms.CharField(
        label=_("Why are these the right answers?"),
        help_text=_("Say what you know about the services and the existing provider."),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say why these are the right answers")},
    )
    service_fields = {"invalid.rationale": "rationale"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        questions: dict[str, forms.Field] = {}
        for name, question in QUESTIONS.items():
            if name.endswith("_lifetime_value"):
                questions[name] = forms.CharField(
                    label=question,
                    help_text=AMOUNT_HINT,
                    required=False,
                    widget=forms.TextInput(attrs={"width": "10", "inputmode": "decimal"}),
                )
            else:
                questions[name] = forms.ChoiceField(
                    label=question,
                    choices=YES_NO,
                    widget=forms.RadioSelect,
                    required=False,
                )
        # The questions first, in the regime's order; the reasons after them.
        self.fields = {**questions, "rationale": self.fields["rationale"]}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in QUESTIONS:
            if name.endswith("_lifetime_value") and data.get(name):
                written = str(data[name]).replace(",", "").replace("£", "").strip()
                try:
                    amount = Decimal(written)
                except InvalidOperation:
                    amount = Decimal(-1)
                if not amount.is_finite() or amount < 0:
                    self.add_error(name, _("Enter an amount in pounds, like 1200000"))
        return data

    def answers(self) -> dict[str, str]:
        """The answers given, as the service takes them (unanswered questions left out)."""
        return {name: self.cleaned_data[name] for name in QUESTIONS if self.cleaned_data.get(name)}

    def route_answers(self) -> RouteAnswers:
        values: dict[str, Any] = {}
        for name, value in self.answers().items():
            if name.endswith("_lifetime_value"):
                values[name] = Decimal(str(value).replace(",", "").replace("£", "").strip())
            else:
                values[name] = value == "yes"
        return RouteAnswers(**values)


class RouteView(CheckAnswersMixin, ProcurementStepView):
    """Answer the regime's questions; check the process they lead to; record it."""

    template_name = "web/procurement/route.html"
    check_template_name = "web/procurement/route_check.html"
    form_class = RouteForm
    submit_label = "Continue"

    def get_initial(self) -> dict[str, Any]:
        latest = selectors.latest_route(self.cycle)
        if latest is None:
            return {}
        initial: dict[str, Any] = {"rationale": latest.rationale}
        for name in QUESTIONS:
            value = getattr(latest, name)
            if isinstance(value, bool):
                initial[name] = "yes" if value else "no"
            elif value is not None:
                initial[name] = f"{value:f}".rstrip("0").rstrip(".")
        return initial

    def form_valid(self, form: Any) -> HttpResponse:
        decision = decide_route(form.route_answers())
        if decision.route is None:
            for question in decision.unanswered:
                form.add_error(question, _("Answer this question: the process depends on it"))
            return self.form_invalid(form)
        return super().form_valid(form)

    def check_context(self, form: RouteForm) -> dict[str, Any]:
        return {
            "decision": decide_route(form.route_answers()),
            "answered": [
                (QUESTIONS[name], _answer_words(value)) for name, value in form.answers().items()
            ],
        }

    def perform(self, form: RouteForm) -> RouteAssessment:
        return self.call_service(
            procurement.route_record,
            answers=form.answers(),
            rationale=form.cleaned_data["rationale"],
        )

    def confirmation(self, result: RouteAssessment) -> str:
        return f"You recorded the route: {result.route_label}."


def _answer_words(value: str) -> str:
    if value == "yes":
        return "Yes"
    if value == "no":
        return "No"
    return f"£{Decimal(str(value).replace(',', '').replace('£', '')):,.0f}"


# --- the tender --------------------------------------------------------------------------------

LOT_ROWS = 5
EXTRA_CRITERIA = 3


class TenderForm(PageForm):
    """The contract, its lots, the weighted criteria and the weight of the user panel."""

    title = forms.CharField(
        label=_("Title of the contract"),
        max_length=200,
        error_messages={"required": _("Enter the title")},
    )
    reference = forms.CharField(
        label=_("Reference"), max_length=60, error_messages={"required": _("Enter a reference")}
    )
    services = _text(_("The services"), _("Describe the services"), rows=3)
    cpv_code = forms.CharField(
        label=_("CPV code"),
        max_length=20,
        help_text=_("The common procurement vocabulary code of the services, like 85311000."),
        error_messages={"required": _("Enter the CPV code")},
    )
    lifetime_value = forms.CharField(
        label=_("Approximate lifetime value, in pounds"),
        help_text=_("Like 4800000"),
        widget=forms.TextInput(attrs={"width": "10", "inputmode": "decimal"}),
        error_messages={"required": _("Enter the lifetime value")},
    )
    user_panel_weight = forms.CharField(
        label=_("Weight of the user panel's scores, in per cent"),
        help_text=_(
            "How much of each bid's total comes from the users on the tender panel, like 30. "
            "The commissioners' scores carry the rest."
        ),
        widget=forms.TextInput(attrs={"width": "3", "inputmode": "decimal"}),
        error_messages={"required": _("Enter the user panel's weight")},
    )
    service_fields = {
        "invalid.title": "title",
        "invalid.reference": "reference",
        "invalid.services": "services",
        "invalid.CPV_code": "cpv_code",
        "invalid.lifetime_value": "lifetime_value",
        "invalid.user_panel_weight": "user_panel_weight",
        "invalid.lots": "lot_1_name",
        "invalid.lot_name": "lot_1_name",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for number in range(1, LOT_ROWS + 1):
            self.fields[f"lot_{number}_name"] = forms.CharField(
                label=_("Lot %(n)s: name") % {"n": number},
                help_text=_("Like “Eastern hub”. Leave the lots you do not need empty.")
                if number == 1
                else "",
                required=number == 1,
                max_length=200,
                error_messages={"required": _("Name at least one lot")},
            )
            self.fields[f"lot_{number}_kind"] = forms.ChoiceField(
                label=_("Lot %(n)s: kind") % {"n": number},
                choices=Lot.Kind.choices,
                initial=Lot.Kind.GEOGRAPHIC,
                required=False,
            )
            self.fields[f"lot_{number}_area"] = forms.CharField(
                label=_("Lot %(n)s: area covered (optional)") % {"n": number},
                required=False,
                max_length=200,
            )
        for key in KeyCriterion:
            self.fields[f"weight_{key.value}"] = forms.CharField(
                label=_("Weight of “%(name)s”, in per cent") % {"name": key.label},
                initial="20",
                widget=forms.TextInput(attrs={"width": "3", "inputmode": "decimal"}),
                error_messages={"required": _("Give “%(name)s” a weight") % {"name": key.label}},
            )
        for number in range(1, EXTRA_CRITERIA + 1):
            self.fields[f"extra_{number}_name"] = forms.CharField(
                label=_("Another criterion %(n)s (optional): name") % {"n": number},
                required=False,
                max_length=200,
            )
            self.fields[f"extra_{number}_weight"] = forms.CharField(
                label=_("Another criterion %(n)s: weight, in per cent") % {"n": number},
                required=False,
                widget=forms.TextInput(attrs={"width": "3", "inputmode": "decimal"}),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for number in range(1, EXTRA_CRITERIA + 1):
            name, weight = data.get(f"extra_{number}_name"), data.get(f"extra_{number}_weight")
            if name and not weight:
                self.add_error(f"extra_{number}_weight", _("Give the criterion a weight"))
            if weight and not name:
                self.add_error(f"extra_{number}_name", _("Name the criterion"))
        return data

    def lots(self) -> list[dict[str, str]]:
        data = self.cleaned_data
        return [
            {
                "name": data[f"lot_{n}_name"],
                "kind": data.get(f"lot_{n}_kind") or Lot.Kind.GEOGRAPHIC,
                "area": data.get(f"lot_{n}_area", ""),
            }
            for n in range(1, LOT_ROWS + 1)
            if data.get(f"lot_{n}_name")
        ]

    def criteria(self) -> list[dict[str, str]]:
        data = self.cleaned_data
        criteria = [
            {"key": key.value, "name": str(key.label), "weight": data[f"weight_{key.value}"]}
            for key in KeyCriterion
        ]
        criteria.extend(
            {"key": "", "name": data[f"extra_{n}_name"], "weight": data[f"extra_{n}_weight"]}
            for n in range(1, EXTRA_CRITERIA + 1)
            if data.get(f"extra_{n}_name")
        )
        return criteria


class TenderOpenView(ProcurementStepView):
    """Open the tender once the route is recorded."""

    template_name = "web/procurement/tender.html"
    form_class = TenderForm
    submit_label = "Open the tender"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(route=selectors.latest_route(self.cycle), **kwargs)

    def perform(self, form: TenderForm) -> Any:
        data = form.cleaned_data
        return self.call_service(
            procurement.tender_open,
            title=data["title"],
            reference=data["reference"],
            services=data["services"],
            cpv_code=data["cpv_code"],
            lifetime_value=data["lifetime_value"],
            user_panel_weight=data["user_panel_weight"],
            lots=form.lots(),
            criteria=form.criteria(),
        )

    def confirmation(self, result: Any) -> str:
        return f"You opened the tender {result.reference}: {result.title}."


# --- bids and moderation -----------------------------------------------------------------------


class BidForm(PageForm):
    lot = forms.TypedChoiceField(
        label=_("Which lot is the bid for?"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the lot")},
    )
    bidder = forms.CharField(
        label=_("Provider"), max_length=200, error_messages={"required": _("Enter the provider")}
    )
    address = _text(_("Provider's address"), _("Enter the provider's address"), rows=3)
    submitted_on = _date(_("Date the bid was received"))
    service_fields = {
        "invalid.provider": "bidder",
        "bid.exists": "bidder",
        "invalid.address": "address",
    }

    def __init__(self, *args: Any, lots: list[Lot], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_choices("lot", [(lot.pk, lot.name) for lot in lots])


class BidRecordView(TenderMixin, ProcurementStepView):
    template_name = "web/procurement/bid_form.html"
    form_class = BidForm
    submit_label = "Record the bid"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["lots"] = list(Lot.objects.filter(tender=self.tender))
        return kwargs

    def perform(self, form: BidForm) -> Bid:
        data = form.cleaned_data
        return self.call_service(
            procurement.bid_record,
            lot_id=data["lot"],
            bidder=data["bidder"],
            address=data["address"],
            submitted_on=data["submitted_on"],
        )

    def confirmation(self, result: Bid) -> str:
        return f"You recorded the bid by {result.bidder} for {result.lot.name}."


class ModerateForm(PageForm):
    criterion = forms.TypedChoiceField(
        label=_("Which criterion?"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the criterion")},
    )
    side = forms.ChoiceField(
        label=_("Whose scores?"),
        choices=Side.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whose scores are moderated")},
    )
    score = forms.CharField(
        label=_("The agreed score"),
        help_text=_("From 0 to %(max)s; halves are allowed, like 3.5.") % {"max": SCORE_MAX},
        widget=forms.TextInput(attrs={"width": "3", "inputmode": "decimal"}),
        error_messages={"required": _("Enter the agreed score")},
    )
    reason = _text(
        _("Why were the scores moderated?"),
        _("Say why the scores were moderated"),
        hint=_("Each scorer's own score stays on the record beside the agreed one."),
    )
    service_fields = {
        "invalid.score": "score",
        "invalid.reason": "reason",
        "moderation.nothing_scored": "side",
    }

    def __init__(self, *args: Any, criteria: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_choices("criterion", [(c.pk, c.name) for c in criteria])


class ModerateView(BidMixin, ProcurementStepView):
    """Agree one side's score for a bid and criterion, with the reason."""

    template_name = "web/procurement/moderate.html"
    form_class = ModerateForm
    submit_label = "Record the agreed score"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["criteria"] = list(self.tender.criteria.all())
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        scores = (
            Score.objects.filter(bid=self.bid, superseded_at__isnull=True)
            .select_related("criterion", "scorer")
            .order_by("criterion__position", "side", "scorer__username")
        )
        return super().get_context_data(bid=self.bid, scores=scores, **kwargs)

    def perform(self, form: ModerateForm) -> Any:
        data = form.cleaned_data
        return self.call_service(
            procurement.score_moderate,
            bid_id=self.bid.pk,
            criterion_id=data["criterion"],
            side=data["side"],
            score=data["score"],
            reason=data["reason"],
        )

    def confirmation(self, result: Any) -> str:
        return (
            f"You recorded the agreed score {result.score.normalize():f} for the bid by "
            f"{self.bid.bidder}."
        )


# --- the decision meeting and the award --------------------------------------------------------


class MeetingForm(PageForm):
    held_on = _date(_("Date of the meeting"))
    forum = forms.CharField(
        label=_("Where is it decided?"),
        help_text=_("For example, “Consortium senior management”."),
        max_length=200,
        error_messages={"required": _("Say where the decision is made")},
    )
    decision_maker = forms.TypedChoiceField(
        label=_("Who decides?"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose who decides")},
    )
    service_fields = {
        "invalid.forum": "forum",
        "invalid.decision_maker": "decision_maker",
        "invalid.meeting_date": "held_on",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_choices(
            "decision_maker",
            [
                (user.pk, user.get_full_name() or user.get_username())
                for user in get_user_model()
                .objects.filter(groups__name=DECISION_MAKER, is_active=True)
                .order_by("last_name", "username")
            ],
        )

    def details(self) -> dict[str, Any]:
        """The meeting as the services take it: when, where, and who decides."""
        data = self.cleaned_data
        return {
            "held_on": data["held_on"],
            "forum": data["forum"],
            "decision_maker": get_user_model().objects.get(pk=data["decision_maker"]),
        }


class MeetingScheduleView(ProcurementStepView):
    """Schedule the decision meeting of the current stage."""

    template_name = "web/procurement/meeting.html"
    form_class = MeetingForm
    submit_label = "Schedule the meeting"

    def perform(self, form: MeetingForm) -> DecisionMeeting:
        return self.call_service(meetings.meeting_schedule, **form.details())

    def confirmation(self, result: DecisionMeeting) -> str:
        return (
            f"You scheduled the decision meeting on {_day(result.held_on)}. Send the papers to "
            "the panel at least 7 days before it."
        )


class PapersForm(PageForm):
    issued_on = _date(_("Date the papers went to the panel"))
    service_fields = {"invalid.papers_date": "issued_on"}


class PapersIssueMixin:
    """Record the day the papers of the page's ``meeting`` went to the panel."""

    call_service: Any

    @property
    def meeting(self) -> DecisionMeeting:
        raise NotImplementedError

    def perform(self, form: PapersForm) -> DecisionMeeting:
        issued: DecisionMeeting = self.call_service(
            meetings.meeting_papers_issue,
            meeting_id=self.meeting.pk,
            issued_on=form.cleaned_data["issued_on"],
        )
        return issued


class MeetingPapersView(PapersIssueMixin, ProcurementStepView):
    """Record the day a decision meeting's papers went to the panel."""

    template_name = "web/procurement/papers.html"
    form_class = PapersForm
    submit_label = "Record the date"

    @cached_property
    def meeting(self) -> DecisionMeeting:
        meeting = DecisionMeeting.objects.filter(
            cycle=self.cycle, pk=self.kwargs["meeting_id"]
        ).first()
        if meeting is None:
            raise Http404("No meeting")
        return meeting

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(meeting=self.meeting, **kwargs)

    def confirmation(self, result: DecisionMeeting) -> str:
        return (
            f"You recorded that the papers for the meeting on {_day(result.held_on)} went to "
            f"the panel on {_day(result.papers_issued_on)}."
        )


NO_AWARD = "none"


class AwardForm(PageForm):
    """At the decision meeting: a bid for each lot, or no award, with reasons on each key
    criterion."""

    meeting = forms.TypedChoiceField(
        label=_("At which meeting was it decided?"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the meeting")},
    )

    def __init__(
        self, *args: Any, meetings: list[DecisionMeeting], lots: list[Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.set_choices("meeting", [(m.pk, f"{_day(m.held_on)}, {m.forum}") for m in meetings])
        self.lot_rows = lots
        for ranking in lots:
            lot = ranking.lot
            self.fields[f"lot_{lot.pk}"] = forms.ChoiceField(
                label=_("Who gets “%(lot)s”?") % {"lot": lot.name},
                help_text=_("The bids, best ranked first."),
                choices=[
                    *(
                        (
                            str(result.bid_id),
                            f"{result.bidder} (total {result.total})"
                            if result.complete
                            else f"{result.bidder} (scoring not finished)",
                        )
                        for result in ranking.results
                    ),
                    (NO_AWARD, _("No award for this lot")),
                ],
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Choose a bid for “%(lot)s”, or no award") % {"lot": lot.name}
                },
            )
        self.fields["summary"] = _text(_("What was decided?"), _("Say what was decided"), rows=3)
        for key in KeyCriterion:
            self.fields[f"reasons_{key.value}"] = _text(
                _("Reasons: %(criterion)s") % {"criterion": key.label},
                _("Give the reasons on “%(criterion)s”") % {"criterion": key.label},
                rows=3,
            )
        self.fields["conflicts_managed"] = forms.CharField(
            label=_("How were declared conflicts of interest managed? (optional)"),
            help_text=_(
                "Who did not score which bids is added from the records; say anything more here."
            ),
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
        self.service_fields = {
            "invalid.summary": "summary",
            **{
                f"invalid.reasons_on_{str(key.label).lower().replace(' ', '_')}": (
                    f"reasons_{key.value}"
                )
                for key in KeyCriterion
            },
        }

    def awards(self) -> dict[int | str, int | str | None]:
        data = self.cleaned_data
        return {
            ranking.lot.pk: (
                None
                if data[f"lot_{ranking.lot.pk}"] == NO_AWARD
                else int(data[f"lot_{ranking.lot.pk}"])
            )
            for ranking in self.lot_rows
        }

    def reasons(self) -> dict[str, str]:
        return {key.value: self.cleaned_data[f"reasons_{key.value}"] for key in KeyCriterion}


class AwardDecideView(TenderMixin, ProcurementStepView):
    """The decision-maker records the award decided at the decision meeting."""

    template_name = "web/procurement/award.html"
    form_class = AwardForm
    submit_label = "Record the decision"

    @cached_property
    def meetings(self) -> list[DecisionMeeting]:
        return list(DecisionMeeting.objects.filter(cycle=self.cycle).order_by("-held_on", "-id"))

    @cached_property
    def rankings(self) -> list[selectors.LotRanking]:
        return selectors.tender_evaluation(self.tender).lots

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["meetings"] = self.meetings
        kwargs["lots"] = self.rankings
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tender=self.tender, meetings=self.meetings, **kwargs)

    def perform(self, form: AwardForm) -> AwardDecision:
        return self.call_service(
            procurement.award_decide,
            meeting_id=form.cleaned_data["meeting"],
            awards=form.awards(),
            summary=form.cleaned_data["summary"],
            reasons=form.reasons(),
            conflicts_managed=form.cleaned_data["conflicts_managed"],
        )

    def confirmation(self, result: AwardDecision) -> str:
        if result.outcome == AwardDecision.Outcome.NO_AWARD:
            return "You recorded the decision: no award."
        return (
            "You recorded the award decision. The lead commissioner publishes the notice of "
            "intention next."
        )


# --- the notice, the standstill and the contract -----------------------------------------------


class NoticePublishForm(PageForm):
    published_on = _date(_("Date the notice is published"))
    service_fields = {"invalid.publication_date": "published_on"}


class NoticePublishView(TenderMixin, ProcurementStepView):
    """Publish the notice of intention, generated from the records; the standstill starts."""

    template_name = "web/procurement/notice_publish.html"
    form_class = NoticePublishForm
    submit_label = "Publish the notice"
    success_url_name = "web:procurement-notice"

    def perform(self, form: NoticePublishForm) -> IntentionNotice:
        return self.call_service(
            procurement.notice_publish,
            published_on=form.cleaned_data["published_on"],
        )

    def confirmation(self, result: IntentionNotice) -> str:
        return (
            f"You published the notice of intention on {_day(result.published_on)}. Providers "
            f"may make representations until the end of {_day(result.standstill_ends_on)}."
        )


class RepresentationForm(PageForm):
    provider = forms.CharField(
        label=_("Which provider made the representation?"),
        max_length=200,
        error_messages={"required": _("Enter the provider")},
    )
    received_on = _date(_("Date it was received"))
    summary = _text(_("What did they say?"), _("Say what the provider said"))
    service_fields = {
        "invalid.provider": "provider",
        "invalid.summary": "summary",
        "representation.outside_standstill": "received_on",
    }


class RepresentationRecordView(TenderMixin, ProcurementStepView):
    template_name = "web/procurement/representation.html"
    form_class = RepresentationForm
    submit_label = "Record the representation"

    def perform(self, form: RepresentationForm) -> Representation:
        data = form.cleaned_data
        return self.call_service(
            procurement.representation_record,
            provider=data["provider"],
            summary=data["summary"],
            received_on=data["received_on"],
        )

    def confirmation(self, result: Representation) -> str:
        return (
            f"You recorded the representation by {result.provider}. The contract waits until "
            "the decision-maker has reviewed the decision."
        )


class ReviewForm(PageForm):
    outcome = forms.ChoiceField(
        label=_("What did the review decide?"),
        choices=Representation.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether to proceed or abandon the award")},
    )
    reasons = _text(_("Why?"), _("Give the reasons for the outcome of the review"))
    reviewed_on = _date(_("Date of the review"))
    service_fields = {
        "invalid.outcome": "outcome",
        "invalid.reasons": "reasons",
        "invalid.review_date": "reviewed_on",
    }


class RepresentationReviewView(TenderMixin, ProcurementStepView):
    """The decision-maker reviews the decision after a representation."""

    template_name = "web/procurement/review.html"
    form_class = ReviewForm
    submit_label = "Record the review"

    @cached_property
    def representation(self) -> Representation:
        found = Representation.objects.filter(
            notice__decision__tender=self.tender, pk=self.kwargs["representation_id"]
        ).first()
        if found is None:
            raise Http404("No representation")
        return found

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(representation=self.representation, **kwargs)

    def perform(self, form: ReviewForm) -> Representation:
        data = form.cleaned_data
        return self.call_service(
            procurement.representation_review,
            representation_id=self.representation.pk,
            outcome=data["outcome"],
            reasons=data["reasons"],
            reviewed_on=data["reviewed_on"],
        )

    def confirmation(self, result: Representation) -> str:
        if result.outcome == Representation.Outcome.ABANDON:
            return "You recorded the review: the award is abandoned."
        assert result.waits_until is not None
        return (
            "You recorded the review: the decision stands. The contract can be awarded after "
            f"{_day(result.waits_until)}."
        )


class ContractForm(PageForm):
    awarded_on = _date(_("Date the contract was awarded"))
    service_fields = {
        "invalid.award_date": "awarded_on",
        "standstill.running": "awarded_on",
    }


class ContractAwardView(TenderMixin, ProcurementStepView):
    """Record the contract as awarded: refused until the standstill is over."""

    template_name = "web/procurement/contract.html"
    form_class = ContractForm
    submit_label = "Record the contract"

    def perform(self, form: ContractForm) -> IntentionNotice:
        return self.call_service(
            procurement.contract_award_record,
            awarded_on=form.cleaned_data["awarded_on"],
        )

    def confirmation(self, result: IntentionNotice) -> str:
        assert result.contract_awarded_on is not None
        return f"You recorded the contract as awarded on {_day(result.contract_awarded_on)}."

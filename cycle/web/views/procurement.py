"""Procurement pages: the route and the tender, scoring a bid, views on a bid, the notice.

Commissioners and members of the tender panel score bids here; a scorer recused from a bid is
told why and can still give their views on it. The ranking shows each scorer's part. The notice
of intention is readable by anyone who may see the cycle, generated from the records (a draft
until it is published).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from cycle import workdays
from cycle.models import DecisionMeeting
from cycle.procurement import notice, selectors
from cycle.procurement import services as procurement
from cycle.procurement.evaluation import SCORE_MAX, BidFacts, ScoringSide, recusal
from cycle.procurement.models import Bid, BidComment, IntentionNotice, Score, Tender
from roles.models import ConflictDeclaration

from ..forms import PageForm
from .base import CycleFormView, CyclePage

SCORE_LABELS = {
    0: _("0: nothing to show it"),
    1: _("1: poor"),
    2: _("2: some of it"),
    3: _("3: good"),
    4: _("4: very good"),
    5: _("5: excellent"),
}


class TenderMixin:
    """A page about the cycle's tender (none yet is "not found")."""

    cycle: Any

    @cached_property
    def tender(self) -> Tender:
        tender = selectors.tender_of(self.cycle)
        if tender is None:
            raise Http404("No tender")
        return tender


class ProcurementView(CyclePage):
    """The route, the tender, the bids and the ranking with each scorer's part."""

    template_name = "web/procurement/overview.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        cycle = self.cycle
        tender = selectors.tender_of(cycle)
        side = selectors.scorer_side(self.request.user, cycle)
        context: dict[str, Any] = {
            "route": selectors.latest_route(cycle),
            "tender": tender,
            "scorer_side": side,
        }
        if tender is not None:
            evaluation = selectors.tender_evaluation(tender)
            decision = tender.decisions.filter(superseded_at__isnull=True).first()
            published = (
                IntentionNotice.objects.filter(decision=decision).first() if decision else None
            )
            context.update(
                criteria=evaluation.criteria,
                lots=_lot_rows(evaluation),
                decision=decision,
                meetings=list(
                    DecisionMeeting.objects.filter(cycle=cycle)
                    .select_related("decision_maker")
                    .order_by("held_on")
                ),
                published=published,
            )
            if published is not None:
                context.update(
                    representations=list(published.representations.all()),
                    standstill=selectors.standstill_state(
                        published, today=workdays.uk_date(timezone.now())
                    ),
                )
        return super().get_context_data(**context, **kwargs)


def _lot_rows(evaluation: selectors.TenderEvaluation) -> list[dict[str, Any]]:
    """Each lot's ranking as rows a template can show without looking anything up."""
    names = {c.pk: c.name for c in evaluation.criteria}
    lots = []
    for ranking in evaluation.lots:
        rows = []
        for result in ranking.results:
            rows.append(
                {
                    "result": result,
                    "commissioners": result.by_side[ScoringSide.COMMISSIONERS],
                    "user_panel": result.by_side[ScoringSide.USER_PANEL],
                    "recused": evaluation.recusals.get(result.bid_id, []),
                    "parts": [
                        {
                            "who": _("Agreed at moderation") if part.moderated else part.who,
                            "side": _("User panel")
                            if part.side is ScoringSide.USER_PANEL
                            else _("Commissioners"),
                            "criterion": names[part.criterion_id],
                            "score": part.score,
                            "points": part.points,
                        }
                        for part in result.parts
                    ],
                }
            )
        lots.append({"lot": ranking.lot, "rows": rows})
    return lots


class BidScoreForm(PageForm):
    """One score (0 to 5) per criterion, each with an optional reason."""

    def __init__(self, *args: Any, criteria: list[Any], current: dict[int, Score], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            mine = current.get(criterion.pk)
            self.fields[f"score_{criterion.pk}"] = forms.TypedChoiceField(
                label=f"{criterion.name} ({criterion.weight.normalize():f}%)",
                choices=[(value, SCORE_LABELS[value]) for value in range(SCORE_MAX + 1)],
                coerce=int,
                widget=forms.RadioSelect,
                initial=mine.score if mine else None,
                error_messages={"required": _("Choose a score for %s") % criterion.name},
            )
            self.fields[f"comment_{criterion.pk}"] = forms.CharField(
                label=_("Why this score? (optional)"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial=mine.comment if mine else "",
            )

    def scores(self) -> dict[int, int]:
        return {c.pk: self.cleaned_data[f"score_{c.pk}"] for c in self.criteria}

    def comments(self) -> dict[int, str]:
        return {c.pk: self.cleaned_data[f"comment_{c.pk}"] for c in self.criteria}


class BidMixin(TenderMixin):
    kwargs: dict[str, Any]
    request: Any

    @cached_property
    def bid(self) -> Bid:
        bid = (
            Bid.objects.filter(tender=self.tender, pk=self.kwargs["bid_id"])
            .select_related("lot")
            .first()
        )
        if bid is None:
            raise Http404("No bid")
        return bid

    @cached_property
    def recused_for(self) -> Any:
        return recusal(
            BidFacts(self.bid.pk, self.bid.lot_id, self.bid.bidder),
            selectors.interests_of(self.request.user, self.cycle),
        )

    def bid_context(self) -> dict[str, Any]:
        return {
            "tender": self.tender,
            "bid": self.bid,
            "recused_for": self.recused_for,
            "scorer_side": selectors.scorer_side(self.request.user, self.cycle),
            "my_views": BidComment.objects.filter(bid=self.bid, author=self.request.user),
        }


class BidScoreView(BidMixin, CycleFormView):
    """Score one bid against every criterion; a recused scorer sees why, and the views form."""

    template_name = "web/procurement/score.html"
    form_class = BidScoreForm
    submit_label = "Save my scores"
    success_url_name = "web:procurement"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["criteria"] = list(self.tender.criteria.all())
        kwargs["current"] = {
            s.criterion_id: s
            for s in Score.objects.filter(
                bid=self.bid, scorer=self.request.user, superseded_at__isnull=True
            )
        }
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            views_form=BidViewsForm(),
            interest_form=BidInterestForm(),
            **self.bid_context(),
            **kwargs,
        )

    def perform(self, form: BidScoreForm) -> Any:
        return self.call_service(
            procurement.score_record,
            bid_id=self.bid.pk,
            scores=form.scores(),
            comments=form.comments(),
        )

    def confirmation(self, result: Any) -> str:
        return f"You saved your scores for the bid by {self.bid.bidder}."


class BidViewsForm(PageForm):
    text = forms.CharField(
        label=_("Your views on this bid"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write your views on the bid")},
    )
    service_fields = {"invalid.views": "text"}


class BidViewsView(BidMixin, CycleFormView):
    """Give views on a bid: open to every scorer, recused or not."""

    template_name = "web/procurement/score.html"
    form_class = BidViewsForm
    submit_label = "Send my views"
    success_url_name = "web:procurement"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(
            interest_form=BidInterestForm(), **self.bid_context(), **kwargs
        )
        context["views_form"] = context.pop("form")
        return context

    def perform(self, form: BidViewsForm) -> Any:
        return self.call_service(
            procurement.bid_comment_record,
            bid_id=self.bid.pk,
            text=form.cleaned_data["text"],
        )

    def confirmation(self, result: Any) -> str:
        return f"You gave your views on the bid by {self.bid.bidder}."


class BidInterestForm(PageForm):
    interest = forms.ChoiceField(
        label=_("What is your link to this bid?"),
        choices=[
            (value, label)
            for value, label in ConflictDeclaration.Interest.choices
            if value != ConflictDeclaration.Interest.NONE
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what your link is")},
    )
    details = forms.CharField(
        label=_("Tell us more"),
        help_text=_("For example, “I go to their day centre on Tuesdays”."),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Tell us more about the link")},
    )
    service_fields = {"invalid.interest": "interest", "invalid.details": "details"}


class BidInterestView(BidMixin, CycleFormView):
    """Tell the commissioners about a link to one bid: you will not score it."""

    template_name = "web/procurement/score.html"
    form_class = BidInterestForm
    submit_label = "Tell them about my link"
    success_url_name = "web:procurement"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(
            views_form=BidViewsForm(), **self.bid_context(), **kwargs
        )
        context["interest_form"] = context.pop("form")
        return context

    def perform(self, form: BidInterestForm) -> Any:
        return self.call_service(
            procurement.bid_interest_declare,
            bid_id=self.bid.pk,
            interest=form.cleaned_data["interest"],
            details=form.cleaned_data["details"],
        )

    def confirmation(self, result: Any) -> str:
        return (
            f"You told us about your link to the bid by {self.bid.bidder}. You will not score "
            "it, and you can still give your views on it."
        )


class NoticeView(TenderMixin, CyclePage):
    """The notice of intention: as published, or a draft from the records as they stand."""

    template_name = "web/procurement/notice.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        published = (
            IntentionNotice.objects.filter(decision__tender=self.tender)
            .select_related("decision")
            .order_by("-id")
            .first()
        )
        if published is not None:
            contents = json.loads(published.contents)
            missing: tuple[str, ...] = ()
        else:
            draft = notice.build(self.tender.pk)
            contents, missing = draft.as_dict(), draft.missing
        return super().get_context_data(
            tender=self.tender,
            published=published,
            contents=contents,
            missing=missing,
            **kwargs,
        )


def procurement_url(cycle_id: int) -> str:
    return reverse("web:procurement", args=[cycle_id])

"""The API of procurement under the Provider Selection Regime, over ``cycle.procurement.services``.

The route (answers to the regime's questions, with reasons), the tender with its lots and
weighted criteria, bids, declared interests, scores (a scorer recused from a bid is refused by
the scoring service, ``forbidden.recused``, and may still give views), moderation and the ranking
with each scorer's part, decision meetings, the award decision (or no award), the notice of
intention with its standstill, representations and their review, and the contract award.

As everywhere in the API: the cycle is found among those the caller may see (404 otherwise), and
every write goes through the one service for it, which checks again who is asking.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cycle import workdays
from cycle.errors import NotFound
from cycle.meetings import meeting_papers_issue, meeting_schedule
from cycle.models import CommissioningCycle, DecisionMeeting
from cycle.procurement import notice, selectors
from cycle.procurement import services as procurement
from cycle.procurement.evaluation import SCORE_MAX
from cycle.procurement.models import (
    AwardDecision,
    Bid,
    BidComment,
    BidInterest,
    Criterion,
    IntentionNotice,
    KeyCriterion,
    Lot,
    LotAward,
    Moderation,
    Representation,
    RouteAssessment,
    Score,
    Side,
    Tender,
)
from cycle.procurement.routes import QUESTIONS
from roles.models import ConflictDeclaration

from .serializers import Username
from .views import MAX_ID, CycleRecordList, CycleScopedMixin, _input

TAG = "procurement"
TEXT_LIMIT = procurement.TEXT_LIMIT
ID = {"min_value": 1, "max_value": MAX_ID}


def _tender(cycle: CommissioningCycle) -> Tender:
    tender = selectors.tender_of(cycle)
    if tender is None:
        raise NotFound(f"Cycle {cycle.pk} has no tender yet.", code="tender.not_found")
    return tender


def _path_id(value: Any, what: str) -> int:
    if int(value) > MAX_ID:
        raise NotFound(f"There is no {what} {value}.", code=f"{what}.not_found")
    return int(value)


# --- the route --------------------------------------------------------------------------------


class RouteSerializer(serializers.ModelSerializer):
    recorded_by = Username(read_only=True)

    class Meta:
        model = RouteAssessment
        fields = [
            "id",
            "version",
            *QUESTIONS,
            "route",
            "mandatory",
            "reasons",
            "rationale",
            "recorded_by",
            "recorded_at",
        ]


def _answer_field(name: str) -> serializers.Field:
    if name.endswith("_lifetime_value"):
        return serializers.CharField(
            required=False,
            allow_null=True,
            allow_blank=True,
            max_length=40,
            help_text=QUESTIONS[name],
        )
    return serializers.BooleanField(required=False, allow_null=True, help_text=QUESTIONS[name])


RouteAnswersSerializer = type(
    "RouteAnswersSerializer",
    (serializers.Serializer,),
    {name: _answer_field(name) for name in QUESTIONS},
)


class RouteRecordSerializer(serializers.Serializer):
    answers = RouteAnswersSerializer(
        help_text="Answers to the regime's questions; leave out those that do not arise."
    )
    rationale = serializers.CharField(max_length=TEXT_LIMIT)


class RouteList(CycleRecordList):
    """Every recorded route assessment, oldest first; or record one (the lead commissioner): the
    answers to the regime's questions decide the route, the reasons are kept."""

    model = RouteAssessment
    serializer_class = RouteSerializer
    tag = TAG
    create_serializer = RouteRecordSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[RouteAssessment]:
        return (
            RouteAssessment.objects.filter(cycle=cycle)
            .select_related("recorded_by")
            .order_by("version")
        )

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        answers = {k: v for k, v in data["answers"].items() if v is not None and v != ""}
        return procurement.route_record(
            actor=actor, cycle_id=self.cycle_id, answers=answers, rationale=data["rationale"]
        )


# --- the tender -------------------------------------------------------------------------------


class LotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lot
        fields = ["id", "position", "name", "kind", "area"]


class CriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Criterion
        fields = ["id", "position", "key", "name", "weight"]


class TenderSerializer(serializers.ModelSerializer):
    route = serializers.CharField(source="route_assessment.route", read_only=True)
    lots = LotSerializer(many=True, read_only=True)
    criteria = CriterionSerializer(many=True, read_only=True)
    opened_by = Username(read_only=True)

    class Meta:
        model = Tender
        fields = [
            "id",
            "title",
            "reference",
            "services",
            "cpv_code",
            "lifetime_value",
            "user_panel_weight",
            "route",
            "lots",
            "criteria",
            "opened_by",
            "opened_at",
        ]


class LotOpenSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Lot.Kind.values, default=Lot.Kind.GEOGRAPHIC)
    area = serializers.CharField(max_length=200, allow_blank=True, default="")


class CriterionOpenSerializer(serializers.Serializer):
    key = serializers.ChoiceField(
        choices=KeyCriterion.values,
        required=False,
        allow_blank=True,
        help_text="One of the five key criteria; blank for a criterion of one's own.",
    )
    name = serializers.CharField(max_length=200)
    weight = serializers.CharField(max_length=20, help_text='A percentage, e.g. "20".')


class TenderOpenSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    reference = serializers.CharField(max_length=60)
    services = serializers.CharField(max_length=TEXT_LIMIT)
    cpv_code = serializers.CharField(max_length=20)
    lifetime_value = serializers.CharField(max_length=40)
    user_panel_weight = serializers.CharField(
        max_length=20, help_text="The user panel's share of each score, a percentage."
    )
    lots = LotOpenSerializer(many=True, allow_empty=False, max_length=50)
    criteria = CriterionOpenSerializer(
        many=True,
        required=False,
        max_length=50,
        help_text="The weighted criteria, the five key criteria among them; the regime's five "
        "at equal weights if left out.",
    )


def _tender_with_parts(cycle: CommissioningCycle) -> Tender:
    tender = (
        Tender.objects.filter(cycle=cycle)
        .select_related("route_assessment", "opened_by")
        .prefetch_related(
            Prefetch("lots", Lot.objects.order_by("position")),
            Prefetch("criteria", Criterion.objects.order_by("position")),
        )
        .first()
    )
    if tender is None:
        raise NotFound(f"Cycle {cycle.pk} has no tender yet.", code="tender.not_found")
    return tender


class TenderView(CycleScopedMixin, APIView):
    @extend_schema(responses=TenderSerializer, tags=[TAG])
    def get(self, request: Request, cycle_id: int) -> Response:
        """The cycle's tender: its lots, its weighted criteria and the user panel's weight."""
        return Response(TenderSerializer(_tender_with_parts(self.get_cycle())).data)

    @extend_schema(request=TenderOpenSerializer, responses={201: TenderSerializer}, tags=[TAG])
    def post(self, request: Request, cycle_id: int) -> Response:
        """Open the tender (the lead commissioner), once the route calls for an evaluation."""
        data = _input(request, TenderOpenSerializer)
        if "criteria" in data:
            data["criteria"] = [dict(item) for item in data["criteria"]]
        data["lots"] = [dict(item) for item in data["lots"]]
        procurement.tender_open(actor=request.user, cycle_id=self.cycle_id, **data)
        tender = _tender_with_parts(self.get_cycle())
        return Response(TenderSerializer(tender).data, status=status.HTTP_201_CREATED)


# --- bids -------------------------------------------------------------------------------------


class BidSerializer(serializers.ModelSerializer):
    recorded_by = Username(read_only=True)
    recused = serializers.SerializerMethodField()

    class Meta:
        model = Bid
        fields = [
            "id",
            "lot",
            "bidder",
            "address",
            "submitted_on",
            "recorded_by",
            "recorded_at",
            "recused",
        ]

    def get_recused(self, bid: Bid) -> list[str]:
        """Who is recused from scoring this bid (usernames)."""
        return list(getattr(bid, "recused", []))


class BidRecordSerializer(serializers.Serializer):
    lot = serializers.IntegerField(**ID)
    bidder = serializers.CharField(max_length=200)
    address = serializers.CharField(max_length=TEXT_LIMIT)
    submitted_on = serializers.DateField(required=False, help_text="Today if left out.")


class BidList(CycleRecordList):
    """Every bid, lot by lot, with who is recused from scoring each; or record a bid (the lead
    commissioner)."""

    model = Bid
    serializer_class = BidSerializer
    tag = TAG
    create_serializer = BidRecordSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> list[Bid]:
        tender = selectors.tender_of(cycle)
        if tender is None:
            return []
        bids = list(
            Bid.objects.filter(tender=tender).select_related("recorded_by").order_by("lot_id", "id")
        )
        recused = selectors.recused_by_bid(tender)
        for bid in bids:
            bid.recused = recused.get(bid.pk, [])  # type: ignore[attr-defined]
        return bids

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return procurement.bid_record(
            actor=actor,
            cycle_id=self.cycle_id,
            lot_id=data["lot"],
            bidder=data["bidder"],
            address=data["address"],
            submitted_on=data.get("submitted_on"),
        )

    def created(self, record: Any) -> Any:
        (found,) = [bid for bid in self.cycle_queryset(self.get_cycle()) if bid.pk == record.pk]
        return found


class BidScoped(CycleScopedMixin):
    """A view about one bid of the cycle's tender; the service checks the bid again."""

    @property
    def bid_id(self) -> int:
        return _path_id(self.kwargs["bid_id"], "bid")


class InterestSerializer(serializers.ModelSerializer):
    person = Username(read_only=True)

    class Meta:
        model = BidInterest
        fields = ["id", "bid", "person", "side", "interest", "details", "declared_at"]


class InterestDeclareSerializer(serializers.Serializer):
    interest = serializers.ChoiceField(choices=ConflictDeclaration.Interest.values)
    details = serializers.CharField(max_length=TEXT_LIMIT)


class BidInterestDeclare(BidScoped, APIView):
    @extend_schema(
        request=InterestDeclareSerializer, responses={201: InterestSerializer}, tags=[TAG]
    )
    def post(self, request: Request, cycle_id: int, bid_id: int) -> Response:
        """Declare one's own interest in a bid (a scorer): from then on one may not score it."""
        data = _input(request, InterestDeclareSerializer)
        interest = procurement.bid_interest_declare(
            actor=request.user, cycle_id=self.cycle_id, bid_id=self.bid_id, **data
        )
        return Response(InterestSerializer(interest).data, status=status.HTTP_201_CREATED)


class BidScoreSerializer(serializers.ModelSerializer):
    scorer = Username(read_only=True)

    class Meta:
        model = Score
        fields = [
            "id",
            "bid",
            "criterion",
            "scorer",
            "side",
            "score",
            "comment",
            "recorded_at",
            "superseded_at",
        ]


class CriterionScoreSerializer(serializers.Serializer):
    criterion = serializers.IntegerField(**ID)
    score = serializers.IntegerField(min_value=0, max_value=SCORE_MAX)
    comment = serializers.CharField(max_length=TEXT_LIMIT, allow_blank=True, default="")


class ScoreRecordSerializer(serializers.Serializer):
    scores = CriterionScoreSerializer(many=True, allow_empty=False, max_length=50)


class BidScore(BidScoped, APIView):
    @extend_schema(
        request=ScoreRecordSerializer, responses={201: BidScoreSerializer(many=True)}, tags=[TAG]
    )
    def post(self, request: Request, cycle_id: int, bid_id: int) -> Response:
        """Score a bid against one or more criteria, 0 to 5 (a commissioner or a member of the
        tender panel); a new score replaces one's earlier one. Refused (``forbidden.recused``)
        for a bid one declared an interest in."""
        data = _input(request, ScoreRecordSerializer)
        scores = procurement.score_record(
            actor=request.user,
            cycle_id=self.cycle_id,
            bid_id=self.bid_id,
            scores={item["criterion"]: item["score"] for item in data["scores"]},
            comments={item["criterion"]: item["comment"] for item in data["scores"]},
        )
        return Response(BidScoreSerializer(scores, many=True).data, status=status.HTTP_201_CREATED)


class CommentSerializer(serializers.ModelSerializer):
    author = Username(read_only=True)

    class Meta:
        model = BidComment
        fields = ["id", "bid", "author", "side", "recused", "text", "recorded_at"]


class CommentRecordSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=TEXT_LIMIT)


class BidCommentList(BidScoped, CycleRecordList):
    """Views given on a bid, oldest first; or give one's own (anyone taking part in evaluation,
    recused or not)."""

    model = BidComment
    serializer_class = CommentSerializer
    tag = TAG
    create_serializer = CommentRecordSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[BidComment]:
        bid = Bid.objects.filter(pk=self.bid_id, tender__cycle=cycle).first()
        if bid is None:
            raise NotFound(f"The tender has no bid {self.bid_id}.", code="bid.not_found")
        return BidComment.objects.filter(bid=bid).select_related("author").order_by("id")

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return procurement.bid_comment_record(
            actor=actor, cycle_id=self.cycle_id, bid_id=self.bid_id, text=data["text"]
        )


class ModerationSerializer(serializers.ModelSerializer):
    moderated_by = Username(read_only=True)

    class Meta:
        model = Moderation
        fields = [
            "id",
            "bid",
            "criterion",
            "side",
            "score",
            "reason",
            "moderated_by",
            "moderated_at",
            "superseded_at",
        ]


class ModerateSerializer(serializers.Serializer):
    criterion = serializers.IntegerField(**ID)
    side = serializers.ChoiceField(choices=Side.values)
    score = serializers.CharField(max_length=20, help_text='The agreed score, e.g. "3.5".')
    reason = serializers.CharField(max_length=TEXT_LIMIT)


class BidModerate(BidScoped, APIView):
    @extend_schema(request=ModerateSerializer, responses={201: ModerationSerializer}, tags=[TAG])
    def post(self, request: Request, cycle_id: int, bid_id: int) -> Response:
        """Record one side's agreed score for a bid and criterion after moderation, with the
        reason (the lead commissioner); each scorer's own score stays on the record."""
        data = _input(request, ModerateSerializer)
        moderation = procurement.score_moderate(
            actor=request.user,
            cycle_id=self.cycle_id,
            bid_id=self.bid_id,
            criterion_id=data["criterion"],
            side=data["side"],
            score=data["score"],
            reason=data["reason"],
        )
        return Response(ModerationSerializer(moderation).data, status=status.HTTP_201_CREATED)


# --- the ranking ------------------------------------------------------------------------------


class PartSerializer(serializers.Serializer):
    who = serializers.CharField(help_text="The scorer's username; blank for a moderation.")
    side = serializers.CharField()
    criterion = serializers.IntegerField()
    score = serializers.DecimalField(max_digits=6, decimal_places=2)
    points = serializers.DecimalField(max_digits=8, decimal_places=2)
    moderated = serializers.BooleanField()


class MissingSerializer(serializers.Serializer):
    criterion = serializers.IntegerField()
    side = serializers.CharField()


class BidResultSerializer(serializers.Serializer):
    bid = serializers.IntegerField()
    bidder = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True)
    total = serializers.DecimalField(max_digits=8, decimal_places=2)
    commissioners = serializers.DecimalField(max_digits=8, decimal_places=2)
    user_panel = serializers.DecimalField(max_digits=8, decimal_places=2)
    complete = serializers.BooleanField()
    missing = MissingSerializer(many=True)
    parts = PartSerializer(many=True)
    recused = serializers.ListField(child=serializers.CharField())


class LotRankingSerializer(serializers.Serializer):
    lot = LotSerializer()
    results = BidResultSerializer(many=True)


class EvaluationSerializer(serializers.Serializer):
    user_panel_weight = serializers.DecimalField(max_digits=5, decimal_places=2)
    criteria = CriterionSerializer(many=True)
    lots = LotRankingSerializer(many=True)


def _evaluation(tender: Tender) -> dict[str, Any]:
    found = selectors.tender_evaluation(tender)
    lots = []
    for ranking in found.lots:
        results = []
        for result in ranking.results:
            by_side = {str(side): value for side, value in result.by_side.items()}
            results.append(
                {
                    "bid": result.bid_id,
                    "bidder": result.bidder,
                    "rank": result.rank,
                    "total": result.total,
                    "commissioners": by_side[Side.COMMISSIONERS],
                    "user_panel": by_side[Side.USER_PANEL],
                    "complete": result.complete,
                    "missing": [{"criterion": c, "side": str(s)} for c, s in result.missing],
                    "parts": [
                        {
                            "who": "" if part.moderated else part.who,
                            "side": str(part.side),
                            "criterion": part.criterion_id,
                            "score": part.score,
                            "points": part.points,
                            "moderated": part.moderated,
                        }
                        for part in result.parts
                    ],
                    "recused": found.recusals.get(result.bid_id, []),
                }
            )
        lots.append({"lot": ranking.lot, "results": results})
    return {
        "user_panel_weight": tender.user_panel_weight,
        "criteria": found.criteria,
        "lots": lots,
    }


class EvaluationView(CycleScopedMixin, APIView):
    @extend_schema(responses=EvaluationSerializer, tags=[TAG])
    def get(self, request: Request, cycle_id: int) -> Response:
        """Each lot's bids ranked, with each scorer's part in every total and who is recused."""
        tender = _tender(self.get_cycle())
        return Response(EvaluationSerializer(_evaluation(tender)).data)


# --- decision meetings and the award ----------------------------------------------------------


class MeetingSerializer(serializers.ModelSerializer):
    decision_maker = Username(read_only=True)

    class Meta:
        model = DecisionMeeting
        fields = ["id", "stage_key", "held_on", "forum", "decision_maker", "papers_issued_on"]


class MeetingScheduleSerializer(serializers.Serializer):
    held_on = serializers.DateField()
    forum = serializers.CharField(max_length=200)
    decision_maker = Username(help_text="Who decides, by username.")


class MeetingList(CycleRecordList):
    """The cycle's decision meetings, in order; or schedule one in the current stage (the lead
    commissioner): its date, where it is decided and who decides."""

    model = DecisionMeeting
    serializer_class = MeetingSerializer
    tag = TAG
    create_serializer = MeetingScheduleSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[DecisionMeeting]:
        return (
            DecisionMeeting.objects.filter(cycle=cycle)
            .select_related("decision_maker")
            .order_by("held_on", "id")
        )

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return meeting_schedule(actor=actor, cycle_id=self.cycle_id, **data)


class PapersIssueSerializer(serializers.Serializer):
    issued_on = serializers.DateField(required=False, help_text="Today if left out.")


class MeetingPapers(CycleScopedMixin, APIView):
    @extend_schema(request=PapersIssueSerializer, responses=MeetingSerializer, tags=[TAG])
    def post(self, request: Request, cycle_id: int, meeting_id: int) -> Response:
        """Record the day the meeting's papers went to the panel (the lead commissioner)."""
        data = _input(request, PapersIssueSerializer)
        meeting = meeting_papers_issue(
            actor=request.user,
            cycle_id=self.cycle_id,
            meeting_id=_path_id(meeting_id, "meeting"),
            issued_on=data.get("issued_on"),
        )
        return Response(MeetingSerializer(meeting).data)


class LotAwardSerializer(serializers.ModelSerializer):
    class Meta:
        model = LotAward
        fields = ["lot", "bid"]


class AwardDecisionSerializer(serializers.ModelSerializer):
    decided_by = Username(read_only=True)
    lots = LotAwardSerializer(many=True, read_only=True)

    class Meta:
        model = AwardDecision
        fields = [
            "id",
            "meeting",
            "outcome",
            "lots",
            "summary",
            "reasons_quality",
            "reasons_value",
            "reasons_integration",
            "reasons_access",
            "reasons_social_value",
            "conflicts_managed",
            "decided_by",
            "decided_at",
            "superseded_at",
        ]


class LotAwardInSerializer(serializers.Serializer):
    lot = serializers.IntegerField(**ID)
    bid = serializers.IntegerField(allow_null=True, help_text="null: no award for this lot.", **ID)


ReasonsSerializer = type(
    "AwardReasonsSerializer",
    (serializers.Serializer,),
    {
        key: serializers.CharField(max_length=TEXT_LIMIT, help_text=str(label))
        for key, label in KeyCriterion.choices
    },
)


class DecideSerializer(serializers.Serializer):
    meeting = serializers.IntegerField(**ID)
    awards = LotAwardInSerializer(many=True, allow_empty=False, max_length=50)
    summary = serializers.CharField(max_length=TEXT_LIMIT)
    reasons = ReasonsSerializer(help_text="The reasons against each of the five key criteria.")
    conflicts_managed = serializers.CharField(max_length=TEXT_LIMIT, allow_blank=True, default="")


class AwardDecisionList(CycleRecordList):
    """The tender's award decisions, the current one last; or decide (the decision-maker, at a
    decision meeting): a bid for each lot, or no award."""

    model = AwardDecision
    serializer_class = AwardDecisionSerializer
    tag = TAG
    create_serializer = DecideSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[AwardDecision]:
        return (
            AwardDecision.objects.filter(tender__cycle=cycle)
            .select_related("decided_by")
            .prefetch_related("lots")
            .order_by("decided_at", "id")
        )

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return procurement.award_decide(
            actor=actor,
            cycle_id=self.cycle_id,
            meeting_id=data["meeting"],
            awards={item["lot"]: item["bid"] for item in data["awards"]},
            summary=data["summary"],
            reasons=dict(data["reasons"]),
            conflicts_managed=data["conflicts_managed"],
        )

    def created(self, record: Any) -> Any:
        return self.cycle_queryset(self.get_cycle()).get(pk=record.pk)


# --- the notice of intention and the standstill -----------------------------------------------


class StandstillSerializer(serializers.Serializer):
    may_award = serializers.BooleanField()
    code = serializers.CharField()
    message = serializers.CharField()
    earliest_award = serializers.DateField(allow_null=True)


class NoticeSerializer(serializers.Serializer):
    published = serializers.BooleanField(help_text="False: a draft from the records as they stand.")
    published_on = serializers.DateField(allow_null=True)
    standstill_ends_on = serializers.DateField(allow_null=True)
    contract_awarded_on = serializers.DateField(allow_null=True)
    abandoned = serializers.BooleanField()
    contents = serializers.DictField(help_text="The fields the regime requires of the notice.")
    missing = serializers.ListField(
        child=serializers.CharField(), help_text="What the records do not yet give (a draft)."
    )
    standstill = StandstillSerializer(allow_null=True)


def _published(tender: Tender) -> IntentionNotice | None:
    return (
        IntentionNotice.objects.filter(decision__tender=tender)
        .prefetch_related("representations")
        .order_by("-id")
        .first()
    )


def _notice(tender: Tender) -> dict[str, Any]:
    published = _published(tender)
    if published is None:
        draft = notice.build(tender.pk)
        return {
            "published": False,
            "published_on": None,
            "standstill_ends_on": None,
            "contract_awarded_on": None,
            "abandoned": False,
            "contents": draft.as_dict(),
            "missing": list(draft.missing),
            "standstill": None,
        }
    state = selectors.standstill_state(published, today=workdays.uk_date(timezone.now()))
    return {
        "published": True,
        "published_on": published.published_on,
        "standstill_ends_on": published.standstill_ends_on,
        "contract_awarded_on": published.contract_awarded_on,
        "abandoned": published.abandoned,
        "contents": json.loads(published.contents),
        "missing": [],
        "standstill": state.__dict__,
    }


class DateSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, help_text="Today if left out.")


class NoticeView(CycleScopedMixin, APIView):
    @extend_schema(responses=NoticeSerializer, tags=[TAG])
    def get(self, request: Request, cycle_id: int) -> Response:
        """The notice of intention as published, with where its standstill stands; or, before
        it is published, a draft from the records and what they do not yet give."""
        return Response(NoticeSerializer(_notice(_tender(self.get_cycle()))).data)

    @extend_schema(request=DateSerializer, responses={201: NoticeSerializer}, tags=[TAG])
    def post(self, request: Request, cycle_id: int) -> Response:
        """Publish the notice, generated from the records, and start the standstill (the lead
        commissioner)."""
        data = _input(request, DateSerializer)
        procurement.notice_publish(
            actor=request.user, cycle_id=self.cycle_id, published_on=data.get("on")
        )
        body = NoticeSerializer(_notice(_tender(self.get_cycle()))).data
        return Response(body, status=status.HTTP_201_CREATED)


class RepresentationSerializer(serializers.ModelSerializer):
    recorded_by = Username(read_only=True)
    reviewed_by = Username(read_only=True, allow_null=True)

    class Meta:
        model = Representation
        fields = [
            "id",
            "provider",
            "received_on",
            "summary",
            "recorded_by",
            "outcome",
            "review_reasons",
            "reviewed_on",
            "reviewed_by",
            "waits_until",
        ]


class RepresentationRecordSerializer(serializers.Serializer):
    provider = serializers.CharField(max_length=200)
    summary = serializers.CharField(max_length=TEXT_LIMIT)
    received_on = serializers.DateField(required=False, help_text="Today if left out.")


class RepresentationList(CycleRecordList):
    """Representations made during the standstill, in order; or record one (the lead
    commissioner): the award waits for the decision-maker's review."""

    model = Representation
    serializer_class = RepresentationSerializer
    tag = TAG
    create_serializer = RepresentationRecordSerializer

    def cycle_queryset(self, cycle: CommissioningCycle) -> QuerySet[Representation]:
        return (
            Representation.objects.filter(notice__decision__tender__cycle=cycle)
            .select_related("recorded_by", "reviewed_by")
            .order_by("received_on", "id")
        )

    def record(self, actor: Any, data: dict[str, Any]) -> Any:
        return procurement.representation_record(actor=actor, cycle_id=self.cycle_id, **data)


class ReviewSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Representation.Outcome.values)
    reasons = serializers.CharField(max_length=TEXT_LIMIT)
    reviewed_on = serializers.DateField(required=False, help_text="Today if left out.")


class RepresentationReview(CycleScopedMixin, APIView):
    @extend_schema(request=ReviewSerializer, responses=RepresentationSerializer, tags=[TAG])
    def post(self, request: Request, cycle_id: int, representation_id: int) -> Response:
        """Review the decision after a representation (the decision-maker): proceed, which waits
        a further 5 working days, or abandon the award."""
        data = _input(request, ReviewSerializer)
        reviewed = procurement.representation_review(
            actor=request.user,
            cycle_id=self.cycle_id,
            representation_id=_path_id(representation_id, "representation"),
            **data,
        )
        return Response(RepresentationSerializer(reviewed).data)


class ContractAward(CycleScopedMixin, APIView):
    @extend_schema(request=DateSerializer, responses=NoticeSerializer, tags=[TAG])
    def post(self, request: Request, cycle_id: int) -> Response:
        """Record the contract as awarded (the lead commissioner): refused until the standstill
        is over (``standstill.*``)."""
        data = _input(request, DateSerializer)
        procurement.contract_award_record(
            actor=request.user, cycle_id=self.cycle_id, awarded_on=data.get("on")
        )
        return Response(NoticeSerializer(_notice(_tender(self.get_cycle()))).data)

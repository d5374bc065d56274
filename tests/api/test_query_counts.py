"""The number of queries of each list endpoint does not grow with the number of cycles, nor with
the number of records on a page (every related row is fetched with its page); and every list
endpoint of the API is paged and measured here."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.mixins import ListModelMixin

from cycle import duty_services, self_assessment, services, workdays
from cycle.meetings import meeting_schedule
from cycle.models import CommissioningCycle, CoverageGroup, UserInput
from cycle.procurement import services as procurement
from cycle.procurement.models import Bid, IntentionNotice, Lot, Tender
from roles import services as role_services
from tests.api.conftest import Caller
from tests.factories import CycleWorld, assess_duty, representative
from tests.procurement.conftest import COMPETITIVE, LOTS
from tests.procurement.test_decision import REASONS

LISTS = [
    "cycles/",
    "cycles/{id}/stages/",
    "cycles/{id}/visits/",
    "cycles/{id}/boundaries/",
    "cycles/{id}/budget/",
    "cycles/{id}/signoffs/",
    "cycles/{id}/overrides/",
    "cycles/{id}/decisions/",
    "cycles/{id}/inputs/",
    "cycles/{id}/inputs/{input}/responses/",
    "cycles/{id}/panel/",
    "cycles/{id}/agreements/",
    "cycles/{id}/declarations/",
    "cycles/{id}/duty/",
    "cycles/{id}/duty/proposal-changes/",
    "cycles/{id}/consultations/",
    "cycles/{id}/pressures/",
    "cycles/{id}/coverage/",
    "cycles/{id}/meetings/",
    "cycles/{id}/procurement/routes/",
    "cycles/{id}/procurement/bids/",
    "cycles/{id}/procurement/bids/{bid}/comments/",
    "cycles/{id}/procurement/decisions/",
    "cycles/{id}/procurement/representations/",
    "organisations/{org}/self-assessments/",
    "cycles/{id}/audit/",
    "audit/",
    "notifications/",
    "tokens/",
]


PATH_IDS = {
    "cycle_id": "{id}",
    "input_id": "{input}",
    "bid_id": "{bid}",
    "organisation_id": "{org}",
}


def _list_endpoints(patterns: list[Any], prefix: str = "") -> dict[str, type[Any]]:
    """Every path of the API whose view lists, as the template ``LISTS`` spells it."""
    found: dict[str, type[Any]] = {}
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found |= _list_endpoints(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "view_class", None)
            if view is not None and issubclass(view, ListModelMixin):
                path = re.sub(r"<\w+:(\w+)>", lambda m: PATH_IDS[m.group(1)], route)
                found[path.removeprefix("api/v1/")] = view
    return found


def test_every_list_endpoint_is_paged_and_its_queries_are_counted_here() -> None:
    api = next(p for p in get_resolver().url_patterns if str(getattr(p, "pattern", "")) == "api/")
    endpoints = _list_endpoints(api.url_patterns, "api/")
    assert sorted(endpoints) == sorted(LISTS)
    unpaged = [path for path, view in endpoints.items() if view.pagination_class is None]
    assert unpaged == []


def _records(world: CycleWorld, cycle_id: int) -> None:
    """A stage's worth of records of every kind on one cycle of ``world``'s lead."""
    lead, member = world.lead, world.panel[0]
    services.boundaries_agree(
        actor=lead,
        cycle_id=cycle_id,
        purpose="Shape the service.",
        user_role="Comment on the options.",
        influence="consult",
        decision_maker="The cabinet member.",
    )
    services.budget_disclose(actor=lead, cycle_id=cycle_id, amount="1000")
    for who in world.panel:
        services.boundaries_acknowledge(actor=who, cycle_id=cycle_id)
        services.signoff_record(actor=who, cycle_id=cycle_id)
    role_services.conflict_declare(actor=member, cycle_id=cycle_id, interest="none")
    user_input = services.input_submit(actor=member, cycle_id=cycle_id, text="Keep Saturdays.")
    services.input_respond(
        actor=lead, cycle_id=cycle_id, input_id=user_input.pk, kind="considering"
    )
    services.input_respond(
        actor=lead, cycle_id=cycle_id, input_id=user_input.pk, kind="we-did", text="Kept."
    )
    services.decision_record(actor=world.decider, cycle_id=cycle_id, summary="Go ahead.")
    if not CommissioningCycle.objects.filter(pk=cycle_id, involvement_lead__isnull=False).exists():
        services.involvement_lead_name(actor=lead, cycle_id=cycle_id, lead=lead)
    assess_duty(lead, cycle_id)
    duty_services.proposal_change_record(actor=lead, cycle_id=cycle_id, summary="Five hubs.")
    consultation = duty_services.consultation_open(
        actor=lead,
        cycle_id=cycle_id,
        title="Six hubs or eight?",
        document="The options paper.",
        opens_on=date(2026, 3, 2),
        closes_on=date(2026, 5, 25),
        equality_kind="assessment",
        equality_reference="EIA-2026-014",
    )
    duty_services.consultation_consider(
        actor=lead,
        cycle_id=cycle_id,
        consultation_id=consultation.pk,
        responses=12,
        analysis="Most asked for hubs near bus routes.",
        statement="The specification asks for hubs on bus routes.",
    )
    duty_services.pressure_record(
        actor=lead,
        cycle_id=cycle_id,
        category="political-control",
        title="No council tax rise",
        implication="There is less money for day services.",
    )
    duty_services.pressure_record(
        actor=lead,
        cycle_id=cycle_id,
        category="political-control",
        title="A budget round to come",
        implication="The budget may change.",
        disclosed=False,
        withheld_reason="The cabinet has not yet seen it.",
    )
    group = duty_services.coverage_group_add(
        actor=lead,
        cycle_id=cycle_id,
        name=f"Young carers {CoverageGroup.objects.count()}",
        kind="easy-to-overlook",
    )
    duty_services.coverage_record(
        actor=lead,
        cycle_id=cycle_id,
        group_id=group.pk,
        member_ids=[member.pk],
        respondents={consultation.pk: 4},
    )
    _procurement(world, cycle_id)
    services.signoff_record(actor=member, cycle_id=cycle_id, dissent="Not told in time.")
    services.gate_override(actor=world.governor, cycle_id=cycle_id, reason="Board agreed.")


def _procurement(world: CycleWorld, cycle_id: int) -> None:
    """A tender with bids, views on them, a decision, its notice and a representation. A cycle
    has one tender, closed to bids and views once decided: a second call on the same cycle adds
    a meeting and a representation only (the bids and views grow across cycles)."""
    lead = world.lead
    if not Tender.objects.filter(cycle_id=cycle_id).exists():
        procurement.route_record(
            actor=lead, cycle_id=cycle_id, answers=COMPETITIVE, rationale="A new model."
        )
        procurement.tender_open(
            actor=lead,
            cycle_id=cycle_id,
            title="Day services",
            reference="DS-1",
            services="Hubs",
            cpv_code="85311000",
            lifetime_value="1000000",
            user_panel_weight="30",
            lots=LOTS,
        )
    decided = IntentionNotice.objects.filter(decision__tender__cycle_id=cycle_id).exists()
    meeting = meeting_schedule(
        actor=lead,
        cycle_id=cycle_id,
        held_on=date(2026, 3, 2),
        forum="Partnership board",
        decision_maker=world.decider,
    )
    if not decided:
        lots = list(Lot.objects.filter(tender__cycle_id=cycle_id).order_by("position"))
        bids = [
            procurement.bid_record(
                actor=lead, cycle_id=cycle_id, lot_id=lot.pk, bidder=f"Bidder {n}", address="1 Way"
            )
            for n, lot in enumerate(lots * 2)
        ]
        for bid in bids:
            procurement.bid_comment_record(
                actor=lead, cycle_id=cycle_id, bid_id=bid.pk, text="Good."
            )
        procurement.award_decide(
            actor=world.decider,
            cycle_id=cycle_id,
            meeting_id=meeting.pk,
            awards={lot.pk: bids[i].pk for i, lot in enumerate(lots)},
            summary="Award both lots.",
            reasons=REASONS,
        )
        yesterday = workdays.uk_date(timezone.now()) - timedelta(days=1)
        procurement.notice_publish(actor=lead, cycle_id=cycle_id, published_on=yesterday)
    procurement.representation_record(
        actor=lead, cycle_id=cycle_id, provider="Bidder 9", summary="Not scored fairly."
    )


def _another_cycle(world: CycleWorld) -> int:
    cycle = services.cycle_create(
        actor=world.lead, title="More", organisation=world.organisation, lead=world.lead
    )
    for member in world.panel:
        role_services.membership_add(actor=world.lead, cycle_id=cycle.pk, member=member)
    return cycle.pk


def _self_assessment(world: CycleWorld) -> None:
    """A new version of the organisation's self-assessment, by its governance board."""
    duty_services.self_assessment_record(
        actor=world.governor,
        organisation_id=world.organisation.pk,
        scores=[
            {"dimension": key, "score": 2, "comments": "Some of it."}
            for key in self_assessment.DIMENSION_KEYS
        ],
    )


def _counts(caller: Caller, world: CycleWorld) -> dict[str, int]:
    """Each list's queries, as the lead commissioner (the organisation's self-assessments as its
    governance board member, who may read them)."""
    board = Caller(world.governor)
    first_input = UserInput.objects.filter(cycle=world.cycle).order_by("id").first()
    assert first_input is not None
    first_bid = Bid.objects.filter(tender__cycle=world.cycle).order_by("id").values("pk")[0]["pk"]
    counts = {}
    for template in LISTS:
        path = template.format(
            id=world.id, input=first_input.pk, bid=first_bid, org=world.organisation.pk
        )
        who = board if template.startswith("organisations/") else caller
        with CaptureQueriesContext(connection) as queries:
            response = who.get(path)
        assert response.status_code == 200, (path, response.content)
        assert response.json()["results"], f"{path} listed nothing"
        counts[template] = len(queries)
    return counts


@pytest.mark.django_db
def test_list_endpoints_cost_the_same_however_many_cycles_and_records(world: CycleWorld) -> None:
    from tests.factories import user_with_role

    world.decider = user_with_role("Decision-maker")
    world.organisation.staff.add(world.decider)
    role_services.agreement_record(
        actor=world.lead, cycle_id=world.id, task="Help.", responsibilities="Come.", support="Us."
    )
    _records(world, world.id)
    _self_assessment(world)
    caller = Caller(world.lead)
    one = _counts(caller, world)

    for _ in range(4):
        _records(world, _another_cycle(world))
    # And more of every record on the first cycle itself.
    role_services.membership_add(actor=world.lead, cycle_id=world.id, member=representative())
    role_services.agreement_record(
        actor=world.lead, cycle_id=world.id, task="Help!", responsibilities="Come.", support="Us."
    )
    _records(world, world.id)
    Caller(world.lead)  # a second token, so the token list grows too
    _self_assessment(world)
    many = _counts(caller, world)

    print("\nqueries per list request (1 cycle / 5 cycles, twice the records):")
    for path in LISTS:
        print(f"  {one[path]:>2} / {many[path]:>2}  {path}")
    assert many == one

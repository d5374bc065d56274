"""The procurement pages that record something, through the Django test client: the route (its
questions in order, then a check of the answers), the tender, bids, moderation, the decision
meeting and its papers, the award, the notice, a representation and its review, the contract."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from cycle import workdays
from cycle.models import AuditEvent, DecisionMeeting
from cycle.procurement import services as procurement
from cycle.procurement.models import (
    AwardDecision,
    Bid,
    IntentionNotice,
    Moderation,
    Representation,
    RouteAssessment,
    Tender,
)
from cycle.procurement.routes import QUESTIONS
from tests.procurement.conftest import Tendering
from tests.procurement.test_decision import REASONS
from tests.procurement.test_pages import client_for, one_h1
from tests.procurement.test_pages import text as raw_text
from tests.roles.cast import Cast, build_cast

pytestmark = pytest.mark.django_db

DIRECT_AWARD_C = {
    "framework": "no",
    "existing_provider": "yes",
    "only_existing_provider_capable": "no",
    "patient_choice": "no",
    "contract_expiring": "yes",
    "provider_performing": "yes",
    "materially_different": "no",
    "change_by_authority": "yes",
    "existing_lifetime_value": "800000",
    "proposed_lifetime_value": "900000",
    "use_direct_award_c": "yes",
}


def url(name: str, cycle_id: int, *args: int) -> str:
    return reverse(f"web:{name}", args=[cycle_id, *args])


def text(response: Any) -> str:
    return html.unescape(raw_text(response))


def today() -> Any:
    return workdays.uk_date(timezone.now())


def uk(day: Any) -> str:
    return day.strftime("%d/%m/%Y")


@pytest.fixture
def cast(db: Any) -> Cast:
    return build_cast("steps")


def test_the_route_page_asks_the_regimes_questions_in_order(cast: Cast) -> None:
    page = client_for(cast.lead).get(url("procurement-route", cast.id))

    one_h1(page)
    body = text(page)
    positions = [body.index(question) for question in QUESTIONS.values()]
    assert positions == sorted(positions)
    assert body.index("Why are these the right answers?") > positions[-1]


def test_a_question_the_answers_reach_must_be_answered_and_nothing_is_recorded(
    cast: Cast,
) -> None:
    answers = {k: v for k, v in DIRECT_AWARD_C.items() if k != "materially_different"}
    page = client_for(cast.lead).post(
        url("procurement-route", cast.id), {**answers, "rationale": "It works well."}
    )

    assert page.status_code == 200
    assert "nhsuk-error-summary" in page.content.decode()
    assert 'href="#id_materially_different_0"' in page.content.decode()
    assert "Answer this question: the process depends on it" in text(page)
    assert not RouteAssessment.objects.exists()


def test_the_answers_are_checked_with_their_process_before_they_are_recorded(cast: Cast) -> None:
    client = client_for(cast.lead)
    form = {**DIRECT_AWARD_C, "rationale": "The breaks service performs well; it ends in March."}

    check = client.post(url("procurement-route", cast.id), form)
    assert not RouteAssessment.objects.exists()
    body = text(check)
    one_h1(check)
    assert "Check your answers" in body
    assert "The process: Direct award process C" in body
    assert "£800,000" in body and "£900,000" in body
    # A rise of £100,000 (12.5%) is under both figures of reg 6(11)(b).
    assert "less than £500,000 or less than 25%" in body and "reg 6(11)(b)" in body

    changed = client.post(url("procurement-route", cast.id), {**form, "change": "1"})
    assert "How the provider is chosen" in text(changed)
    assert 'value="800000"' in changed.content.decode()
    assert not RouteAssessment.objects.exists()

    recorded = client.post(url("procurement-route", cast.id), {**form, "confirm": "1"}, follow=True)
    assert recorded.redirect_chain[-1][0] == url("procurement", cast.id)
    assert "You recorded the route: Direct award process C." in text(recorded)
    assessment = RouteAssessment.objects.get(cycle=cast.cycle)
    assert assessment.route == "direct-award-c"
    assert assessment.existing_lifetime_value == 800000
    assert assessment.rationale.startswith("The breaks service")


def test_only_the_lead_commissioner_records_the_route(cast: Cast) -> None:
    form = {**DIRECT_AWARD_C, "rationale": "x", "confirm": "1"}
    page = client_for(cast.representative).post(url("procurement-route", cast.id), form)

    assert "nhsuk-error-summary" in page.content.decode()
    assert not RouteAssessment.objects.exists()
    assert AuditEvent.objects.filter(outcome="refused").exists()


def tender_form(**changes: str) -> dict[str, str]:
    form = {
        "title": "Carers' breaks",
        "reference": "CB-2026",
        "services": "Short breaks for carers.",
        "cpv_code": "85312000",
        "lifetime_value": "900000",
        "user_panel_weight": "50",
        "lot_1_name": "Whole borough",
        "lot_1_kind": "locality-wide",
        "lot_1_area": "The borough",
        "weight_quality": "30",
        "weight_value": "20",
        "weight_integration": "15",
        "weight_access": "15",
        "weight_social-value": "10",
        "extra_1_name": "Breaks at weekends",
        "extra_1_weight": "10",
    }
    form.update(changes)
    return form


def record_route(cast: Cast, answers: dict[str, str] = DIRECT_AWARD_C) -> None:
    procurement.route_record(
        actor=cast.lead, cycle_id=cast.id, answers=answers, rationale="It works well."
    )


def test_the_tender_page_opens_a_tender_with_lots_criteria_and_the_panels_weight(
    cast: Cast,
) -> None:
    record_route(cast)
    client = client_for(cast.lead)
    page = client.get(url("procurement-tender", cast.id))
    one_h1(page)
    assert "The route recorded is the direct award process c." in text(page)

    opened = client.post(url("procurement-tender", cast.id), tender_form(), follow=True)

    assert "You opened the tender CB-2026: Carers' breaks." in text(opened)
    tender = Tender.objects.get(cycle=cast.cycle)
    assert tender.user_panel_weight == 50
    assert [(lot.name, lot.kind) for lot in tender.lots.all()] == [
        ("Whole borough", "locality-wide")
    ]
    assert [(c.key, c.weight) for c in tender.criteria.all()] == [
        ("quality", 30),
        ("value", 20),
        ("integration", 15),
        ("access", 15),
        ("social-value", 10),
        ("", 10),
    ]


def test_weights_that_do_not_add_up_to_100_are_refused_and_nothing_is_opened(
    cast: Cast,
) -> None:
    record_route(cast)
    page = client_for(cast.lead).post(
        url("procurement-tender", cast.id), tender_form(extra_1_weight="20")
    )

    assert "nhsuk-error-summary" in page.content.decode()
    assert "The criteria's weights must add up to 100." in text(page)
    assert not Tender.objects.exists()
    title = re.search(r"<title>(.*?)</title>", page.content.decode(), re.S)
    assert title is not None
    assert title.group(1).strip().startswith("Error: Open the tender")
    assert title.group(1).count("Error:") == 1


def test_a_weight_for_the_user_panel_over_100_lands_on_its_field(cast: Cast) -> None:
    record_route(cast)
    page = client_for(cast.lead).post(
        url("procurement-tender", cast.id), tender_form(user_panel_weight="120")
    )

    assert 'href="#id_user_panel_weight"' in page.content.decode()
    assert not Tender.objects.exists()


def test_a_bid_is_recorded_on_its_page(tendering: Tendering) -> None:
    cast = tendering.cast
    lot = tendering.lot("Vocational services")
    done = client_for(cast.lead).post(
        url("procurement-bid-new", cast.id),
        {
            "lot": str(lot.pk),
            "bidder": "Northvale",
            "address": "2 Mill Lane",
            "submitted_on": "01/10/2008",
        },
        follow=True,
    )
    again = client_for(cast.lead).post(
        url("procurement-bid-new", cast.id),
        {"lot": str(lot.pk), "bidder": "Northvale", "address": "x", "submitted_on": "01/10/2008"},
    )

    assert "You recorded the bid by Northvale for Vocational services." in text(done)
    assert Bid.objects.filter(lot=lot, bidder="Northvale").count() == 1
    assert 'href="#id_bidder"' in again.content.decode()


def test_moderation_records_the_agreed_score_beside_each_scorers_own(
    tendering: Tendering,
) -> None:
    cast = tendering.cast
    tendering.score_all(cast.representative, "Pathways Trust", 2)
    tendering.score_all(cast.second_representative, "Pathways Trust", 5)
    bid = tendering.bid("Pathways Trust")
    quality = tendering.criterion("quality")
    client = client_for(cast.lead)

    page = client.get(url("procurement-moderate", cast.id, bid.pk))
    nothing = client.post(
        url("procurement-moderate", cast.id, bid.pk),
        {"criterion": quality.pk, "side": "commissioners", "score": "3", "reason": "Agreed."},
    )
    done = client.post(
        url("procurement-moderate", cast.id, bid.pk),
        {
            "criterion": quality.pk,
            "side": "user-panel",
            "score": "3.5",
            "reason": "We talked it through.",
        },
        follow=True,
    )

    one_h1(page)
    assert "east-rep2" in text(page) and "east-rep " in text(page)
    assert "Nobody on that side has scored this yet." in text(nothing)
    assert "You recorded the agreed score 3.5 for the bid by Pathways Trust." in text(done)
    assert Moderation.objects.get().reason == "We talked it through."


def schedule(world: Tendering, held_on: Any) -> DecisionMeeting:
    client = client_for(world.cast.lead)
    client.post(
        url("procurement-meeting", world.id),
        {
            "held_on": uk(held_on),
            "forum": "Partnership board",
            "decision_maker": str(world.cast.decision_maker.pk),
        },
    )
    return DecisionMeeting.objects.get(cycle=world.cast.cycle)


def test_the_meeting_and_its_papers_are_recorded_on_their_pages(tendering: Tendering) -> None:
    cast = tendering.cast
    held_on = today()
    page = client_for(cast.lead).get(url("procurement-meeting", cast.id))
    assert str(cast.decision_maker.get_username()) in text(page)

    meeting = schedule(tendering, held_on)
    late = client_for(cast.lead).post(
        url("procurement-papers", cast.id, meeting.pk),
        {"issued_on": uk(held_on + timedelta(days=1))},
    )
    sent = client_for(cast.lead).post(
        url("procurement-papers", cast.id, meeting.pk),
        {"issued_on": uk(held_on - timedelta(days=8))},
        follow=True,
    )

    assert meeting.decision_maker == cast.decision_maker and meeting.forum == "Partnership board"
    assert 'href="#id_issued_on"' in late.content.decode()
    assert "went to the panel on" in text(sent)
    meeting.refresh_from_db()
    assert meeting.papers_issued_on == held_on - timedelta(days=8)


def award_form(world: Tendering, meeting: DecisionMeeting, **awards: str) -> dict[str, str]:
    form = {
        "meeting": str(meeting.pk),
        "summary": "Award the eastern hub to Pathways Trust.",
        **{f"reasons_{key}": value for key, value in REASONS.items()},
    }
    for lot in world.tender.lots.all():
        form[f"lot_{lot.pk}"] = awards.get(lot.name.split()[0].lower(), "none")
    return form


def test_the_decision_maker_decides_the_award_on_the_page(tendering: Tendering) -> None:
    cast = tendering.cast
    meeting = schedule(tendering, today())
    pathways = str(tendering.bid("Pathways Trust").pk)
    client = client_for(cast.decision_maker)

    page = client.get(url("procurement-award", cast.id))
    missing = client.post(
        url("procurement-award", cast.id),
        {**award_form(tendering, meeting, eastern=pathways), "reasons_value": ""},
    )
    done = client.post(
        url("procurement-award", cast.id),
        award_form(tendering, meeting, eastern=pathways),
        follow=True,
    )

    one_h1(page)
    assert "No award for this lot" in text(page)
    assert "Give the reasons on “Value”" in text(missing)
    assert "You recorded the award decision." in text(done)
    decision = AwardDecision.objects.get()
    assert decision.outcome == "award" and decision.meeting == meeting
    assert {a.lot.name: a.bid and a.bid.bidder for a in decision.lots.all()} == {
        "Eastern hub": "Pathways Trust",
        "Vocational services": None,
    }


def test_no_award_is_decided_on_the_page_and_the_lead_cannot_decide(
    tendering: Tendering,
) -> None:
    cast = tendering.cast
    meeting = schedule(tendering, today())
    refused = client_for(cast.lead).post(
        url("procurement-award", cast.id), award_form(tendering, meeting)
    )
    done = client_for(cast.decision_maker).post(
        url("procurement-award", cast.id), award_form(tendering, meeting), follow=True
    )

    assert "nhsuk-error-summary" in refused.content.decode()
    assert "You recorded the decision: no award." in text(done)
    assert AwardDecision.objects.get().outcome == "no-award"
    overview = text(client_for(cast.lead).get(url("procurement", cast.id)))
    assert "Publish the notice of intention" not in overview


def test_a_direct_award_c_through_the_pages_from_route_to_contract(cast: Cast) -> None:
    """Route, tender, bid, meeting, award, notice, a representation, its review, the contract:
    every step on its page, the standstill counted in working days."""
    lead, decider = client_for(cast.lead), client_for(cast.decision_maker)
    lead.post(
        url("procurement-route", cast.id),
        {**DIRECT_AWARD_C, "rationale": "Performing well.", "confirm": "1"},
    )
    lead.post(url("procurement-tender", cast.id), tender_form())
    tender = Tender.objects.get(cycle=cast.cycle)
    world = Tendering(cast=cast, tender=tender)
    lead.post(
        url("procurement-bid-new", cast.id),
        {
            "lot": str(world.lot("Whole borough").pk),
            "bidder": "Carers Together",
            "address": "3 Park Road",
            "submitted_on": uk(today() - timedelta(days=30)),
        },
    )
    world.score_all(cast.lead, "Carers Together", 4)
    world.score_all(cast.representative, "Carers Together", 4)
    meeting = schedule(world, today())
    decider.post(
        url("procurement-award", cast.id),
        {
            "meeting": str(meeting.pk),
            f"lot_{world.lot('Whole borough').pk}": str(world.bid("Carers Together").pk),
            "summary": "Award to the existing provider.",
            **{f"reasons_{key}": value for key, value in REASONS.items()},
        },
    )
    # Published on Friday 19 December 2025: the standstill ends on 5 January 2026, across the
    # Christmas and New Year bank holidays.
    published = lead.post(
        url("procurement-notice-publish", cast.id), {"published_on": "19/12/2025"}, follow=True
    )
    assert "until the end of 5 January 2026" in text(published)
    notice = IntentionNotice.objects.get()
    assert "direct award process c" in json.loads(notice.contents)["process"]

    outside = lead.post(
        url("procurement-representation", cast.id),
        {"provider": "Open Doors", "received_on": "06/01/2026", "summary": "Too late."},
    )
    assert 'href="#id_received_on"' in outside.content.decode()
    lead.post(
        url("procurement-representation", cast.id),
        {
            "provider": "Open Doors",
            "received_on": "02/01/2026",
            "summary": "We were never asked whether we could provide the service.",
        },
    )
    representation = Representation.objects.get()
    waiting = text(lead.get(url("procurement", cast.id)))
    assert "the decision is under review" in waiting
    held = lead.post(url("procurement-contract", cast.id), {"awarded_on": "07/01/2026"})
    assert "the decision is under review" in text(held)

    reviewed = decider.post(
        url("procurement-review", cast.id, representation.pk),
        {
            "outcome": "proceed",
            "reasons": "Direct award C was open: the provider performs well.",
            "reviewed_on": "07/01/2026",
        },
        follow=True,
    )
    # Five working days after Wednesday 7 January 2026.
    assert "The contract can be awarded after 14 January 2026." in text(reviewed)
    early = lead.post(url("procurement-contract", cast.id), {"awarded_on": "14/01/2026"})
    assert 'href="#id_awarded_on"' in early.content.decode()
    done = lead.post(
        url("procurement-contract", cast.id), {"awarded_on": "15/01/2026"}, follow=True
    )

    assert "You recorded the contract as awarded on 15 January 2026." in text(done)
    notice.refresh_from_db()
    assert str(notice.contract_awarded_on) == "2026-01-15"
    overview = text(lead.get(url("procurement", cast.id)))
    assert "The contract was awarded on 15 January 2026." in overview
    assert "Proceed with the decision" in overview


def test_every_step_page_answers_its_people_with_one_heading(tendering: Tendering) -> None:
    cast = tendering.cast
    meeting = schedule(tendering, today())
    bid = tendering.bid("Pathways Trust")
    for user, name, args in (
        (cast.lead, "procurement-route", ()),
        (cast.lead, "procurement-tender", ()),
        (cast.lead, "procurement-bid-new", ()),
        (cast.lead, "procurement-moderate", (bid.pk,)),
        (cast.lead, "procurement-meeting", ()),
        (cast.lead, "procurement-papers", (meeting.pk,)),
        (cast.decision_maker, "procurement-award", ()),
        (cast.lead, "procurement-notice-publish", ()),
        (cast.lead, "procurement-representation", ()),
        (cast.lead, "procurement-contract", ()),
    ):
        page = client_for(user).get(url(name, cast.id, *args))
        assert page.status_code == 200, name
        one_h1(page)


def test_the_overview_offers_each_person_only_their_own_steps(tendering: Tendering) -> None:
    cast = tendering.cast
    lead = text(client_for(cast.lead).get(url("procurement", cast.id)))
    decider = text(client_for(cast.decision_maker).get(url("procurement", cast.id)))
    member = text(client_for(cast.representative).get(url("procurement", cast.id)))

    assert "Record a bid" in lead and "Schedule a decision meeting" in lead
    assert "Decide the award" not in lead
    assert "Decide the award" in decider and "Record a bid" not in decider
    assert "Record a bid" not in member and "Moderate" not in member


def test_a_scorer_tells_of_a_link_to_a_bid_on_its_page_and_is_then_recused(
    tendering: Tendering,
) -> None:
    cast = tendering.cast
    bid = tendering.bid("Workwise")
    client = client_for(cast.second_representative)
    page = client.get(url("procurement-bid", cast.id, bid.pk))
    assert "Do you have a link to this bid?" in text(page)

    blank = client.post(url("procurement-bid-interest", cast.id, bid.pk), {"interest": "other"})
    told = client.post(
        url("procurement-bid-interest", cast.id, bid.pk),
        {"interest": "bidder-link", "details": "My brother runs Workwise."},
        follow=True,
    )
    after = client.get(url("procurement-bid", cast.id, bid.pk))

    assert 'href="#id_details"' in blank.content.decode()
    assert "You told us about your link to the bid by Workwise." in text(told)
    assert "So you do not score it" in text(after)
    assert "My brother runs Workwise." in text(after)
    assert 'name="score_' not in after.content.decode()


def test_the_procurement_page_costs_the_same_with_more_bids_scores_and_meetings(
    tendering: Tendering,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cast = tendering.cast
    client = client_for(cast.lead)
    grown = iter(range(100))

    def grow() -> int:
        number = next(grown)
        for lot in ("Eastern hub", "Vocational services"):
            bidder = f"Provider {number} for {lot}"
            tendering.add_bid(lot, bidder)
            tendering.score_all(cast.lead, bidder, 3)
            tendering.score_all(cast.representative, bidder, 4)
        procurement.bid_comment_record(
            actor=cast.second_representative,
            cycle_id=cast.id,
            bid_id=tendering.bid(f"Provider {number} for Eastern hub").pk,
            text="Friendly staff.",
        )
        schedule_more = procurement_meeting(cast, number)
        assert schedule_more.pk
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url("procurement", cast.id)).status_code == 200
        return len(captured)

    assert grow() == grow()


def procurement_meeting(cast: Cast, number: int) -> DecisionMeeting:
    from cycle.meetings import meeting_schedule

    return meeting_schedule(
        actor=cast.lead,
        cycle_id=cast.id,
        held_on=today() + timedelta(days=number + 1),
        forum=f"Partnership board {number}",
        decision_maker=cast.decision_maker,
    )

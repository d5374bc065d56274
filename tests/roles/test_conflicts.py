"""The conflict-of-interest register: declarations before procurement, and recusal from scoring."""

from __future__ import annotations

import pytest

from cycle import selectors
from cycle.errors import Forbidden, GateClosed, InvalidRequest
from roles import services as role_services
from roles.models import ConflictDeclaration, PanelMembership
from roles.selectors import DeclaredInterest, scoring_recusals
from tests.roles.cast import Cast

pytestmark = pytest.mark.django_db


def declare(cast: Cast, member, interest: str, details: str = "") -> ConflictDeclaration:
    return role_services.conflict_declare(
        actor=member, cycle_id=cast.id, interest=interest, details=details
    )


def walk_to_design(cast: Cast) -> None:
    while cast.refresh().current_stage != "design":
        cast.pass_stage()


def meet_design_gate_but_conflicts(cast: Cast) -> None:
    cast.evidence_for_signoff()
    cast.attest()


def test_procurement_cannot_start_until_every_tender_panel_member_has_declared(
    cast: Cast,
) -> None:
    walk_to_design(cast)
    meet_design_gate_but_conflicts(cast)
    declare(cast, cast.representative, "uses-service", "Goes to the Oak Lane day centre.")

    with pytest.raises(GateClosed) as closed:
        cast.advance()

    assert closed.value.result.codes == ("conflicts.undeclared",)
    declare(cast, cast.second_representative, "none")
    assert cast.advance().stage_key == "procurement"


def test_members_not_on_the_tender_panel_need_not_declare(cast: Cast) -> None:
    walk_to_design(cast)
    role_services.membership_set_tender_panel(
        actor=cast.lead, cycle_id=cast.id, member=cast.second_representative, tender_panel=False
    )
    meet_design_gate_but_conflicts(cast)
    declare(cast, cast.representative, "none")

    assert selectors.gate_state(cast.cycle).open


def test_a_member_put_on_the_tender_panel_late_must_declare_before_procurement(
    cast: Cast,
) -> None:
    role_services.membership_add(actor=cast.lead, cycle_id=cast.id, member=cast.newcomer)
    walk_to_design(cast)
    meet_design_gate_but_conflicts(cast)
    cast.declare_none(cast.representative, cast.second_representative)
    assert selectors.gate_state(cast.cycle).open

    role_services.membership_set_tender_panel(
        actor=cast.lead, cycle_id=cast.id, member=cast.newcomer, tender_panel=True
    )

    assert selectors.gate_state(cast.cycle).codes == ("conflicts.undeclared",)


def test_scoring_recusals_list_the_interests_of_active_tender_panel_members(cast: Cast) -> None:
    role_services.membership_add(actor=cast.lead, cycle_id=cast.id, member=cast.newcomer)
    declare(cast, cast.representative, "uses-service", "Oak Lane day centre")
    declare(cast, cast.representative, "bidder-link", "Sister works for Pathways CIC")
    declare(cast, cast.second_representative, "none")
    declare(cast, cast.newcomer, "uses-service", "Riverside hub")  # not on the tender panel

    assert scoring_recusals(cast.cycle) == {
        cast.representative.pk: (
            DeclaredInterest("uses-service", "Oak Lane day centre"),
            DeclaredInterest("bidder-link", "Sister works for Pathways CIC"),
        )
    }


def test_a_later_none_does_not_cancel_an_interest_declared_earlier(cast: Cast) -> None:
    declare(cast, cast.representative, "bidder-link", "My sister chairs Pathways CIC.")
    declare(cast, cast.representative, "none")

    assert scoring_recusals(cast.cycle)[cast.representative.pk] == (
        DeclaredInterest("bidder-link", "My sister chairs Pathways CIC."),
    )


def test_a_member_who_plans_to_bid_is_taken_off_the_tender_panel(cast: Cast) -> None:
    declare(cast, cast.representative, "plans-to-bid", "Our user-led group may bid for a hub.")

    assert cast.representative.pk not in scoring_recusals(cast.cycle)
    assert not PanelMembership.objects.get(member=cast.representative).tender_panel


def test_members_who_left_are_not_in_the_recusal_list(cast: Cast) -> None:
    declare(cast, cast.second_representative, "employment", "Works part-time for Pathways CIC.")
    role_services.membership_leave(actor=cast.second_representative, cycle_id=cast.id)

    assert scoring_recusals(cast.cycle) == {}


def test_the_recusal_list_costs_one_query(cast: Cast, django_assert_num_queries) -> None:
    declare(cast, cast.representative, "uses-service", "Oak Lane day centre")
    declare(cast, cast.second_representative, "other", "Trustee of a local charity.")
    with django_assert_num_queries(1):
        scoring_recusals(cast.cycle)


def test_an_interest_must_say_what_it_concerns(cast: Cast) -> None:
    with pytest.raises(InvalidRequest) as refused:
        declare(cast, cast.representative, "uses-service")
    assert refused.value.code == "invalid.details"


def test_an_unknown_kind_of_interest_is_refused(cast: Cast) -> None:
    with pytest.raises(InvalidRequest) as refused:
        declare(cast, cast.representative, "shares", "Holds shares in a bidder.")
    assert refused.value.code == "invalid.interest"


def test_only_panel_members_declare_and_only_for_themselves(cast: Cast) -> None:
    with pytest.raises(Forbidden) as refused:
        declare(cast, cast.lead, "none")
    assert refused.value.code == "forbidden.represent"
    assert not ConflictDeclaration.objects.exists()

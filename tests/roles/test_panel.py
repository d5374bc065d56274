"""Panel membership: joining and leaving, with history, and what it does to the gate."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser

from cycle import selectors, services
from cycle.errors import Conflict, Forbidden, InvalidRequest
from cycle.models import AuditEvent, SignOff, StageVisit
from roles import selectors as role_selectors
from roles import services as role_services
from roles.models import PanelMembership
from roles.permissions import REPRESENT_PERM
from tests.factories import fresh
from tests.roles.cast import Cast

pytestmark = pytest.mark.django_db


def last_event(cast: Cast) -> AuditEvent:
    return AuditEvent.objects.filter(cycle=cast.cycle).order_by("-seq").first()


def test_joining_lets_the_member_act_on_this_cycle_and_no_other(
    cast: Cast, other_cast: Cast
) -> None:
    role_services.membership_add(
        actor=cast.lead,
        cycle_id=cast.id,
        member=cast.newcomer,
        represents="young carers",
        tier=PanelMembership.Tier.REFERENCE_GROUP,
    )

    newcomer = fresh(cast.newcomer)
    assert newcomer.has_perm(REPRESENT_PERM, cast.cycle)
    assert not newcomer.has_perm(REPRESENT_PERM, other_cast.cycle)
    event = last_event(cast)
    assert event.action == "panel.joined"
    assert json.loads(event.payload) == {
        "member": "north-newcomer",
        "represents": "young carers",
        "tier": "reference-group",
        "tender_panel": False,
    }


def test_a_member_who_leaves_loses_the_permission_and_their_place_stays_in_the_history(
    cast: Cast,
) -> None:
    role_services.membership_leave(
        actor=cast.second_representative, cycle_id=cast.id, reason="Moved to another area."
    )

    assert not fresh(cast.second_representative).has_perm(REPRESENT_PERM, cast.cycle)
    former = PanelMembership.objects.get(cycle=cast.cycle, member=cast.second_representative)
    assert former.left_at is not None
    assert former.left_reason == "Moved to another area."
    assert former.represents == "carers"
    assert role_selectors.panel(cast.cycle) == [
        PanelMembership.objects.get(cycle=cast.cycle, member=cast.representative)
    ]
    assert former in role_selectors.panel(cast.cycle, include_former=True)
    payload = json.loads(last_event(cast).payload)
    assert payload["stepped_down"] is True


def test_someone_signed_out_cannot_leave_a_panel_and_is_told_so(cast: Cast) -> None:
    with pytest.raises(Forbidden) as refused:
        role_services.membership_leave(actor=AnonymousUser(), cycle_id=cast.id)

    assert refused.value.code == "forbidden.not_on_panel"
    assert PanelMembership.objects.active().filter(cycle=cast.cycle).count() == 2


def test_a_member_who_joins_mid_stage_holds_the_gate_until_they_acknowledge(cast: Cast) -> None:
    cast.open_framework_gate()
    assert selectors.gate_state(cast.cycle).open

    role_services.membership_add(actor=cast.lead, cycle_id=cast.id, member=cast.newcomer)
    closed = selectors.gate_state(cast.cycle)
    assert "boundaries.unacknowledged" in closed.codes
    with pytest.raises(Conflict) as refused:
        services.signoff_record(actor=cast.newcomer, cycle_id=cast.id)
    assert refused.value.code == "signoff.unacknowledged"

    cast.acknowledge(cast.newcomer)
    cast.sign_agreement(cast.newcomer)
    assert selectors.gate_state(cast.cycle).open
    cast.attest(cast.newcomer)
    assert selectors.gate_state(cast.cycle).attesting == {
        cast.representative.pk,
        cast.second_representative.pk,
        cast.newcomer.pk,
    }


def test_a_member_who_leaves_before_signing_off_no_longer_counts_towards_quorum(
    cast: Cast,
) -> None:
    cast.evidence_for_signoff()
    cast.record_agreement()
    cast.sign_agreement(cast.representative)
    cast.attest(cast.representative)
    waiting = selectors.gate_state(cast.cycle)
    assert set(waiting.codes) == {"signoff.quorum", "agreement.unsigned"}
    assert waiting.quorum == 2

    role_services.membership_remove(
        actor=cast.lead,
        cycle_id=cast.id,
        member=cast.second_representative,
        reason="Stopped coming.",
    )

    result = selectors.gate_state(cast.cycle)
    assert result.open
    assert result.quorum == 1
    assert cast.advance().stage_key == "needs"


def test_a_leavers_sign_off_stops_counting_on_the_open_stage_but_the_passed_stage_stands(
    cast: Cast,
) -> None:
    role_services.membership_add(actor=cast.lead, cycle_id=cast.id, member=cast.newcomer)
    cast.pass_stage()  # framework, attested by all three
    framework = StageVisit.objects.get(cycle=cast.cycle, stage_key="framework")
    cast.evidence_for_signoff()
    cast.attest()
    assert len(selectors.gate_state(cast.cycle).attesting) == 3

    role_services.membership_leave(actor=cast.newcomer, cycle_id=cast.id)
    role_services.membership_leave(actor=cast.second_representative, cycle_id=cast.id)

    result = selectors.gate_state(cast.cycle)
    assert result.attesting == {cast.representative.pk}
    framework.refresh_from_db()
    assert framework.closure == StageVisit.Closure.PASSED
    assert SignOff.objects.filter(
        visit=framework, member=cast.newcomer, superseded_at__isnull=True
    ).exists()
    advanced = AuditEvent.objects.get(cycle=cast.cycle, action="stage.advanced")
    assert cast.newcomer.pk in json.loads(advanced.payload)["attesting"]


def test_a_replaced_representative_counts_only_once_the_newcomer_has_acknowledged(
    cast: Cast,
) -> None:
    cast.pass_stage()
    cast.evidence_for_signoff()
    cast.attest()
    assert selectors.gate_state(cast.cycle).open

    role_services.membership_leave(actor=cast.second_representative, cycle_id=cast.id)
    role_services.membership_add(
        actor=cast.lead, cycle_id=cast.id, member=cast.newcomer, represents="carers"
    )

    result = selectors.gate_state(cast.cycle)
    assert set(result.codes) == {
        "boundaries.unacknowledged",
        "signoff.quorum",
        "agreement.unsigned",
    }
    assert result.attesting == {cast.representative.pk}
    cast.acknowledge(cast.newcomer)
    assert selectors.gate_state(cast.cycle).codes == ("signoff.quorum", "agreement.unsigned")
    cast.attest(cast.newcomer)
    # The newcomer's attestation counts only once they have signed the working agreement.
    assert selectors.gate_state(cast.cycle).codes == ("signoff.quorum", "agreement.unsigned")
    cast.sign_agreement(cast.newcomer)
    assert selectors.gate_state(cast.cycle).open


def test_a_member_who_leaves_and_rejoins_must_attest_again(cast: Cast) -> None:
    cast.pass_stage()
    cast.evidence_for_signoff()
    cast.attest()

    role_services.membership_leave(actor=cast.second_representative, cycle_id=cast.id)
    role_services.membership_add(
        actor=cast.lead, cycle_id=cast.id, member=cast.second_representative
    )

    assert selectors.gate_state(cast.cycle).codes == ("signoff.quorum",)
    cast.attest(cast.second_representative)
    assert selectors.gate_state(cast.cycle).open
    assert (
        PanelMembership.objects.filter(cycle=cast.cycle, member=cast.second_representative).count()
        == 2
    )


def test_a_member_whose_dissent_is_open_cannot_be_removed_by_someone_else(cast: Cast) -> None:
    services.signoff_record(
        actor=cast.second_representative,
        cycle_id=cast.id,
        dissent="The budget was cut and nobody told us.",
    )

    with pytest.raises(Conflict) as refused:
        role_services.membership_remove(
            actor=cast.lead, cycle_id=cast.id, member=cast.second_representative
        )

    assert refused.value.code == "panel.dissent_open"
    assert PanelMembership.objects.active().filter(member=cast.second_representative).exists()
    services.dissent_withdraw(actor=cast.second_representative, cycle_id=cast.id)
    role_services.membership_remove(
        actor=cast.lead, cycle_id=cast.id, member=cast.second_representative
    )
    assert not PanelMembership.objects.active().filter(member=cast.second_representative).exists()


def test_a_member_may_step_down_with_their_dissent_open_and_the_ledger_says_so(
    cast: Cast,
) -> None:
    services.signoff_record(
        actor=cast.second_representative, cycle_id=cast.id, dissent="We were told too late."
    )

    role_services.membership_leave(
        actor=cast.second_representative, cycle_id=cast.id, reason="In protest."
    )

    payload = json.loads(last_event(cast).payload)
    assert payload["had_open_dissent"] is True
    assert payload["reason"] == "In protest."


def test_taking_a_member_off_the_tender_panel_is_recorded_once(cast: Cast) -> None:
    role_services.membership_set_tender_panel(
        actor=cast.involvement_lead,
        cycle_id=cast.id,
        member=cast.second_representative,
        tender_panel=False,
    )
    events = AuditEvent.objects.filter(cycle=cast.cycle).count()
    role_services.membership_set_tender_panel(
        actor=cast.involvement_lead,
        cycle_id=cast.id,
        member=cast.second_representative,
        tender_panel=False,
    )

    membership = PanelMembership.objects.active().get(member=cast.second_representative)
    assert membership.tender_panel is False
    assert AuditEvent.objects.filter(cycle=cast.cycle).count() == events
    event = AuditEvent.objects.filter(cycle=cast.cycle, action="panel.tender_panel_left").get()
    assert event.actor == cast.involvement_lead


def test_the_tender_panel_is_only_for_members_of_the_panel(cast: Cast) -> None:
    with pytest.raises(Conflict) as refused:
        role_services.membership_set_tender_panel(
            actor=cast.lead, cycle_id=cast.id, member=cast.newcomer, tender_panel=True
        )
    assert refused.value.code == "panel.not_member"


def test_only_user_representatives_can_join_a_panel(cast: Cast) -> None:
    with pytest.raises(InvalidRequest) as refused:
        role_services.membership_add(actor=cast.lead, cycle_id=cast.id, member=cast.administrator)
    assert refused.value.code == "invalid.not_representative"


def test_nobody_sits_on_the_same_panel_twice(cast: Cast) -> None:
    with pytest.raises(Conflict) as refused:
        role_services.membership_add(actor=cast.lead, cycle_id=cast.id, member=cast.representative)
    assert refused.value.code == "panel.already_member"


def test_a_tier_must_be_decision_forum_or_reference_group(cast: Cast) -> None:
    with pytest.raises(InvalidRequest) as refused:
        role_services.membership_add(
            actor=cast.lead, cycle_id=cast.id, member=cast.newcomer, tier="steering"
        )
    assert refused.value.code == "invalid.tier"


def test_stepping_down_from_a_panel_you_are_not_on_is_refused_and_audited(cast: Cast) -> None:
    with pytest.raises(Forbidden) as refused:
        role_services.membership_leave(actor=cast.newcomer, cycle_id=cast.id)

    assert refused.value.code == "forbidden.not_on_panel"
    event = last_event(cast)
    assert (event.action, event.outcome, event.actor) == (
        "membership_leave",
        AuditEvent.Outcome.REFUSED,
        cast.newcomer,
    )

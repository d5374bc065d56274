"""Separation of duties: who can never do what, whatever groups they are in."""

from __future__ import annotations

import inspect
import json

import pytest
from django.contrib.auth.models import Group

from cycle import selectors, services
from cycle.errors import Forbidden, InvalidRequest
from cycle.models import AuditEvent, Decision, SignOff
from roles import definitions
from roles import services as role_services
from roles.models import GovernanceBoard, PanelMembership
from roles.permissions import Action, allowed
from tests.factories import fresh
from tests.roles.cast import Cast

pytestmark = pytest.mark.django_db


def also_representative(user):
    user.groups.add(Group.objects.get(name=definitions.REPRESENTATIVE))
    return fresh(user)


def refusals(cast: Cast) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(cycle=cast.cycle, outcome=AuditEvent.Outcome.REFUSED).order_by(
            "seq"
        )
    )


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("lead", "forbidden.commissioner_on_panel"),
        ("colleague", "forbidden.commissioner_on_panel"),
        ("decision_maker", "forbidden.commissioner_on_panel"),
        ("involvement_lead", "forbidden.involvement_lead_on_panel"),
        ("governor", "forbidden.governance_on_panel"),
    ],
)
def test_the_commissioning_side_cannot_join_its_own_panel_even_as_a_representative(
    cast: Cast, who: str, code: str
) -> None:
    person = also_representative(getattr(cast, who))

    with pytest.raises(Forbidden) as refused:
        role_services.membership_add(actor=cast.lead, cycle_id=cast.id, member=person)

    assert refused.value.code == code
    assert not PanelMembership.objects.filter(cycle=cast.cycle, member=person).exists()
    [event] = refusals(cast)
    assert event.action == "membership_add"
    assert json.loads(event.payload)["code"] == code


def test_a_commissioner_of_another_organisation_may_represent_users_here(
    cast: Cast, other_cast: Cast
) -> None:
    carer = also_representative(other_cast.colleague)

    role_services.membership_add(actor=cast.lead, cycle_id=cast.id, member=carer)
    cast.agree_boundaries()
    acknowledgement = services.boundaries_acknowledge(actor=carer, cycle_id=cast.id)

    assert acknowledgement.member == carer


def test_a_member_who_joins_the_organisations_staff_can_no_longer_attest(cast: Cast) -> None:
    cast.evidence_for_signoff()
    cast.organisation.staff.add(cast.representative)

    with pytest.raises(Forbidden) as refused:
        services.signoff_record(actor=fresh(cast.representative), cycle_id=cast.id)

    assert refused.value.code == "forbidden.commissioner_on_panel"
    assert not SignOff.objects.filter(member=cast.representative).exists()


def test_a_panel_member_cannot_be_named_the_involvement_lead(cast: Cast) -> None:
    member = cast.representative
    member.groups.add(Group.objects.get(name=definitions.INVOLVEMENT_LEAD))

    with pytest.raises(Forbidden) as refused:
        services.involvement_lead_name(actor=cast.lead, cycle_id=cast.id, lead=fresh(member))

    assert refused.value.code == "forbidden.representative_as_involvement_lead"
    assert cast.refresh().involvement_lead == cast.involvement_lead


def test_the_involvement_lead_must_hold_a_role_that_runs_panels(cast: Cast) -> None:
    with pytest.raises(InvalidRequest) as refused:
        services.involvement_lead_name(actor=cast.lead, cycle_id=cast.id, lead=cast.administrator)
    assert refused.value.code == "invalid.involvement_lead"


@pytest.mark.parametrize(
    "name",
    ["signoff_record", "dissent_withdraw", "boundaries_acknowledge"],
)
def test_signing_services_act_only_for_the_person_asking(name: str) -> None:
    parameters = set(inspect.signature(getattr(services, name)).parameters)
    assert parameters <= {"actor", "cycle_id", "dissent"}


@pytest.mark.parametrize("name", ["agreement_sign", "conflict_declare", "membership_leave"])
def test_panel_services_act_only_for_the_person_asking(name: str) -> None:
    parameters = set(inspect.signature(getattr(role_services, name)).parameters)
    assert parameters <= {"actor", "cycle_id", "interest", "details", "reason"}


def test_nobody_can_sign_off_or_dissent_for_someone_else(cast: Cast) -> None:
    cast.evidence_for_signoff()

    with pytest.raises(Forbidden) as by_lead:
        services.signoff_record(actor=cast.lead, cycle_id=cast.id)
    services.signoff_record(
        actor=cast.representative, cycle_id=cast.id, dissent="We never saw the options paper."
    )
    signoff = services.signoff_record(actor=cast.second_representative, cycle_id=cast.id)

    assert by_lead.value.code == "forbidden.represent"
    assert signoff.member == cast.second_representative
    still_open = SignOff.objects.get(member=cast.representative, superseded_at__isnull=True)
    assert still_open.kind == SignOff.Kind.DISSENT
    assert "signoff.dissent" in selectors.gate_state(cast.cycle).codes


def test_a_governance_member_trying_to_edit_a_sign_off_is_refused_audited_and_changes_nothing(
    cast: Cast,
) -> None:
    cast.evidence_for_signoff()
    cast.attest()
    before = list(SignOff.objects.values_list("pk", "member_id", "kind", "superseded_at"))

    with pytest.raises(Forbidden) as as_dissent:
        services.signoff_record(
            actor=cast.governor, cycle_id=cast.id, dissent="Changing this to a dissent."
        )
    with pytest.raises(Forbidden) as as_withdrawal:
        services.dissent_withdraw(actor=cast.governor, cycle_id=cast.id)

    assert as_dissent.value.code == as_withdrawal.value.code == "forbidden.represent"
    assert list(SignOff.objects.values_list("pk", "member_id", "kind", "superseded_at")) == before
    events = refusals(cast)
    assert [(e.action, e.actor) for e in events] == [
        ("signoff_record", cast.governor),
        ("dissent_withdraw", cast.governor),
    ]
    assert json.loads(events[0].payload)["code"] == "forbidden.represent"


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        (
            "boundaries_agree",
            {"purpose": "p", "user_role": "r", "influence": "inform", "decision_maker": "d"},
        ),
        ("budget_disclose", {"amount": "1"}),
        ("boundaries_acknowledge", {}),
    ],
)
def test_a_governance_member_cannot_write_any_gate_record(cast: Cast, name: str, kwargs) -> None:
    with pytest.raises(Forbidden):
        getattr(services, name)(actor=cast.governor, cycle_id=cast.id, **kwargs)
    assert len(refusals(cast)) == 1


def test_the_governance_role_holds_no_permission_to_change_records() -> None:
    codenames = Group.objects.get(name=definitions.GOVERNANCE).permissions.values_list(
        "codename", flat=True
    )
    changing = [c for c in codenames if c.split("_")[0] in ("add", "change", "delete")]
    assert changing == []


def test_a_governance_member_reads_and_overrides_the_cycles_their_board_oversees(
    cast: Cast,
) -> None:
    assert selectors.cycles_visible_to(cast.governor).filter(pk=cast.id).exists()
    assert allowed(cast.governor, Action.AUDIT, cast.cycle)
    cast.agree_boundaries()
    cast.disclose_budget()

    override = services.gate_override(
        actor=cast.governor, cycle_id=cast.id, reason="Started before the panel was complete."
    )

    assert override.by == cast.governor
    assert selectors.gate_state(cast.cycle).overridden


def test_a_governance_member_who_leads_the_cycle_cannot_override_its_gate(cast: Cast) -> None:
    cast.lead.groups.add(Group.objects.get(name=definitions.GOVERNANCE))
    GovernanceBoard.objects.get(members=cast.governor).members.add(cast.lead)

    with pytest.raises(Forbidden) as refused:
        services.gate_override(actor=fresh(cast.lead), cycle_id=cast.id, reason="In a hurry.")

    assert refused.value.code == "forbidden.override_own_cycle"
    assert not cast.cycle.overrides.exists()


def test_a_decision_is_recorded_apart_from_the_users_sign_off(cast: Cast) -> None:
    cast.evidence_for_signoff()
    cast.attest(cast.representative)
    gate_before = selectors.gate_state(cast.cycle)

    decision = services.decision_record(
        actor=cast.decision_maker,
        cycle_id=cast.id,
        summary="Re-commission day services as six hubs.",
        forum="Cabinet, 12 March",
    )

    assert decision.decided_by == cast.decision_maker
    assert not SignOff.objects.filter(member=cast.decision_maker).exists()
    assert SignOff.objects.count() == 1
    assert selectors.gate_state(cast.cycle) == gate_before
    event = AuditEvent.objects.filter(cycle=cast.cycle).order_by("-seq").first()
    assert (event.action, event.actor) == ("decision.recorded", cast.decision_maker)


def test_a_representative_cannot_record_a_decision(cast: Cast) -> None:
    with pytest.raises(Forbidden) as refused:
        services.decision_record(actor=cast.representative, cycle_id=cast.id, summary="Six hubs.")
    assert refused.value.code == "forbidden.decide"
    assert not Decision.objects.exists()


def test_a_decision_maker_cannot_attest(cast: Cast) -> None:
    cast.evidence_for_signoff()
    with pytest.raises(Forbidden) as refused:
        services.signoff_record(actor=cast.decision_maker, cycle_id=cast.id)
    assert refused.value.code == "forbidden.represent"

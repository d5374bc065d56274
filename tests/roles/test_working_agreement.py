"""The working agreement and the named involvement lead: conditions of the framework gate."""

from __future__ import annotations

import json

import pytest

from cycle import selectors, services
from cycle.errors import Conflict, Forbidden, GateClosed, InvalidRequest
from cycle.models import AuditEvent
from roles import services as role_services
from roles.models import AgreementSignature, WorkingAgreement
from tests.factories import OrganisationFactory, commissioner, representative
from tests.roles.cast import AGREEMENT, Cast

pytestmark = pytest.mark.django_db


def test_a_working_agreement_pays_expenses_on_the_day_and_sets_the_ground_rules(
    cast: Cast,
) -> None:
    agreement = cast.record_agreement()

    assert agreement.version == 1
    assert "paid on the day" in agreement.expenses
    for rule in (
        "Respect",
        "listening",
        "prompt reimbursement",
        "attendance",
        "confidentiality",
        "equal opportunities",
        "complain",
    ):
        assert rule in agreement.ground_rules
    event = AuditEvent.objects.filter(cycle=cast.cycle).order_by("-seq").first()
    assert event.action == "agreement.recorded"
    assert json.loads(event.payload)["task"] == AGREEMENT["task"]


@pytest.mark.parametrize("clause", ["task", "responsibilities", "support"])
def test_a_working_agreement_needs_its_task_responsibilities_and_support(
    cast: Cast, clause: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        cast.record_agreement(**{clause: "  "})
    assert refused.value.code == f"invalid.{clause}"
    assert not WorkingAgreement.objects.exists()


def test_the_framework_gate_stays_closed_until_every_active_member_has_signed(
    cast: Cast,
) -> None:
    cast.evidence_for_signoff()
    cast.attest()
    assert selectors.gate_state(cast.cycle).codes == ("agreement.unsigned",)
    cast.record_agreement()
    cast.sign_agreement(cast.representative)

    with pytest.raises(GateClosed) as closed:
        cast.advance()

    # Two members, quorum two: the unsigned member's attestation does not count either.
    assert closed.value.result.codes == ("signoff.quorum", "agreement.unsigned")
    assert "1 member of the panel has not signed" in closed.value.result.unmet[-1].message
    cast.sign_agreement(cast.second_representative)
    assert cast.advance().stage_key == "needs"


def test_a_new_version_of_the_agreement_must_be_signed_again(cast: Cast) -> None:
    cast.open_framework_gate()
    assert selectors.gate_state(cast.cycle).open

    second = cast.record_agreement(support="A buddy, and a taxi to every meeting.")

    assert second.version == 2
    # Until they sign the new version, the members' attestations do not count either.
    assert selectors.gate_state(cast.cycle).codes == ("signoff.quorum", "agreement.unsigned")
    cast.sign_agreement()
    assert selectors.gate_state(cast.cycle).open


def test_a_member_who_left_without_signing_does_not_hold_the_gate(cast: Cast) -> None:
    cast.evidence_for_signoff()
    cast.record_agreement()
    cast.sign_agreement(cast.representative)
    cast.attest(cast.representative)

    role_services.membership_leave(actor=cast.second_representative, cycle_id=cast.id)

    assert selectors.gate_state(cast.cycle).open


def test_signing_twice_is_one_signature(cast: Cast) -> None:
    cast.record_agreement()
    cast.sign_agreement(cast.representative)
    cast.sign_agreement(cast.representative)
    assert AgreementSignature.objects.filter(member=cast.representative).count() == 1
    assert AuditEvent.objects.filter(action="agreement.signed").count() == 1


def test_there_must_be_an_agreement_before_anyone_signs(cast: Cast) -> None:
    with pytest.raises(Conflict) as refused:
        role_services.agreement_sign(actor=cast.representative, cycle_id=cast.id)
    assert refused.value.code == "agreement.missing"


def test_only_members_of_the_panel_sign_the_agreement(cast: Cast) -> None:
    cast.record_agreement()
    with pytest.raises(Forbidden) as refused:
        role_services.agreement_sign(actor=cast.involvement_lead, cycle_id=cast.id)
    assert refused.value.code == "forbidden.represent"
    assert not AgreementSignature.objects.exists()


def test_the_framework_gate_needs_a_named_involvement_lead(db) -> None:
    organisation = OrganisationFactory(name="Westshire Council")
    lead = commissioner(organisation, "west-lead")
    cycle = services.cycle_create(
        actor=lead, title="Meals on wheels", organisation=organisation, lead=lead
    )
    member = representative("west-rep")
    role_services.membership_add(actor=lead, cycle_id=cycle.pk, member=member)
    services.boundaries_agree(
        actor=lead,
        cycle_id=cycle.pk,
        purpose="Agree how the panel works.",
        user_role="Shape the working agreement.",
        influence="co-decide",
        decision_maker="Adult social care committee.",
    )
    services.budget_disclose(actor=lead, cycle_id=cycle.pk, amount="250000")
    services.boundaries_acknowledge(actor=member, cycle_id=cycle.pk)
    role_services.agreement_record(actor=lead, cycle_id=cycle.pk, **AGREEMENT)
    role_services.agreement_sign(actor=member, cycle_id=cycle.pk)
    services.signoff_record(actor=member, cycle_id=cycle.pk)

    with pytest.raises(GateClosed) as closed:
        services.stage_advance(actor=lead, cycle_id=cycle.pk)

    assert closed.value.result.codes == ("lead.missing",)
    services.involvement_lead_name(actor=lead, cycle_id=cycle.pk, lead=lead)
    assert services.stage_advance(actor=lead, cycle_id=cycle.pk).stage_key == "needs"

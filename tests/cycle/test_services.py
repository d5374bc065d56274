"""The services enforce the involvement gate, write nothing on bad input, and log every change."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cycle import selectors, services
from cycle.errors import Conflict, Forbidden, GateClosed, InvalidRequest, NotFound, ServiceError
from cycle.models import (
    AuditEvent,
    BoundaryAcknowledgement,
    BudgetDisclosure,
    CommissioningCycle,
    Decision,
    GateOverride,
    RoleBoundaryAgreement,
    SignOff,
    StageVisit,
)
from roles import definitions
from roles import services as role_services
from roles.models import PanelMembership
from tests.factories import (
    CycleWorld,
    OrganisationFactory,
    commissioner,
    representative,
    user_with_role,
)

pytestmark = pytest.mark.django_db


def events(world: CycleWorld) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(cycle=world.cycle).order_by("seq"))


def footprint(world: CycleWorld) -> tuple[Any, ...]:
    """Everything a service could have written about the cycle."""
    cycle = CommissioningCycle.objects.get(pk=world.id)
    return (
        cycle.current_stage,
        cycle.status,
        cycle.involvement_lead_id,
        cycle.updated_at,
        RoleBoundaryAgreement.objects.filter(cycle=cycle).count(),
        BoundaryAcknowledgement.objects.filter(agreement__cycle=cycle).count(),
        BudgetDisclosure.objects.filter(cycle=cycle).count(),
        list(SignOff.objects.filter(cycle=cycle).values_list("id", "superseded_at", "withdrawn")),
        list(StageVisit.objects.filter(cycle=cycle).values_list("id", "closed_at", "closure")),
        GateOverride.objects.filter(cycle=cycle).count(),
        Decision.objects.filter(cycle=cycle).count(),
        PanelMembership.objects.filter(cycle=cycle, left_at__isnull=True).count(),
        AuditEvent.objects.count(),
    )


def advance(world: CycleWorld) -> StageVisit | None:
    return services.stage_advance(actor=world.lead, cycle_id=world.id)


def refused_codes(world: CycleWorld) -> tuple[str, ...]:
    with pytest.raises(GateClosed) as closed:
        advance(world)
    return closed.value.result.codes


def stage(world: CycleWorld) -> str:
    return world.refresh().current_stage


# --- the three records at the gates into procurement and decision ----------------------------


def leave_boundaries_unagreed(world: CycleWorld) -> None:
    world.meet_stage_conditions()


def leave_boundaries_unacknowledged(world: CycleWorld) -> None:
    world.agree_boundaries()
    world.acknowledge_all()
    world.meet_stage_conditions()
    world.attest()
    newcomer = representative()
    role_services.membership_add(actor=world.lead, cycle_id=world.id, member=newcomer)
    world.panel.append(newcomer)


def make_budget_stale(world: CycleWorld) -> None:
    world.meet_gate()
    world.disclose_budget("950000", constraints="In-year saving of 250k.")


def make_boundaries_stale(world: CycleWorld) -> None:
    world.meet_gate()
    world.agree_boundaries(influence="consult")
    world.acknowledge_all()


def record_dissent(world: CycleWorld) -> None:
    world.meet_gate()
    services.signoff_record(
        actor=world.panel[2], cycle_id=world.id, dissent="We were not shown the options appraisal."
    )


def withhold_signoff(world: CycleWorld) -> None:
    world.agree_boundaries()
    world.acknowledge_all()
    world.meet_stage_conditions()
    world.attest(world.panel[:1])


SPOILERS: dict[str, tuple[Callable[[CycleWorld], None], set[str]]] = {
    "boundaries missing": (leave_boundaries_unagreed, {"boundaries.missing", "signoff.quorum"}),
    "boundaries unacknowledged": (
        leave_boundaries_unacknowledged,
        {"boundaries.unacknowledged", "agreement.unsigned"},
    ),
    "budget changed after sign-off": (make_budget_stale, {"signoff.stale", "signoff.quorum"}),
    "boundaries changed after sign-off": (
        make_boundaries_stale,
        {"signoff.stale", "signoff.quorum"},
    ),
    "dissent": (record_dissent, {"signoff.dissent"}),
    "too few sign-offs": (withhold_signoff, {"signoff.quorum"}),
}


@pytest.mark.parametrize(
    ("before", "target"), [("design", "procurement"), ("procurement", "decision")]
)
@pytest.mark.parametrize("spoiler", SPOILERS)
def test_commissioner_cannot_enter_procurement_or_decision_until_the_records_are_in_place(
    world: CycleWorld, before: str, target: str, spoiler: str
) -> None:
    world.walk_to(before)
    spoil, expected = SPOILERS[spoiler]
    spoil(world)

    assert set(refused_codes(world)) == expected
    assert stage(world) == before

    if spoiler == "dissent":
        services.dissent_withdraw(actor=world.panel[2], cycle_id=world.id)
    world.meet_gate()
    advance(world)

    assert stage(world) == target


def test_advance_is_refused_without_a_budget_disclosure(world: CycleWorld) -> None:
    world.agree_boundaries()
    world.acknowledge_all()
    world.meet_stage_conditions()

    assert refused_codes(world) == ("budget.missing", "signoff.quorum")

    world.disclose_budget(
        None, withheld_reason="Subject to the council's budget-setting in February."
    )
    world.attest()
    advance(world)
    assert stage(world) == "needs"


def test_a_withheld_budget_with_reasons_counts_as_disclosed(world: CycleWorld) -> None:
    world.disclose_budget(amount=None, withheld_reason="Commercially sensitive until tender.")
    world.pass_gate()

    assert stage(world) == "needs"


def test_first_stage_needs_working_agreement_and_involvement_lead(world: CycleWorld) -> None:
    world.agree_boundaries()
    world.disclose_budget()
    world.acknowledge_all()
    world.attest()

    assert refused_codes(world) == ("agreement.unsigned", "lead.missing")


def test_tender_panel_must_declare_conflicts_before_procurement(world: CycleWorld) -> None:
    world.walk_to("design")
    scorer = world.panel[0]
    role_services.membership_remove(actor=world.lead, cycle_id=world.id, member=scorer)
    role_services.membership_add(
        actor=world.lead, cycle_id=world.id, member=scorer, tender_panel=True
    )
    world.agree_boundaries()
    world.acknowledge_all()
    world.attest()

    assert refused_codes(world) == ("conflicts.undeclared",)

    role_services.conflict_declare(actor=scorer, cycle_id=world.id, interest="none")
    advance(world)
    assert stage(world) == "procurement"


def test_budget_change_voids_earlier_signoffs(world: CycleWorld) -> None:
    world.meet_gate()
    assert selectors.gate_state(world.refresh()).open

    disclosure = world.disclose_budget("900000")

    assert selectors.gate_state(world.refresh()).codes == ("signoff.stale", "signoff.quorum")
    payload = json.loads(events(world)[-1].payload)
    assert payload["signoffs_voided"] == 3
    assert payload["previous_amount"] == "1200000.00"
    assert sorted(payload["panel_to_tell"]) == sorted(member.pk for member in world.panel)
    assert disclosure.version == 2


def test_budget_change_after_signoff_closes_the_gate_until_the_panel_reattests(
    world: CycleWorld,
) -> None:
    world.walk_to("design")
    world.meet_gate()
    world.disclose_budget("800000", constraints="Cut by a third mid-consultation.")

    assert "signoff.stale" in refused_codes(world)

    world.attest(world.panel[:1])
    assert refused_codes(world) == ("signoff.stale", "signoff.quorum")

    world.attest(world.panel[1:2])
    advance(world)
    assert stage(world) == "procurement"


def test_reattesting_binds_the_signoff_to_the_new_budget_version(world: CycleWorld) -> None:
    world.meet_gate()
    new_budget = world.disclose_budget("700000")

    signoff = services.signoff_record(actor=world.panel[0], cycle_id=world.id)

    assert signoff.budget_id == new_budget.pk
    assert SignOff.objects.filter(member=world.panel[0], superseded_at__isnull=True).count() == 1


# --- reopening ---------------------------------------------------------------------------------


def test_a_reopened_stage_needs_its_gate_again(world: CycleWorld) -> None:
    world.walk_to("review")

    services.stage_reopen(
        actor=world.lead, cycle_id=world.id, stage_key="needs", reason="New census data."
    )

    assert stage(world) == "needs"
    assert refused_codes(world) == ("signoff.quorum",)
    world.attest()
    advance(world)
    assert stage(world) == "review"


def test_reopening_closes_the_current_visit_and_records_why(world: CycleWorld) -> None:
    world.walk_to("priorities")

    visit = services.stage_reopen(
        actor=world.lead, cycle_id=world.id, stage_key="needs", reason="A budget cut of 20%."
    )

    left = StageVisit.objects.filter(cycle=world.cycle, stage_key="priorities").get()
    assert left.closure == StageVisit.Closure.REOPENED
    assert visit.opened_reason == "A budget cut of 20%."
    assert StageVisit.objects.filter(cycle=world.cycle, closed_at__isnull=True).get() == visit
    assert events(world)[-1].action == "stage.reopened"


def test_an_override_does_not_carry_over_to_a_reopened_stage(world: CycleWorld) -> None:
    world.walk_to("needs")
    world.record_the_records()
    services.gate_override(actor=world.governor, cycle_id=world.id, reason="Urgent winter plan.")
    advance(world)
    services.stage_reopen(actor=world.lead, cycle_id=world.id, stage_key="needs", reason="Redo.")

    assert "signoff.quorum" in refused_codes(world)


def test_passing_the_last_gate_completes_the_cycle_and_it_can_be_reopened(
    world: CycleWorld,
) -> None:
    world.walk_to("monitoring")

    assert world.pass_gate() is None
    cycle = world.refresh()
    assert cycle.status == CommissioningCycle.Status.COMPLETED
    with pytest.raises(Conflict) as completed:
        advance(world)
    assert completed.value.code == "cycle.completed"

    services.stage_reopen(
        actor=world.lead, cycle_id=world.id, stage_key="monitoring", reason="Annual review."
    )
    assert world.refresh().status == CommissioningCycle.Status.ACTIVE
    assert refused_codes(world) == ("signoff.quorum",)


@pytest.mark.parametrize(
    ("stage_key", "reason", "code"),
    [
        ("needs", "  ", "invalid.reason"),
        ("tendering", "Redo.", "invalid.stage"),
        ("review", "Skip ahead.", "reopen.not_earlier"),
        ("needs", "Already here.", "reopen.not_earlier"),
    ],
)
def test_reopen_rejects_bad_requests_and_writes_nothing(
    world: CycleWorld, stage_key: str, reason: str, code: str
) -> None:
    world.walk_to("needs")
    before = footprint(world)

    with pytest.raises(ServiceError) as error:
        services.stage_reopen(
            actor=world.lead, cycle_id=world.id, stage_key=stage_key, reason=reason
        )

    assert error.value.code == code
    assert footprint(world) == before


# --- dissent and override ----------------------------------------------------------------------


def test_dissent_blocks_until_withdrawn(world: CycleWorld) -> None:
    world.meet_gate()
    dissenter = world.panel[0]
    services.signoff_record(actor=dissenter, cycle_id=world.id, dissent="Papers came too late.")

    assert refused_codes(world) == ("signoff.dissent",)

    withdrawn = services.dissent_withdraw(actor=dissenter, cycle_id=world.id)
    assert withdrawn.withdrawn
    advance(world)
    assert stage(world) == "needs"


def test_only_the_dissenter_can_withdraw_their_dissent(world: CycleWorld) -> None:
    world.meet_gate()
    services.signoff_record(actor=world.panel[0], cycle_id=world.id, dissent="Not as agreed.")

    with pytest.raises(Conflict) as other:
        services.dissent_withdraw(actor=world.panel[1], cycle_id=world.id)
    assert other.value.code == "dissent.none"
    with pytest.raises(Forbidden) as lead:
        services.dissent_withdraw(actor=world.lead, cycle_id=world.id)
    assert lead.value.code == "forbidden.represent"
    assert refused_codes(world) == ("signoff.dissent",)


def test_dissent_blocks_until_a_governance_member_overrides_with_reasons(
    world: CycleWorld,
) -> None:
    world.meet_gate()
    services.signoff_record(actor=world.panel[0], cycle_id=world.id, dissent="Not as agreed.")

    override = services.gate_override(
        actor=world.governor, cycle_id=world.id, reason="Statutory deadline; dissent reviewed."
    )
    advance(world)

    assert stage(world) == "needs"
    assert override.unmet_codes == "signoff.dissent"
    closed = StageVisit.objects.get(cycle=world.cycle, stage_key="framework")
    assert closed.closure == StageVisit.Closure.OVERRIDDEN
    advanced = json.loads(events(world)[-1].payload)
    assert advanced["closure"] == "overridden"
    assert advanced["overridden_unmet"] == ["signoff.dissent"]


def test_every_override_stays_visible(world: CycleWorld) -> None:
    world.meet_gate()
    world.disclose_budget("1000000")
    first = services.gate_override(actor=world.governor, cycle_id=world.id, reason="First reason.")
    world.disclose_budget("900000")
    second = services.gate_override(actor=world.governor, cycle_id=world.id, reason="Second one.")
    advance(world)

    assert list(GateOverride.objects.filter(cycle=world.cycle)) == [first, second]
    overridden = [e for e in events(world) if e.action == "gate.overridden"]
    assert [json.loads(e.payload)["reason"] for e in overridden] == ["First reason.", "Second one."]
    summary = selectors.cycle_summary(world.refresh())
    framework = next(s for s in summary["stages"] if s["key"] == "framework")
    assert framework["visits"][0]["closure"] == "overridden"


def test_an_override_lapses_when_the_budget_or_boundaries_change_after_it(
    world: CycleWorld,
) -> None:
    world.meet_gate()
    services.signoff_record(actor=world.panel[0], cycle_id=world.id, dissent="Not as agreed.")
    services.gate_override(actor=world.governor, cycle_id=world.id, reason="Deadline.")
    world.disclose_budget("500000")

    assert "signoff.dissent" in refused_codes(world)
    assert stage(world) == "framework"


def test_an_open_gate_cannot_be_overridden(world: CycleWorld) -> None:
    world.meet_gate()
    before = footprint(world)

    with pytest.raises(Conflict) as error:
        services.gate_override(actor=world.governor, cycle_id=world.id, reason="Just in case.")

    assert error.value.code == "override.gate_open"
    assert footprint(world) == before


def test_only_a_governance_board_member_overseeing_the_organisation_can_override(
    world: CycleWorld,
) -> None:
    elsewhere = user_with_role(definitions.GOVERNANCE)
    for actor in (world.lead, world.panel[0], elsewhere):
        with pytest.raises(Forbidden) as error:
            services.gate_override(actor=actor, cycle_id=world.id, reason="Because.")
        assert error.value.code == "forbidden.override"
    assert not GateOverride.objects.exists()


# --- panel changes -----------------------------------------------------------------------------


def test_attestations_of_members_who_left_stop_counting(world: CycleWorld) -> None:
    world.agree_boundaries()
    world.disclose_budget()
    world.acknowledge_all()
    world.meet_stage_conditions()
    world.attest(world.panel[:2])
    assert selectors.gate_state(world.refresh()).open

    role_services.membership_remove(actor=world.lead, cycle_id=world.id, member=world.panel[0])

    assert refused_codes(world) == ("signoff.quorum",)


def test_a_member_who_left_can_no_longer_sign_off(world: CycleWorld) -> None:
    world.meet_gate()
    leaver = world.panel[0]
    role_services.membership_remove(actor=world.lead, cycle_id=world.id, member=leaver)

    with pytest.raises(Forbidden) as error:
        services.signoff_record(actor=leaver, cycle_id=world.id, dissent="Too late.")

    assert error.value.code == "forbidden.represent"


# --- permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["representative", "governor", "other commissioner"])
def test_only_the_lead_commissioner_can_advance(world: CycleWorld, who: str) -> None:
    world.meet_gate()
    actor = {
        "representative": world.panel[0],
        "governor": world.governor,
        "other commissioner": commissioner(world.organisation),
    }[who]

    with pytest.raises(Forbidden) as error:
        services.stage_advance(actor=actor, cycle_id=world.id)

    assert error.value.code == "forbidden.lead"
    assert stage(world) == "framework"


def test_commissioners_and_outsiders_cannot_sign_off_for_the_panel(world: CycleWorld) -> None:
    world.agree_boundaries()
    world.disclose_budget()
    outsider = representative()

    for actor in (world.lead, outsider):
        with pytest.raises(Forbidden) as error:
            services.signoff_record(actor=actor, cycle_id=world.id)
        assert error.value.code == "forbidden.represent"
    assert not SignOff.objects.exists()


def test_attesting_needs_boundaries_budget_and_acknowledgement_first(world: CycleWorld) -> None:
    member = world.panel[0]
    with pytest.raises(Conflict) as nothing:
        services.signoff_record(actor=member, cycle_id=world.id)
    assert nothing.value.code == "signoff.nothing_to_attest"

    world.agree_boundaries()
    world.disclose_budget()
    with pytest.raises(Conflict) as unacknowledged:
        services.signoff_record(actor=member, cycle_id=world.id)
    assert unacknowledged.value.code == "signoff.unacknowledged"


# --- bad input writes nothing ------------------------------------------------------------------


def _agree(world: CycleWorld, **terms: Any) -> Any:
    return world.agree_boundaries(**terms)


BAD_INPUT: dict[str, tuple[Callable[[CycleWorld], Any], type[ServiceError], str]] = {
    "unknown influence": (
        lambda w: _agree(w, influence="veto"),
        InvalidRequest,
        "invalid.influence",
    ),
    "empty purpose": (lambda w: _agree(w, purpose="   "), InvalidRequest, "invalid.purpose"),
    "empty decision-maker": (
        lambda w: _agree(w, decision_maker=""),
        InvalidRequest,
        "invalid.decision_maker",
    ),
    "amount and reason": (
        lambda w: w.disclose_budget("100", withheld_reason="Secret."),
        InvalidRequest,
        "invalid.budget",
    ),
    "neither amount nor reason": (
        lambda w: w.disclose_budget(None),
        InvalidRequest,
        "invalid.budget",
    ),
    "not an amount": (lambda w: w.disclose_budget("lots"), InvalidRequest, "invalid.amount"),
    "negative amount": (lambda w: w.disclose_budget("-5"), InvalidRequest, "invalid.amount"),
    "fractional pennies": (
        lambda w: w.disclose_budget("10.005"),
        InvalidRequest,
        "invalid.amount",
    ),
    "bad currency": (
        lambda w: w.disclose_budget("10", currency="POUNDS"),
        InvalidRequest,
        "invalid.currency",
    ),
    "empty dissent": (
        lambda w: services.signoff_record(actor=w.panel[0], cycle_id=w.id, dissent=" "),
        InvalidRequest,
        "invalid.dissent_reasons",
    ),
    "empty override reason": (
        lambda w: services.gate_override(actor=w.governor, cycle_id=w.id, reason=""),
        InvalidRequest,
        "invalid.reason",
    ),
    "acknowledge before boundaries": (
        lambda w: services.boundaries_acknowledge(actor=w.panel[0], cycle_id=w.id),
        Conflict,
        "boundaries.missing",
    ),
    "withdraw without dissent": (
        lambda w: services.dissent_withdraw(actor=w.panel[0], cycle_id=w.id),
        Conflict,
        "dissent.none",
    ),
    "unknown cycle": (
        lambda w: services.stage_advance(actor=w.lead, cycle_id=w.id + 1000),
        NotFound,
        "cycle.not_found",
    ),
    "decision by a commissioner": (
        lambda w: services.decision_record(
            actor=w.lead, cycle_id=w.id, summary="Award.", veto_used=True
        ),
        Forbidden,
        "forbidden.decide",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_raises_its_exact_code_and_writes_nothing(world: CycleWorld, case: str) -> None:
    attempt, error_class, code = BAD_INPUT[case]
    before = footprint(world)

    with pytest.raises(error_class) as error:
        attempt(world)

    assert error.value.code == code
    after = footprint(world)
    if error_class is Forbidden:
        assert after[:-1] == before[:-1]
        assert after[-1] == before[-1] + 1
    else:
        assert after == before


def test_a_veto_needs_its_reasons(world: CycleWorld) -> None:
    decider = user_with_role(definitions.DECISION_MAKER)
    world.organisation.staff.add(decider)
    before = footprint(world)

    with pytest.raises(InvalidRequest) as error:
        services.decision_record(actor=decider, cycle_id=world.id, summary="No.", veto_used=True)

    assert error.value.code == "invalid.veto_reason"
    assert footprint(world) == before


def test_cycle_create_rejects_an_unknown_template_and_a_lead_without_the_role() -> None:
    organisation = OrganisationFactory()
    lead = commissioner(organisation)
    before = (CommissioningCycle.objects.count(), AuditEvent.objects.count())

    with pytest.raises(InvalidRequest) as template:
        services.cycle_create(
            actor=lead, title="X", organisation=organisation, lead=lead, template_key="nope"
        )
    with pytest.raises(InvalidRequest) as not_a_lead:
        services.cycle_create(
            actor=lead, title="X", organisation=organisation, lead=representative()
        )

    assert template.value.code == "invalid.template"
    assert not_a_lead.value.code == "invalid.lead"
    assert (CommissioningCycle.objects.count(), AuditEvent.objects.count()) == before


# --- the ledger --------------------------------------------------------------------------------


def _decider(world: CycleWorld) -> Any:
    decider = user_with_role(definitions.DECISION_MAKER)
    world.organisation.staff.add(decider)
    return decider


def _prepare_for_advance(world: CycleWorld) -> None:
    world.meet_gate()


def _prepare_dissent(world: CycleWorld) -> None:
    world.agree_boundaries()
    services.signoff_record(actor=world.panel[0], cycle_id=world.id, dissent="Not as agreed.")


def _prepare_reopen(world: CycleWorld) -> None:
    world.pass_gate()


def _nothing(world: CycleWorld) -> None:
    return None


def _prepare_acknowledge(world: CycleWorld) -> None:
    world.agree_boundaries()


def _prepare_attest(world: CycleWorld) -> None:
    world.agree_boundaries()
    world.disclose_budget()
    services.boundaries_acknowledge(actor=world.panel[0], cycle_id=world.id)


CHANGES: dict[str, tuple[Callable[[CycleWorld], None], Callable[[CycleWorld], Any]]] = {
    "boundaries.agreed": (_nothing, lambda w: w.agree_boundaries()),
    "boundaries.acknowledged": (
        _prepare_acknowledge,
        lambda w: services.boundaries_acknowledge(actor=w.panel[0], cycle_id=w.id),
    ),
    "budget.disclosed": (_nothing, lambda w: w.disclose_budget()),
    "signoff.attested": (
        _prepare_attest,
        lambda w: services.signoff_record(actor=w.panel[0], cycle_id=w.id),
    ),
    "signoff.dissented": (
        _nothing,
        lambda w: services.signoff_record(actor=w.panel[0], cycle_id=w.id, dissent="No."),
    ),
    "signoff.dissent_withdrawn": (
        _prepare_dissent,
        lambda w: services.dissent_withdraw(actor=w.panel[0], cycle_id=w.id),
    ),
    "stage.advanced": (_prepare_for_advance, advance),
    "stage.reopened": (
        _prepare_reopen,
        lambda w: services.stage_reopen(
            actor=w.lead, cycle_id=w.id, stage_key="framework", reason="Redo."
        ),
    ),
    "gate.overridden": (
        lambda w: w.record_the_records(),
        lambda w: services.gate_override(actor=w.governor, cycle_id=w.id, reason="Deadline."),
    ),
    "cycle.involvement_lead_named": (
        _nothing,
        lambda w: services.involvement_lead_name(actor=w.lead, cycle_id=w.id, lead=w.lead),
    ),
    "decision.recorded": (
        _nothing,
        lambda w: services.decision_record(actor=_decider(w), cycle_id=w.id, summary="Award."),
    ),
}


@pytest.mark.parametrize("action", CHANGES)
def test_each_change_writes_exactly_one_ledger_event(world: CycleWorld, action: str) -> None:
    prepare, change = CHANGES[action]
    prepare(world)
    before = AuditEvent.objects.count()

    change(world)

    written = list(AuditEvent.objects.filter(seq__gt=before))
    assert [(e.action, e.outcome, e.cycle_id) for e in written] == [(action, "done", world.id)]


def test_creating_a_cycle_writes_one_ledger_event() -> None:
    organisation = OrganisationFactory()
    lead = commissioner(organisation)
    before = AuditEvent.objects.count()

    cycle = services.cycle_create(actor=lead, title="Meals", organisation=organisation, lead=lead)

    written = list(AuditEvent.objects.filter(seq__gt=before))
    assert [(e.action, e.cycle_id) for e in written] == [("cycle.created", cycle.pk)]


def test_a_gate_refusal_writes_one_refused_event_and_changes_nothing(world: CycleWorld) -> None:
    before = footprint(world)

    codes = refused_codes(world)

    after = footprint(world)
    assert after[:-1] == before[:-1]
    assert after[-1] == before[-1] + 1
    refusal = events(world)[-1]
    assert (refusal.action, refusal.outcome) == ("stage_advance", "refused")
    payload = json.loads(refusal.payload)
    assert payload["code"] == "gate.closed"
    assert (
        payload["unmet"]
        == list(codes)
        == [
            "boundaries.missing",
            "budget.missing",
            "signoff.quorum",
            "agreement.unsigned",
            "lead.missing",
        ]
    )


def test_a_forbidden_request_writes_one_refused_event_and_changes_nothing(
    world: CycleWorld,
) -> None:
    world.meet_gate()
    before = footprint(world)

    with pytest.raises(Forbidden):
        services.stage_advance(actor=world.panel[0], cycle_id=world.id)

    after = footprint(world)
    assert after[:-1] == before[:-1]
    assert after[-1] == before[-1] + 1
    refusal = events(world)[-1]
    assert (refusal.action, refusal.outcome, refusal.actor_id) == (
        "stage_advance",
        "refused",
        world.panel[0].pk,
    )
    assert json.loads(refusal.payload)["code"] == "forbidden.lead"


def test_acknowledging_twice_changes_nothing_the_second_time(world: CycleWorld) -> None:
    world.agree_boundaries()
    services.boundaries_acknowledge(actor=world.panel[0], cycle_id=world.id)
    before = footprint(world)

    services.boundaries_acknowledge(actor=world.panel[0], cycle_id=world.id)

    assert footprint(world) == before


def test_decisions_are_kept_apart_from_signoff(world: CycleWorld) -> None:
    decider = _decider(world)

    decision = services.decision_record(
        actor=decider, cycle_id=world.id, summary="Award to four providers.", forum="Cabinet"
    )

    assert decision.decided_by == decider
    assert not SignOff.objects.filter(cycle=world.cycle).exists()

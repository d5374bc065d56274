"""Everyone who can take part in one organisation's cycle, for tests of who may do what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cycle import services
from cycle.models import CommissioningCycle, Organisation
from cycle.stages import get_template
from roles import definitions
from roles import services as role_services
from roles.models import GovernanceBoard, PanelMembership
from tests.factories import (
    OrganisationFactory,
    assess_duty,
    commissioner,
    governance_member,
    representative,
    user_with_role,
)

AGREEMENT = {
    "task": "Help re-design day and vocational services with the commissioners.",
    "responsibilities": "Come to the monthly meetings, read the papers, speak for your group.",
    "support": "A pre-meeting before each visit, a debrief after it, papers in plain English.",
}
BOUNDARIES = {
    "purpose": "Shape the service specification with people who use day services.",
    "user_role": "Co-author the outcomes section; comment on the rest.",
    "influence": "influence",
    "decision_maker": "The council's cabinet member for adult social care.",
}


@dataclass
class Cast:
    """One organisation, one cycle at its first stage, and a person in every role around it.

    The panel has two representatives (both on the tender panel) and a newcomer who is a
    representative but not yet on it. The involvement lead is named.
    """

    organisation: Organisation
    cycle: CommissioningCycle
    lead: Any
    colleague: Any
    involvement_lead: Any
    representative: Any
    second_representative: Any
    newcomer: Any
    decision_maker: Any
    governor: Any
    administrator: Any
    board: GovernanceBoard
    elsewhere: Organisation
    """An organisation the cast's governance board does not oversee."""

    @property
    def id(self) -> int:
        return self.cycle.pk

    def refresh(self) -> CommissioningCycle:
        self.cycle.refresh_from_db()
        return self.cycle

    @property
    def panel(self) -> list[Any]:
        return [
            m.member
            for m in PanelMembership.objects.active()
            .filter(cycle=self.cycle)
            .select_related("member")
        ]

    def agree_boundaries(self, **overrides: Any) -> Any:
        return services.boundaries_agree(
            actor=self.lead, cycle_id=self.id, **{**BOUNDARIES, **overrides}
        )

    def disclose_budget(self, amount: str = "1200000") -> Any:
        return services.budget_disclose(actor=self.lead, cycle_id=self.id, amount=amount)

    def record_agreement(self, **overrides: Any) -> Any:
        return role_services.agreement_record(
            actor=self.lead, cycle_id=self.id, **{**AGREEMENT, **overrides}
        )

    def acknowledge(self, *members: Any) -> None:
        for member in members or self.panel:
            services.boundaries_acknowledge(actor=member, cycle_id=self.id)

    def sign_agreement(self, *members: Any) -> None:
        for member in members or self.panel:
            role_services.agreement_sign(actor=member, cycle_id=self.id)

    def attest(self, *members: Any) -> None:
        for member in members or self.panel:
            services.signoff_record(actor=member, cycle_id=self.id)

    def declare_none(self, *members: Any) -> None:
        for member in members or self.panel:
            role_services.conflict_declare(actor=member, cycle_id=self.id, interest="none")

    def evidence_for_signoff(self) -> None:
        """Boundaries and budget on record, acknowledged by the whole panel, and, where the
        stage asks for one, the duty to involve assessed for the proposal."""
        self.agree_boundaries()
        if not self.cycle.budget_disclosures.exists():
            self.disclose_budget()
        self.acknowledge()
        stage = self.refresh().current_stage
        if "duty_assessed" in get_template(self.cycle.template_key).gate_requires(stage):
            assess_duty(self.lead, self.id)

    def open_framework_gate(self) -> None:
        """Everything the framework gate asks for, short of advancing."""
        self.evidence_for_signoff()
        self.record_agreement()
        self.sign_agreement()
        self.attest()

    def advance(self) -> Any:
        return services.stage_advance(actor=self.lead, cycle_id=self.id)

    def pass_stage(self) -> Any:
        """Meet the current gate with the whole panel and advance."""
        stage = self.refresh().current_stage
        if stage == "framework":
            self.open_framework_gate()
        else:
            self.evidence_for_signoff()
            if "conflicts_declared" in get_template(self.cycle.template_key).gate_requires(stage):
                self.declare_none()
            self.attest()
        return self.advance()


def build_cast(prefix: str) -> Cast:
    """A cast for a new organisation; usernames start with ``prefix``."""
    organisation = OrganisationFactory(name=f"{prefix.title()} Council")
    lead = commissioner(organisation, f"{prefix}-lead")
    colleague = commissioner(organisation, f"{prefix}-colleague")
    involvement_lead = user_with_role(definitions.INVOLVEMENT_LEAD, f"{prefix}-involvement")
    decision_maker = user_with_role(definitions.DECISION_MAKER, f"{prefix}-decider")
    organisation.staff.add(decision_maker)
    governor = governance_member(organisation, username=f"{prefix}-governor")
    administrator = user_with_role(definitions.ADMINISTRATOR, f"{prefix}-admin", is_staff=True)
    cycle = services.cycle_create(
        actor=lead, title=f"{prefix.title()} day services", organisation=organisation, lead=lead
    )
    services.involvement_lead_name(actor=lead, cycle_id=cycle.pk, lead=involvement_lead)
    first = representative(f"{prefix}-rep")
    second = representative(f"{prefix}-rep2")
    for member, represents in ((first, "day service users"), (second, "carers")):
        role_services.membership_add(
            actor=lead,
            cycle_id=cycle.pk,
            member=member,
            represents=represents,
            tier=PanelMembership.Tier.DECISION_FORUM,
            tender_panel=True,
        )
    cycle.refresh_from_db()
    return Cast(
        organisation=organisation,
        cycle=cycle,
        lead=lead,
        colleague=colleague,
        involvement_lead=involvement_lead,
        representative=first,
        second_representative=second,
        newcomer=representative(f"{prefix}-newcomer"),
        decision_maker=decision_maker,
        governor=governor,
        administrator=administrator,
        board=GovernanceBoard.objects.get(members=governor),
        elsewhere=OrganisationFactory(name=f"{prefix.title()} Trust"),
    )

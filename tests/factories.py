"""Factories and small builders shared by the tests."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth.models import Group, User

from cycle import duty_services, services
from cycle.models import CommissioningCycle, Organisation
from roles import definitions
from roles import services as role_services
from roles.models import GovernanceBoard


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pw")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Organisation {n}")


def user_with_role(role: str, username: str | None = None, **kwargs: Any) -> User:
    user = UserFactory(**({"username": username} if username else {}), **kwargs)
    user.groups.add(Group.objects.get(name=role))
    return user


def commissioner(organisation: Organisation, username: str | None = None) -> User:
    user = user_with_role(definitions.COMMISSIONER, username)
    organisation.staff.add(user)
    return user


def representative(username: str | None = None) -> User:
    return user_with_role(definitions.REPRESENTATIVE, username)


def governance_member(*organisations: Organisation, username: str | None = None) -> User:
    user = user_with_role(definitions.GOVERNANCE, username)
    board, _ = GovernanceBoard.objects.get_or_create(name=f"Board of {user.username}")
    board.members.add(user)
    board.organisations.add(*organisations)
    return user


def fresh(user: User) -> User:
    """The same user without cached permissions (as a new request would see them)."""
    return User.objects.get(pk=user.pk)


class CycleWorld:
    """A cycle with a lead, a panel and a governance member, ready for gate evidence."""

    start = staticmethod(services.cycle_create)
    """How the cycle is created: straight through the service here."""

    def __init__(
        self, panel_size: int = 3, template_key: str = "default", title: str = "Day services"
    ) -> None:
        self.organisation = OrganisationFactory()
        self.lead = commissioner(self.organisation)
        self.cycle = self.start(
            actor=self.lead,
            title=title,
            organisation=self.organisation,
            lead=self.lead,
            template_key=template_key,
        )
        self.panel = [representative() for _ in range(panel_size)]
        for member in self.panel:
            role_services.membership_add(actor=self.lead, cycle_id=self.cycle.pk, member=member)
        self.governor = governance_member(self.organisation)

    @property
    def id(self) -> int:
        return self.cycle.pk

    def refresh(self) -> CommissioningCycle:
        self.cycle.refresh_from_db()
        return self.cycle

    def agree_boundaries(self, **overrides: Any) -> Any:
        terms = {
            "purpose": "Shape the service specification with people who use day services.",
            "user_role": "Co-author the outcomes section; comment on the rest.",
            "influence": "influence",
            "decision_maker": "The council's cabinet member for adult social care.",
            "fixed_matters": "The total budget and the tender timetable.",
            "open_matters": "Outcomes, locations and opening hours.",
        }
        terms.update(overrides)
        return services.boundaries_agree(actor=self.lead, cycle_id=self.id, **terms)

    def disclose_budget(self, amount: str = "1200000", **kwargs: Any) -> Any:
        return services.budget_disclose(actor=self.lead, cycle_id=self.id, amount=amount, **kwargs)

    def acknowledge_all(self) -> None:
        for member in self.panel:
            services.boundaries_acknowledge(actor=member, cycle_id=self.id)

    def attest(self, members: list[User] | None = None) -> None:
        for member in self.panel if members is None else members:
            services.signoff_record(actor=member, cycle_id=self.id)

    def meet_stage_conditions(self) -> None:
        """Whatever extra conditions the current stage's gate asks for."""
        from cycle.stages import get_template

        requires = get_template(self.cycle.template_key).gate_requires(self.refresh().current_stage)
        if "working_agreement" in requires:
            role_services.agreement_record(
                actor=self.lead,
                cycle_id=self.id,
                task="Help re-design day services.",
                responsibilities="Attend, read papers, speak for the group.",
                support="Pre-meetings, a buddy, papers in plain English.",
            )
            for member in self.panel:
                role_services.agreement_sign(actor=member, cycle_id=self.id)
        else:
            # The working agreement on record binds newcomers at every stage.
            self.sign_agreement()
        if "involvement_lead" in requires and self.cycle.involvement_lead_id is None:
            services.involvement_lead_name(actor=self.lead, cycle_id=self.id, lead=self.lead)
        if "conflicts_declared" in requires:
            from roles.models import ConflictDeclaration, PanelMembership

            for membership in PanelMembership.objects.active().filter(
                cycle=self.cycle, tender_panel=True
            ):
                if not ConflictDeclaration.objects.filter(
                    cycle=self.cycle, member=membership.member
                ).exists():
                    role_services.conflict_declare(
                        actor=membership.member, cycle_id=self.id, interest="none"
                    )
        if "duty_assessed" in requires:
            self.assess_duty()
        if "input_answered" in requires:
            from cycle.models import UserInput

            for user_input in UserInput.objects.filter(cycle=self.cycle).unanswered():
                services.input_respond(
                    actor=self.lead,
                    cycle_id=self.id,
                    input_id=user_input.pk,
                    kind="we-did",
                    text="Taken into the review of the service.",
                )

    def record_the_records(self) -> None:
        """What no override can stand in for, recorded by the commissioning side alone.

        Role boundaries for the current stage, a budget disclosure, a named involvement lead and
        every input answered: what is left unmet (acknowledgements, quorum, signatures) is what a
        governance board may depart from.
        """
        from cycle.models import RoleBoundaryAgreement, UserInput
        from cycle.stages import get_template

        cycle = self.refresh()
        if not RoleBoundaryAgreement.objects.filter(
            cycle=cycle, stage_key=cycle.current_stage
        ).exists():
            self.agree_boundaries()
        if cycle.budget_disclosures.count() == 0:
            self.disclose_budget()
        requires = get_template(cycle.template_key).gate_requires(cycle.current_stage)
        if "involvement_lead" in requires and cycle.involvement_lead_id is None:
            services.involvement_lead_name(actor=self.lead, cycle_id=self.id, lead=self.lead)
        if "duty_assessed" in requires:
            self.assess_duty()
        if "input_answered" in requires:
            for user_input in UserInput.objects.filter(cycle=cycle).unanswered():
                services.input_respond(
                    actor=self.lead,
                    cycle_id=self.id,
                    input_id=user_input.pk,
                    kind="we-could-not",
                    text="Out of scope for this contract.",
                )

    def assess_duty(self, **answers: Any) -> Any:
        """Record a duty assessment for the proposal as it stands (planning: the duty applies)."""
        return assess_duty(self.lead, self.id, **answers)

    def sign_agreement(self) -> None:
        """Active members who have not signed the current working agreement sign it."""
        from roles.models import AgreementSignature, PanelMembership, WorkingAgreement

        agreement = WorkingAgreement.objects.filter(cycle=self.cycle).order_by("-version").first()
        if agreement is None:
            return
        signed = AgreementSignature.objects.filter(agreement=agreement).values("member_id")
        for membership in (
            PanelMembership.objects.active()
            .filter(cycle=self.cycle)
            .exclude(member_id__in=signed)
            .select_related("member")
        ):
            role_services.agreement_sign(actor=membership.member, cycle_id=self.id)

    def meet_gate(self) -> None:
        """Record everything the current gate needs, without advancing."""
        self.agree_boundaries()
        if self.cycle.budget_disclosures.count() == 0:
            self.disclose_budget()
        self.acknowledge_all()
        self.meet_stage_conditions()
        self.attest()

    def pass_gate(self) -> Any:
        """Record everything the current gate needs, then advance."""
        self.meet_gate()
        return services.stage_advance(actor=self.lead, cycle_id=self.id)

    def walk_to(self, stage_key: str) -> None:
        """Pass gates until the cycle is at ``stage_key``."""
        while self.refresh().current_stage != stage_key:
            self.pass_gate()


def assess_duty(actor: Any, cycle_id: int, **answers: Any) -> Any:
    """Record a duty assessment of a cycle's proposal: planning by an ICB, so the duty applies."""
    terms = {
        "proposal": "Re-commission day services across the borough.",
        "body_type": "icb",
        "activity": "planning",
    }
    terms.update(answers)
    return duty_services.duty_assess(actor=actor, cycle_id=cycle_id, **terms)

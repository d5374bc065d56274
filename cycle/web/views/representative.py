"""A user representative's pages: what they are asked, their part and the money in plain words
with what changed marked, and what they can say: "I have read it", "it went as agreed", "it did
not", input, their signature on the working agreement, their interests.

Every confirmation says exactly what the person did. The words are checked for reading level by
``tests/web/test_reading_level.py``: keep sentences short and words plain.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cycle import services
from cycle.gates import Condition
from cycle.models import SignOff, UserInput
from cycle.procurement.models import Tender
from cycle.stages import get_template
from processes import commissioning
from roles import services as role_services
from roles.models import ConflictDeclaration, PanelMembership, WorkingAgreement

from .. import selectors
from ..forms import PageForm
from .base import ButtonView, CycleFormView, CyclePage


class MemberPage(CyclePage):
    """A page for a member of the cycle's panel, with their own standing on it."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            me=selectors.member_view(self.cycle, self.request.user), **kwargs
        )


class CycleView(MemberPage):
    """The cycle as a panel member sees it: what is asked of them, then everything else."""

    template_name = "web/representative/cycle.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        mine = [ask for ask in selectors.asks(self.request.user) if ask.cycle.pk == self.cycle.pk]
        return super().get_context_data(
            asked=mine,
            coming=selectors.upcoming_meetings([self.cycle.pk]),
            timeline=selectors.timeline(self.cycle),
            reopened=selectors.reopen_reasons(self.cycle),
            **kwargs,
        )


class BoundariesView(MemberPage):
    template_name = "web/representative/boundaries.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        history = selectors.boundary_history(self.cycle, self.cycle.current_stage)
        current = history[0].agreement if history else None
        me = context["me"]
        changes = selectors.boundary_changes(me.acknowledged, current) if current else []
        context.update(
            current=current,
            terms=changes,
            read_current=me.acknowledged_version is not None
            and current is not None
            and me.acknowledged_version == current.version,
            seen_before=me.acknowledged is not None,
        )
        return context


class BudgetView(MemberPage):
    template_name = "web/representative/budget.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        history = selectors.budget_history(self.cycle)
        current = history[0][0] if history else None
        before = context["me"].attested_budget
        context.update(
            current=current,
            before=before,
            changed=current is not None and before is not None and before.pk != current.pk,
        )
        return context


class NoFields(PageForm):
    """A form that is only a button."""


class AcknowledgeView(ButtonView):
    form_class = NoFields
    page_view = BoundariesView
    success_url_name = "web:cycle"

    def perform(self, form: Any) -> Any:
        return services.boundaries_acknowledge(actor=self.request.user, cycle_id=self.cycle.pk)

    def confirmation(self, result: Any) -> str:
        return (
            f"You said you have read your part in this stage (version {result.agreement.version})."
        )


class SignOffForm(PageForm):
    ATTEST = "attest"
    DISSENT = "dissent"

    answer = forms.ChoiceField(
        label=_("Did you take part in the way that was agreed?"),
        choices=[
            (ATTEST, _("Yes. I took part as agreed, and I was told about the money.")),
            (DISSENT, _("No. It did not happen as agreed.")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose yes or no")},
    )
    reasons = forms.CharField(
        label=_("If no, tell us what went wrong"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Everyone who checks the plan can read this."),
    )
    service_fields = {"invalid.dissent_reasons": "reasons"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("answer") == self.DISSENT and not (data.get("reasons") or "").strip():
            self.add_error("reasons", _("Tell us what went wrong"))
        return data


class SignOffView(CycleFormView):
    """Say whether involvement happened as agreed (this is not saying yes to any decision)."""

    template_name = "web/representative/signoff.html"
    form_class = SignOffForm
    submit_label = "Send"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        history = selectors.budget_history(self.cycle)
        return super().get_context_data(
            me=selectors.member_view(self.cycle, self.request.user),
            budget=history[0][0] if history else None,
            scored_bids=self._scored_bids(),
            **kwargs,
        )

    def _scored_bids(self) -> bool:
        """Whether this sign-off is also the tender panel's on evaluating the bids."""
        cycle = self.cycle
        requires = get_template(cycle.template_key).gate_requires(cycle.current_stage)
        if Condition.EVALUATION_SIGNED not in requires:
            return False
        return (
            PanelMembership.objects.active()
            .filter(cycle=cycle, member_id=self.request.user.pk, tender_panel=True)
            .exists()
            and Tender.objects.filter(cycle=cycle).exists()
        )

    def perform(self, form: SignOffForm) -> SignOff:
        data = form.cleaned_data
        dissent = data["reasons"] if data["answer"] == SignOffForm.DISSENT else None
        return commissioning.signoff(
            actor=self.request.user, cycle_id=self.cycle.pk, dissent=dissent
        )

    def confirmation(self, result: SignOff) -> str:
        if result.kind == SignOff.Kind.DISSENT:
            return (
                "You said it did not happen as agreed. We wrote down your reasons. The stage "
                "cannot end until you take this back, or a board looks at it."
            )
        return (
            "You said you took part as agreed, and that you were told about the money. You did "
            "not say yes to any choice."
        )


class WithdrawView(ButtonView):
    form_class = NoFields
    page_view = SignOffView

    def perform(self, form: Any) -> SignOff:
        return services.dissent_withdraw(actor=self.request.user, cycle_id=self.cycle.pk)

    def confirmation(self, result: SignOff) -> str:
        return "You took back what you said went wrong. It is still on the record that you said it."


class InputsView(MemberPage):
    """What the member told the commissioners, and every answer they got."""

    template_name = "web/representative/inputs.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            rows=selectors.inputs(self.cycle, submitted_by=self.request.user), **kwargs
        )


class InputForm(PageForm):
    text = forms.CharField(
        label=_("What do you want to tell them?"),
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Write what you want to tell them")},
    )
    source = forms.ChoiceField(
        label=_("Who is this from?"),
        choices=[
            (UserInput.Source.REPRESENTATIVE, _("Just me")),
            (UserInput.Source.PANEL, _("The whole panel")),
        ],
        initial=UserInput.Source.REPRESENTATIVE,
        widget=forms.RadioSelect,
    )
    method = forms.ChoiceField(
        label=_("How did it come up?"),
        choices=UserInput.Method.choices,
        initial=UserInput.Method.WRITTEN,
        widget=forms.RadioSelect,
    )
    service_fields = {"invalid.text": "text"}


class InputNewView(CycleFormView):
    template_name = "web/representative/input_form.html"
    form_class = InputForm
    submit_label = "Send it"
    success_url_name = "web:inputs"

    def perform(self, form: InputForm) -> UserInput:
        return services.input_submit(
            actor=self.request.user, cycle_id=self.cycle.pk, **form.cleaned_data
        )

    def confirmation(self, result: UserInput) -> str:
        return "You sent what you had to say. You will see their answer on this page."


MEMBER_LABELS = {
    "task": _("What the panel does"),
    "responsibilities": _("What you agree to do"),
    "support": _("Help and training you get"),
    "expenses": _("Money back for your costs"),
    "ground_rules": _("How we treat each other"),
}


class AgreementView(MemberPage):
    template_name = "web/representative/agreement.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        agreement = WorkingAgreement.objects.filter(cycle=self.cycle).order_by("-version").first()
        signed = (
            agreement is not None
            and agreement.signatures.filter(member_id=self.request.user.pk).exists()
        )
        return super().get_context_data(
            agreement=agreement, signed=signed, member_labels=MEMBER_LABELS, **kwargs
        )


class AgreementSignView(ButtonView):
    form_class = NoFields
    page_view = AgreementView
    success_url_name = "web:agreement"

    def perform(self, form: Any) -> Any:
        return role_services.agreement_sign(actor=self.request.user, cycle_id=self.cycle.pk)

    def confirmation(self, result: Any) -> str:
        return f"You signed the working agreement (version {result.agreement.version})."


class InterestsForm(PageForm):
    interest = forms.ChoiceField(
        label=_("Do you have any links to the services or the people who bid?"),
        choices=[
            (ConflictDeclaration.Interest.NONE, _("No, none")),
            (ConflictDeclaration.Interest.USES_SERVICE, _("I use one of the services")),
            (ConflictDeclaration.Interest.EMPLOYMENT, _("I work for, or am paid by, a provider")),
            (ConflictDeclaration.Interest.BIDDER_LINK, _("I know someone who bids")),
            (ConflictDeclaration.Interest.PLANS_TO_BID, _("I plan to bid")),
            (ConflictDeclaration.Interest.OTHER, _("Something else")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose one answer")},
    )
    details = forms.CharField(
        label=_("Which service, provider or bidder?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Not needed if you have none."),
    )
    service_fields = {"invalid.details": "details", "invalid.interest": "interest"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        interest = data.get("interest")
        no_details = not (data.get("details") or "").strip()
        if interest and interest != ConflictDeclaration.Interest.NONE and no_details:
            self.add_error("details", _("Say which service, provider or bidder"))
        return data


class InterestsView(CycleFormView):
    template_name = "web/representative/interests.html"
    form_class = InterestsForm
    submit_label = "Send"
    success_url_name = "web:interests"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            me=selectors.member_view(self.cycle, self.request.user), **kwargs
        )

    def perform(self, form: InterestsForm) -> ConflictDeclaration:
        return role_services.conflict_declare(
            actor=self.request.user, cycle_id=self.cycle.pk, **form.cleaned_data
        )

    def confirmation(self, result: ConflictDeclaration) -> str:
        if result.interest == ConflictDeclaration.Interest.NONE:
            return "You said you have no links to declare."
        return "You told us about a link you have. It is on the record."


def cycle_url(cycle_id: int) -> str:
    return reverse("web:cycle", args=[cycle_id])

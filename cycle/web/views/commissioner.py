"""The commissioning side of a cycle: role boundaries, budget, the panel and its working
agreement, sign-off, answers to input, decisions, and reopening a stage.

Who may use each form is the services' business: a page shows a form to the people the
permission layer allows (``roles.permissions.allowed``), and the service checks again.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from cycle import selectors as cycle_selectors
from cycle import services
from cycle.gates import evaluate
from cycle.models import InputResponse, RoleBoundaryAgreement, UserInput
from cycle.stages import get_template
from processes import commissioning
from roles import services as role_services
from roles.definitions import INVOLVEMENT_LEAD, REPRESENTATIVE
from roles.models import PanelMembership, WorkingAgreement
from roles.permissions import on_panel

from .. import selectors
from ..forms import PageForm
from . import representative
from .base import ButtonView, CycleFormView, CyclePage


def _name(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


# --- Role boundaries ------------------------------------------------------------------------


class BoundariesView(CyclePage):
    """The current stage's role boundaries, every version with what it changed, and who has
    acknowledged it. Panel members see their own page (``representative.BoundariesView``)."""

    template_name = "web/commissioner/boundaries.html"

    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if on_panel(request.user, self.cycle):
            return representative.BoundariesView.as_view()(request, *args, **kwargs)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        history = selectors.boundary_history(self.cycle, self.cycle.current_stage)
        panel = selectors.panel_rows(self.cycle)
        return super().get_context_data(
            history=history,
            current=history[0] if history else None,
            terms=selectors.boundary_changes(None, history[0].agreement) if history else [],
            waiting=[row for row in panel if not row.acknowledged],
            panel=panel,
            **kwargs,
        )


class BoundariesForm(PageForm):
    purpose = forms.CharField(
        label=_("Why are users involved in this stage?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why users are involved in this stage")},
    )
    user_role = forms.CharField(
        label=_("What will users do?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what users will do")},
    )
    influence = forms.ChoiceField(
        label=_("How much can users change?"),
        choices=RoleBoundaryAgreement.Influence.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Inform: users are told. Consult: users are asked. Influence: what users say changes "
            "the plan. Co-decide: users decide with you."
        ),
        error_messages={"required": _("Choose how much users can change")},
    )
    decision_maker = forms.CharField(
        label=_("Who actually decides?"),
        max_length=500,
        error_messages={"required": _("Say who actually decides")},
    )
    commissioner_authority = forms.CharField(
        label=_("What can you, the commissioner, decide yourself? (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    fixed_matters = forms.CharField(
        label=_("What is fixed and cannot change? (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    open_matters = forms.CharField(
        label=_("What can users still change? (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    service_fields = {
        "invalid.purpose": "purpose",
        "invalid.user_role": "user_role",
        "invalid.influence": "influence",
        "invalid.decision_maker": "decision_maker",
    }


class BoundariesEditView(CycleFormView):
    """Record the role boundaries of the current stage, or a new version of them."""

    template_name = "web/commissioner/boundaries_form.html"
    form_class = BoundariesForm
    submit_label = "Save the role boundaries"
    success_url_name = "web:boundaries"

    def get_initial(self) -> dict[str, Any]:
        current = cycle_selectors.current_boundaries(self.cycle, self.cycle.current_stage)
        if current is None:
            return {}
        return {name: getattr(current, name) for name, _label in selectors.BOUNDARY_TERMS}

    def perform(self, form: BoundariesForm) -> RoleBoundaryAgreement:
        return services.boundaries_agree(
            actor=self.request.user, cycle_id=self.cycle.pk, **form.cleaned_data
        )

    def confirmation(self, result: RoleBoundaryAgreement) -> str:
        return (
            f"You recorded version {result.version} of the role boundaries. Every panel member "
            "must acknowledge it before the stage can end."
        )


# --- Budget ---------------------------------------------------------------------------------


class BudgetView(CyclePage):
    """What the panel has been told about the budget, every version, and what each changed."""

    template_name = "web/commissioner/budget.html"

    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if on_panel(request.user, self.cycle):
            return representative.BudgetView.as_view()(request, *args, **kwargs)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        history = selectors.budget_history(self.cycle)
        return super().get_context_data(
            history=history, current=history[0][0] if history else None, **kwargs
        )


class BudgetForm(PageForm):
    DISCLOSE = "amount"
    WITHHOLD = "withheld"

    choice = forms.ChoiceField(
        label=_("Can you tell the panel the amount?"),
        choices=[(DISCLOSE, _("Yes, give the amount")), (WITHHOLD, _("No, give the reason"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether you can give the amount")},
    )
    # Plain text: the service judges the amount (``cycle.input_rules.amount``), so "1_000" or
    # "1e6" is refused here exactly as through the API or the command line.
    amount = forms.CharField(
        label=_("Amount in pounds"),
        required=False,
        max_length=40,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "width": "10", "spellcheck": "false"}
        ),
    )
    constraints = forms.CharField(
        label=_("What limits how the money can be spent? (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    withheld_reason = forms.CharField(
        label=_("Why can the amount not be given?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    service_fields = {
        "invalid.amount": "amount",
        "invalid.budget": "choice",
        "invalid.currency": "amount",
    }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("choice") == self.DISCLOSE and not (data.get("amount") or "").strip():
            self.add_error("amount", _("Enter the amount"))
        if data.get("choice") == self.WITHHOLD and not (data.get("withheld_reason") or "").strip():
            self.add_error("withheld_reason", _("Say why the amount cannot be given"))
        return data


class BudgetEditView(CycleFormView):
    """Disclose the budget, change it, or give the reason it is withheld: a new version."""

    template_name = "web/commissioner/budget_form.html"
    form_class = BudgetForm
    submit_label = "Tell the panel"
    success_url_name = "web:budget"

    def get_initial(self) -> dict[str, Any]:
        current = cycle_selectors.current_budget(self.cycle)
        if current is None:
            return {}
        return {
            "choice": BudgetForm.WITHHOLD if current.amount is None else BudgetForm.DISCLOSE,
            "amount": current.amount,
            "constraints": current.constraints,
            "withheld_reason": current.withheld_reason,
        }

    def perform(self, form: BudgetForm) -> Any:
        data = form.cleaned_data
        withheld = data["choice"] == BudgetForm.WITHHOLD
        return services.budget_disclose(
            actor=self.request.user,
            cycle_id=self.cycle.pk,
            amount=None if withheld else data["amount"],
            constraints=data["constraints"],
            withheld_reason=data["withheld_reason"] if withheld else "",
        )

    def confirmation(self, result: Any) -> str:
        told = (
            f"£{result.amount:,.2f}"
            if result.amount is not None
            else "that the amount cannot be given, and why"
        )
        return (
            f"You told the panel {told} (version {result.version}). Sign-offs given against an "
            "earlier budget no longer count: the panel must sign off again."
        )


# --- The panel and its working agreement ----------------------------------------------------


class PanelView(CyclePage):
    template_name = "web/commissioner/panel.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            panel=selectors.panel_rows(self.cycle),
            former=selectors.former_members(self.cycle),
            **kwargs,
        )


def _users_with_role(role: str) -> Any:
    return (
        get_user_model()
        .objects.filter(groups__name=role, is_active=True)
        .order_by("last_name", "first_name", "username")
        .distinct()
    )


class MemberChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{_name(obj)} ({obj.get_username()})"


class MemberAddForm(PageForm):
    member = MemberChoiceField(
        label=_("Who joins the panel?"),
        queryset=get_user_model().objects.none(),
        empty_label=_("Choose a person"),
        error_messages={"required": _("Choose who joins the panel")},
    )
    represents = forms.CharField(
        label=_("Whom do they speak for? (optional)"),
        required=False,
        max_length=200,
        help_text=_("For example, “carers” or “people who use the day centre”."),
    )
    tier = forms.ChoiceField(
        label=_("Which group?"),
        choices=PanelMembership.Tier.choices,
        initial=PanelMembership.Tier.REFERENCE_GROUP,
        widget=forms.RadioSelect,
    )
    tender_panel = forms.BooleanField(label=_("They also sit on the tender panel"), required=False)
    service_fields = {
        "invalid.not_representative": "member",
        "panel.already_member": "member",
        "forbidden.commissioner_on_panel": "member",
        "forbidden.involvement_lead_on_panel": "member",
        "forbidden.governance_on_panel": "member",
    }

    def __init__(self, *args: Any, cycle: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["member"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = _users_with_role(REPRESENTATIVE).exclude(
            pk__in=PanelMembership.objects.active().filter(cycle=cycle).values("member_id")
        )


class MemberAddView(CycleFormView):
    template_name = "web/commissioner/member_add.html"
    form_class = MemberAddForm
    submit_label = "Add to the panel"
    success_url_name = "web:panel"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "cycle": self.cycle}

    def perform(self, form: MemberAddForm) -> PanelMembership:
        data = form.cleaned_data
        return role_services.membership_add(
            actor=self.request.user,
            cycle_id=self.cycle.pk,
            member=data["member"],
            represents=data["represents"],
            tier=data["tier"],
            tender_panel=data["tender_panel"],
        )

    def confirmation(self, result: PanelMembership) -> str:
        return (
            f"You added {_name(result.member)} to the panel. They count towards sign-off from now "
            "on, and must acknowledge this stage's role boundaries."
        )


class MemberForm(PageForm):
    """A change to one member's place on the panel."""

    member = forms.IntegerField(widget=forms.HiddenInput)

    def member_user(self) -> Any:
        return get_user_model().objects.filter(pk=self.cleaned_data["member"]).first()


class MemberRemoveForm(MemberForm):
    reason = forms.CharField(
        label=_("Why are they leaving the panel? (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MemberRemoveView(CycleFormView):
    template_name = "web/commissioner/member_remove.html"
    form_class = MemberRemoveForm
    submit_label = "Take them off the panel"
    success_url_name = "web:panel"

    def get_initial(self) -> dict[str, Any]:
        return {"member": self.request.GET.get("member")}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = kwargs.get("form") or self.get_form()
        member_id = form["member"].value()
        member = get_user_model().objects.filter(pk=member_id).first() if member_id else None
        return super().get_context_data(member=member, **kwargs)

    def perform(self, form: MemberRemoveForm) -> PanelMembership:
        return role_services.membership_remove(
            actor=self.request.user,
            cycle_id=self.cycle.pk,
            member=form.member_user(),
            reason=form.cleaned_data["reason"],
        )

    def confirmation(self, result: PanelMembership) -> str:
        return f"You took {_name(result.member)} off the panel. Their sign-off no longer counts."


class TenderPanelForm(MemberForm):
    tender_panel = forms.BooleanField(required=False, widget=forms.HiddenInput)


class TenderPanelView(ButtonView):
    """Put a member on the tender panel or take them off it (a button on the panel page)."""

    form_class = TenderPanelForm
    page_view = PanelView
    success_url_name = "web:panel"

    def perform(self, form: TenderPanelForm) -> PanelMembership:
        return role_services.membership_set_tender_panel(
            actor=self.request.user,
            cycle_id=self.cycle.pk,
            member=form.member_user(),
            tender_panel=form.cleaned_data["tender_panel"],
        )

    def confirmation(self, result: PanelMembership) -> str:
        if result.tender_panel:
            return (
                f"You put {_name(result.member)} on the tender panel. They must declare their "
                "interests before procurement."
            )
        return f"You took {_name(result.member)} off the tender panel."


class InvolvementLeadForm(PageForm):
    lead = MemberChoiceField(
        label=_("Who is responsible for involvement in this cycle?"),
        queryset=get_user_model().objects.none(),
        empty_label=_("Choose a person"),
        error_messages={"required": _("Choose the involvement lead")},
    )
    service_fields = {
        "invalid.involvement_lead": "lead",
        "forbidden.representative_as_involvement_lead": "lead",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["lead"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = _users_with_role(INVOLVEMENT_LEAD)


class InvolvementLeadView(CycleFormView):
    template_name = "web/commissioner/involvement_lead.html"
    form_class = InvolvementLeadForm
    submit_label = "Name the involvement lead"
    success_url_name = "web:panel"

    def get_initial(self) -> dict[str, Any]:
        return {"lead": self.cycle.involvement_lead_id}

    def perform(self, form: InvolvementLeadForm) -> Any:
        return services.involvement_lead_name(
            actor=self.request.user, cycle_id=self.cycle.pk, lead=form.cleaned_data["lead"]
        )

    def confirmation(self, result: Any) -> str:
        return f"You named {_name(result.involvement_lead)} as the involvement lead."


class AgreementView(CyclePage):
    """The panel's working agreement and who has signed it."""

    template_name = "web/commissioner/agreement.html"

    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if on_panel(request.user, self.cycle):
            return representative.AgreementView.as_view()(request, *args, **kwargs)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        agreement = WorkingAgreement.objects.filter(cycle=self.cycle).order_by("-version").first()
        return super().get_context_data(
            agreement=agreement, panel=selectors.panel_rows(self.cycle), **kwargs
        )


class AgreementForm(PageForm):
    task = forms.CharField(
        label=_("What is the panel's job?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what the panel's job is")},
    )
    responsibilities = forms.CharField(
        label=_("What does each member agree to do?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what each member agrees to do")},
    )
    support = forms.CharField(
        label=_("Support and training offered"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Training, pre-meetings, a buddy, papers in plain English, help to travel."),
        error_messages={"required": _("Say what support and training members get")},
    )
    expenses = forms.CharField(
        label=_("Expenses and payment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Leave empty for: expenses paid on the day."),
    )
    ground_rules = forms.CharField(
        label=_("Ground rules (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    service_fields = {
        "invalid.task": "task",
        "invalid.responsibilities": "responsibilities",
        "invalid.support": "support",
    }


class AgreementEditView(CycleFormView):
    template_name = "web/commissioner/agreement_form.html"
    form_class = AgreementForm
    submit_label = "Save the working agreement"
    success_url_name = "web:agreement"

    def get_initial(self) -> dict[str, Any]:
        current = WorkingAgreement.objects.filter(cycle=self.cycle).order_by("-version").first()
        if current is None:
            return {}
        return {
            name: str(getattr(current, name))
            for name in ("task", "responsibilities", "support", "expenses", "ground_rules")
        }

    def perform(self, form: AgreementForm) -> WorkingAgreement:
        return role_services.agreement_record(
            actor=self.request.user, cycle_id=self.cycle.pk, **form.cleaned_data
        )

    def confirmation(self, result: WorkingAgreement) -> str:
        return (
            f"You recorded version {result.version} of the working agreement. Every panel member "
            "must sign it."
        )


# --- Sign-off -------------------------------------------------------------------------------


class SignOffsView(CyclePage):
    """Where each panel member stands on the current stage, dissents with their reasons."""

    template_name = "web/commissioner/signoffs.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        snapshot = cycle_selectors.gate_snapshots([self.cycle])[self.cycle.pk]
        result = evaluate(snapshot)
        return super().get_context_data(
            panel=selectors.panel_rows(self.cycle), gate=result, **kwargs
        )


class SignOffRequestForm(PageForm):
    """No fields: the button asks."""


class SignOffRequestView(CycleFormView):
    """Ask the panel for sign-off: every member now on it gets the request."""

    template_name = "web/commissioner/signoff_request.html"
    form_class = SignOffRequestForm
    submit_label = "Ask the panel to sign off"
    success_url_name = "web:signoffs"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(panel=selectors.panel_rows(self.cycle), **kwargs)

    def perform(self, form: Any) -> Any:
        return commissioning.request_signoff(actor=self.request.user, cycle_id=self.cycle.pk)

    def confirmation(self, result: Any) -> str:
        count = len(result)
        if count == 0:
            return "Everyone on the panel had already been asked. Nobody new was asked."
        return f"You asked {count} panel {'member' if count == 1 else 'members'} to sign off."


# --- Input and answers ----------------------------------------------------------------------


class InputsView(CyclePage):
    """Every input to the cycle with every answer given to it."""

    template_name = "web/commissioner/inputs.html"

    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if on_panel(request.user, self.cycle):
            return representative.InputsView.as_view()(request, *args, **kwargs)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        rows = selectors.inputs(self.cycle)
        return super().get_context_data(
            rows=rows,
            unanswered=[row for row in rows if not row.user_input.is_answered],
            **kwargs,
        )


class DecisionChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.summary[:80]} ({obj.decided_at:%d %B %Y})"


class RespondForm(PageForm):
    kind = forms.ChoiceField(
        label=_("Your answer"),
        choices=InputResponse.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose your answer")},
    )
    text = forms.CharField(
        label=_("What was done, or why not"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The person who gave the input reads this. Needed unless still considering."),
    )
    decision = DecisionChoiceField(
        label=_("The decision it touched (optional)"),
        queryset=UserInput.objects.none(),
        required=False,
        empty_label=_("None"),
    )
    service_fields = {
        "invalid.reason": "text",
        "invalid.what_was_done": "text",
        "invalid.response_kind": "kind",
        "decision.not_found": "decision",
    }

    def __init__(self, *args: Any, cycle: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["decision"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = cycle.decisions.order_by("-decided_at")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == InputResponse.Kind.WE_DID and not (data.get("text") or "").strip():
            self.add_error("text", _("Say what was done"))
        if kind == InputResponse.Kind.WE_COULD_NOT and not (data.get("text") or "").strip():
            self.add_error("text", _("Say why it could not be done"))
        return data


class RespondView(CycleFormView):
    template_name = "web/commissioner/respond.html"
    form_class = RespondForm
    submit_label = "Send the answer"
    success_url_name = "web:inputs"

    def user_input(self) -> UserInput:
        from django.http import Http404

        found = UserInput.objects.filter(cycle=self.cycle, pk=self.kwargs["input_id"]).first()
        if found is None:
            raise Http404("No such input")
        return found

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "cycle": self.cycle}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user_input = self.user_input()
        rows = [row for row in selectors.inputs(self.cycle) if row.user_input.pk == user_input.pk]
        return super().get_context_data(row=rows[0], **kwargs)

    def perform(self, form: RespondForm) -> InputResponse:
        data = form.cleaned_data
        decision = data.get("decision")
        return services.input_respond(
            actor=self.request.user,
            cycle_id=self.cycle.pk,
            input_id=self.user_input().pk,
            kind=data["kind"],
            text=data["text"],
            decision_id=decision.pk if decision is not None else None,
        )

    def confirmation(self, result: InputResponse) -> str:
        kind = result.get_kind_display()
        return f"You answered “{kind}”. The person who gave the input can read your answer."


# --- Decisions ------------------------------------------------------------------------------


class DecisionsView(CyclePage):
    template_name = "web/commissioner/decisions.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(decisions=selectors.decisions(self.cycle), **kwargs)


class DecisionForm(PageForm):
    summary = forms.CharField(
        label=_("What was decided?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say what was decided")},
    )
    forum = forms.CharField(
        label=_("Where was it decided? (optional)"),
        required=False,
        max_length=200,
        help_text=_("For example, “Joint commissioning board, 14 January”."),
    )
    veto_used = forms.BooleanField(label=_("A veto was used"), required=False)
    veto_reason = forms.CharField(
        label=_("Why the veto was used"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed if a veto was used. It stays on the record."),
    )
    service_fields = {"invalid.summary": "summary", "invalid.veto_reason": "veto_reason"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("veto_used") and not (data.get("veto_reason") or "").strip():
            self.add_error("veto_reason", _("Say why the veto was used"))
        return data


class DecisionRecordView(CycleFormView):
    template_name = "web/commissioner/decision_form.html"
    form_class = DecisionForm
    submit_label = "Record the decision"
    success_url_name = "web:decisions"

    def perform(self, form: DecisionForm) -> Any:
        return services.decision_record(
            actor=self.request.user, cycle_id=self.cycle.pk, **form.cleaned_data
        )

    def confirmation(self, result: Any) -> str:
        veto = " The veto and its reasons are on the record." if result.veto_used else ""
        return f"You recorded the decision.{veto}"


# --- Reopening a stage ----------------------------------------------------------------------


class ReopenForm(PageForm):
    stage = forms.ChoiceField(
        label=_("Which stage do you want to open again?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the stage to open again")},
    )
    reason = forms.CharField(
        label=_("Why?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The panel reads this reason."),
        error_messages={"required": _("Say why the stage is opened again")},
    )
    service_fields = {
        "invalid.reason": "reason",
        "invalid.stage": "stage",
        "reopen.not_earlier": "stage",
    }

    def __init__(self, *args: Any, cycle: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        template = get_template(cycle.template_key)
        position = template.position(cycle.current_stage)
        completed = cycle.status == cycle.Status.COMPLETED
        earlier = template.stages[: position if completed else position - 1]
        field = self.fields["stage"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(stage.key, stage.name) for stage in earlier]


class ReopenView(CycleFormView):
    template_name = "web/commissioner/reopen.html"
    form_class = ReopenForm
    submit_label = "Open the stage again"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "cycle": self.cycle}

    def perform(self, form: ReopenForm) -> Any:
        return commissioning.reopen(
            actor=self.request.user,
            cycle_id=self.cycle.pk,
            stage_key=form.cleaned_data["stage"],
            reason=form.cleaned_data["reason"],
        )

    def confirmation(self, result: Any) -> str:
        name = get_template(self.cycle.template_key).get(result.stage_key).name
        return (
            f"You opened “{name}” again. The panel can read why. Its gate must be met again "
            "before the cycle moves on."
        )

"""The duty to involve: the cycle's duty assessment, changes to its proposal, and consultations.

The lead commissioner records them; everyone who may see the cycle reads them, the governance
board included. The result of an assessment is the rule's (``cycle.duty.assess``), never typed in.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from cycle import duty, duty_selectors, duty_services
from cycle.duty_models import Consultation, CoverageGroup, DutyAssessment, ExternalPressure
from cycle.stages import get_template
from roles.models import PanelMembership

from .. import selectors
from ..forms import PageForm
from .base import ButtonView, CycleFormView, CyclePage

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _yes_no(label: Any, hint: Any = "", required: bool = True) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        help_text=hint,
        choices=YES_NO,
        widget=forms.RadioSelect,
        required=required,
        error_messages={"required": _("Choose yes or no")},
    )


class DutyView(CyclePage):
    """Whether the duty to involve applies, why, and every earlier assessment."""

    template_name = "web/duty/duty.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(duty=selectors.duty_page(self.cycle), **kwargs)


class DutyForm(PageForm):
    proposal = forms.CharField(
        label=_("What is being proposed?"),
        help_text=_("Say what would change for the people who use the service."),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what is being proposed")},
    )
    body_type = forms.ChoiceField(
        label=_("What kind of body is making the proposal?"),
        choices=DutyAssessment.BodyTypes.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the kind of body")},
    )
    wording = forms.ChoiceField(
        label=_("Which wording of the law applies?"),
        help_text=_("The 2008 wording is for proposals made before integrated care boards."),
        choices=DutyAssessment.Wordings.choices,
        initial=duty.Wording.CURRENT.value,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the wording of the law")},
    )
    activity = forms.ChoiceField(
        label=_("What are you doing?"),
        choices=DutyAssessment.Activities.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what you are doing")},
    )
    responsible = _yes_no(
        _("Is the body responsible for the service?"),
        _("It provides the service, or someone provides it for the body or under its contract."),
    )
    affects_other_services = _yes_no(
        _("If not, does the change affect other services the body is responsible for?"),
        required=False,
    )
    affects_delivery = _yes_no(_("Would it change how people receive the service?"))
    affects_range = _yes_no(_("Would it change which services people can get?"))
    already_involved = _yes_no(
        _("Were people already involved on this proposal in enough detail?"),
        _("For example, an earlier consultation that covered these plans in detail."),
    )
    substantial = _yes_no(_("Is it a substantial development or variation of the service?"))
    urgent_safety_risk = _yes_no(
        _("Must it happen at once because of a risk to patients' or staff's safety?"),
    )
    service_fields = {
        "invalid.proposal": "proposal",
        "invalid.body_type": "body_type",
        "invalid.activity": "activity",
        "invalid.wording": "wording",
    }

    def answers(self) -> dict[str, Any]:
        data = self.cleaned_data
        flags = (
            "responsible",
            "affects_other_services",
            "affects_delivery",
            "affects_range",
            "already_involved",
            "substantial",
            "urgent_safety_risk",
        )
        return {
            "proposal": data["proposal"],
            "body_type": data["body_type"],
            "wording": data["wording"],
            "activity": data["activity"],
            **{flag: data.get(flag) == "yes" for flag in flags},
        }


class DutyAssessView(CycleFormView):
    """Answer the questions; the rule says whether the duty applies."""

    template_name = "web/duty/assess.html"
    form_class = DutyForm
    submit_label = "Assess the duty"
    success_url_name = "web:duty"

    def get_initial(self) -> dict[str, Any]:
        latest = DutyAssessment.objects.filter(cycle=self.cycle).order_by("-version").first()
        if latest is None:
            return {"wording": duty.Wording.CURRENT.value}
        yes_no = {True: "yes", False: "no"}
        return {
            "proposal": latest.proposal,
            "body_type": latest.body_type,
            "wording": latest.wording,
            "activity": latest.activity,
            "responsible": yes_no[latest.responsible],
            "affects_other_services": yes_no[latest.affects_other_services],
            "affects_delivery": yes_no[latest.affects_delivery],
            "affects_range": yes_no[latest.affects_range],
            "already_involved": yes_no[latest.already_involved],
            "substantial": yes_no[latest.substantial],
            "urgent_safety_risk": yes_no[latest.urgent_safety_risk],
        }

    def perform(self, form: DutyForm) -> Any:
        return duty_services.duty_assess(
            actor=self.request.user, cycle_id=self.cycle.pk, **form.answers()
        )

    def confirmation(self, result: Any) -> str:
        outcome = {
            "required": "the duty to involve applies",
            "not-required": "the duty to involve does not apply",
            "out-of-scope": "the proposal is outside the duty to involve",
        }[result.outcome]
        limb = f", under limb ({result.limb})" if result.limb else ""
        scrutiny = (
            " The overview and scrutiny committee must be consulted." if result.scrutiny else ""
        )
        return f"You assessed the duty (version {result.version}): {outcome}{limb}.{scrutiny}"


class ProposalChangeForm(PageForm):
    summary = forms.CharField(
        label=_("What changed in the proposal?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what changed")},
    )
    service_fields = {"invalid.summary": "summary"}


class ProposalChangeView(CycleFormView):
    """Record that the proposal changed: the duty must then be assessed again."""

    template_name = "web/duty/change.html"
    form_class = ProposalChangeForm
    submit_label = "Record the change"
    success_url_name = "web:duty"

    def perform(self, form: ProposalChangeForm) -> Any:
        return duty_services.proposal_change_record(
            actor=self.request.user, cycle_id=self.cycle.pk, summary=form.cleaned_data["summary"]
        )

    def confirmation(self, result: Any) -> str:
        return (
            "You recorded a change to the proposal. Assess the duty again before the needs "
            "stage can be passed."
        )


# --- Consultations ------------------------------------------------------------------------------

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d %m %Y"]


def _date(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        help_text=_("For example, 02/03/2026"),
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"width": "10", "inputmode": "numeric"}),
        error_messages={
            "required": _("Enter the date"),
            "invalid": _("Enter a real date, like 02/03/2026"),
        },
    )


class ConsultationsView(CyclePage):
    """Every consultation of the cycle, and what the Gunning principles say of each."""

    template_name = "web/duty/consultations.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            rows=selectors.consultation_rows(self.cycle),
            min_weeks=duty_selectors.min_weeks(),
            **kwargs,
        )


class ConsultationOpenForm(PageForm):
    title = forms.CharField(
        label=_("What is the consultation called?"),
        max_length=200,
        error_messages={"required": _("Enter a title")},
    )
    document = forms.CharField(
        label=_("The consultation document"),
        help_text=_("Its title and where people can read it."),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say where the consultation document is")},
    )
    options = forms.CharField(
        label=_("Which options are still open? (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    equality_kind = forms.ChoiceField(
        label=_("Equality impact"),
        choices=Consultation.EqualityKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose an assessment or a screening-out")},
    )
    equality_reference = forms.CharField(
        label=_("The equality impact assessment, or why it was screened out"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the equality impact assessment or the reasons")},
    )
    opens_on = _date(_("Opens on"))
    closes_on = _date(_("Closes on"))
    service_fields = {
        "invalid.title": "title",
        "invalid.document": "document",
        "invalid.equality_reference": "equality_reference",
        "invalid.equality_kind": "equality_kind",
        "invalid.closes_on": "closes_on",
    }


class ConsultationOpenView(CycleFormView):
    """Open a consultation in the current stage, with its document and equality assessment."""

    template_name = "web/duty/consultation_open.html"
    form_class = ConsultationOpenForm
    submit_label = "Open the consultation"
    success_url_name = "web:consultations"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(min_weeks=duty_selectors.min_weeks(), **kwargs)

    def perform(self, form: ConsultationOpenForm) -> Any:
        return duty_services.consultation_open(
            actor=self.request.user, cycle_id=self.cycle.pk, **form.cleaned_data
        )

    def confirmation(self, result: Any) -> str:
        return f"You opened the consultation “{result.title}”."


class ConsultationConsiderForm(PageForm):
    responses = forms.IntegerField(
        label=_("How many responses were there?"),
        min_value=0,
        widget=forms.TextInput(attrs={"width": "4", "inputmode": "numeric"}),
        error_messages={
            "required": _("Enter the number of responses"),
            "invalid": _("Enter the number of responses as a whole number, like 120"),
            "min_value": _("Enter the number of responses as a whole number, like 120"),
        },
    )
    analysis = forms.CharField(
        label=_("What did people say?"),
        help_text=_("The analysis of the responses."),
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Say what people said")},
    )
    statement = forms.CharField(
        label=_("How were their responses taken into account?"),
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Say how the responses were taken into account")},
    )
    service_fields = {
        "invalid.responses": "responses",
        "invalid.analysis": "analysis",
        "invalid.statement": "statement",
    }


class ConsultationConsiderView(CycleFormView):
    """Record the analysis of a consultation's responses and how they were considered."""

    template_name = "web/duty/consultation_consider.html"
    form_class = ConsultationConsiderForm
    submit_label = "Record how responses were considered"
    success_url_name = "web:consultations"

    @cached_property
    def consultation(self) -> Consultation:
        found = Consultation.objects.filter(
            cycle=self.cycle, pk=self.kwargs["consultation_id"]
        ).first()
        if found is None:
            raise Http404("No such consultation")
        return found

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(consultation=self.consultation, **kwargs)

    def perform(self, form: ConsultationConsiderForm) -> Any:
        return duty_services.consultation_consider(
            actor=self.request.user,
            cycle_id=self.cycle.pk,
            consultation_id=self.consultation.pk,
            **form.cleaned_data,
        )

    def confirmation(self, result: Any) -> str:
        return "You recorded what people said and how their responses were taken into account."


# --- External pressures -------------------------------------------------------------------------


class PressuresView(CyclePage):
    """The register of external pressures: what each means for users, and whether the panel was
    told. A panel member sees only that there is a pressure not yet told, and why."""

    template_name = "web/duty/pressures.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        template = get_template(self.cycle.template_key)
        context["pressures"] = [
            {
                "pressure": pressure,
                "affects": [template.get(s.stage_key).name for s in pressure.affected_stages.all()],
                "reopened": template.get(pressure.reopened_stage).name
                if pressure.reopened_stage
                else "",
                "hidden": context["on_panel"] and not pressure.disclosed,
            }
            for pressure in duty_selectors.pressures(self.cycle)
        ]
        return context


class PressureForm(PageForm):
    category = forms.ChoiceField(
        label=_("What kind of pressure is it?"),
        choices=ExternalPressure.Category.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the kind of pressure")},
    )
    title = forms.CharField(
        label=_("Name the pressure"),
        max_length=200,
        help_text=_("For example, “The council has promised no council tax rise”."),
        error_messages={"required": _("Name the pressure")},
    )
    description = forms.CharField(
        label=_("What is it? (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    implication = forms.CharField(
        label=_("What does it mean for people who use services?"),
        help_text=_("Use plain words. The panel reads this."),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what it means for people who use services")},
    )
    affects = forms.MultipleChoiceField(
        label=_("Which stages does it affect? (optional)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    disclosed = _yes_no(_("Can the panel be told about it now?"))
    withheld_reason = forms.CharField(
        label=_("If not, why not?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reopen = forms.BooleanField(
        label=_("Open again the earliest stage it affects that the cycle has already left"),
        required=False,
    )
    service_fields = {
        "invalid.category": "category",
        "invalid.title": "title",
        "invalid.implication": "implication",
        "invalid.affects": "affects",
        "invalid.withheld_reason": "withheld_reason",
        "reopen.not_earlier": "reopen",
    }

    def __init__(self, *args: Any, cycle: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if cycle is not None:
            template = get_template(cycle.template_key)
            affects = self.fields["affects"]
            assert isinstance(affects, forms.MultipleChoiceField)
            affects.choices = [(s.key, s.name) for s in template.stages]

    def answers(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["disclosed"] = data["disclosed"] == "yes"
        return data


class PressureRecordView(CycleFormView):
    """Record an external pressure; the panel is told."""

    template_name = "web/duty/pressure_record.html"
    form_class = PressureForm
    submit_label = "Record the pressure"
    success_url_name = "web:pressures"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "cycle": self.cycle}

    def perform(self, form: PressureForm) -> Any:
        return duty_services.pressure_record(
            actor=self.request.user, cycle_id=self.cycle.pk, **form.answers()
        )

    def confirmation(self, result: Any) -> str:
        told = (
            "The panel has been told what it means for them."
            if result.disclosed
            else "The panel has been told there is a pressure they cannot hear about yet, and why."
        )
        reopened = (
            f" “{get_template(self.cycle.template_key).get(result.reopened_stage).name}” is open "
            "again."
            if result.reopened_stage
            else ""
        )
        return f"You recorded “{result.title}”. {told}{reopened}"


class PressureDiscloseView(ButtonView):
    """Tell the panel about a pressure that could not be told before."""

    page_view = PressuresView
    form_class = PageForm
    success_url_name = "web:pressures"

    def perform(self, form: Any) -> Any:
        return duty_services.pressure_disclose(
            actor=self.request.user,
            cycle_id=self.cycle.pk,
            pressure_id=self.kwargs["pressure_id"],
        )

    def confirmation(self, result: Any) -> str:
        return f"You told the panel about “{result.title}” and what it means for them."


# --- Who is missing -----------------------------------------------------------------------------


class CoverageView(CyclePage):
    """The groups the cycle should hear from, and who speaks for each: panel members and
    consultation respondents. A group nobody speaks for is flagged; it never holds the gate."""

    template_name = "web/duty/coverage.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(rows=duty_selectors.coverage(self.cycle), **kwargs)


class CoverageGroupForm(PageForm):
    name = forms.CharField(
        label=_("Name of the group"),
        max_length=200,
        help_text=_("As your area names it, for example “Young carers” or “Travellers”."),
        error_messages={"required": _("Enter the name of the group")},
    )
    kind = forms.ChoiceField(
        label=_("What kind of group is it?"),
        choices=CoverageGroup.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the kind of group")},
    )
    service_fields = {"invalid.name": "name", "coverage.duplicate": "name"}


class CoverageGroupAddView(CycleFormView):
    """Add a group the cycle should hear from."""

    template_name = "web/duty/coverage_add.html"
    form_class = CoverageGroupForm
    submit_label = "Add the group"
    success_url_name = "web:coverage"

    def perform(self, form: CoverageGroupForm) -> Any:
        return duty_services.coverage_group_add(
            actor=self.request.user, cycle_id=self.cycle.pk, **form.cleaned_data
        )

    def confirmation(self, result: Any) -> str:
        return f"You added “{result.name}” to the groups this cycle should hear from."


class CoverageRecordForm(PageForm):
    members = forms.MultipleChoiceField(
        label=_("Who on the panel comes from this group, or speaks for it?"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    service_fields = {"invalid.members": "members"}

    def __init__(self, *args: Any, panel: Any = (), consultations: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = self.fields["members"]
        assert isinstance(members, forms.MultipleChoiceField)
        members.choices = [
            (str(m.member_id), m.member.get_full_name() or m.member.get_username()) for m in panel
        ]
        self.consultation_ids = []
        for consultation in consultations:
            self.consultation_ids.append(consultation.pk)
            self.fields[f"respondents-{consultation.pk}"] = forms.IntegerField(
                label=f"How many respondents to “{consultation.title}” came from this group?",
                min_value=0,
                required=False,
                widget=forms.TextInput(attrs={"width": "4", "inputmode": "numeric"}),
                error_messages={
                    "invalid": _("Enter the number as a whole number, like 12"),
                    "min_value": _("Enter the number as a whole number, like 12"),
                },
            )

    def answers(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "member_ids": [int(pk) for pk in data.get("members", [])],
            "respondents": {
                pk: data[f"respondents-{pk}"]
                for pk in self.consultation_ids
                if data.get(f"respondents-{pk}") is not None
            },
        }


class CoverageRecordView(CycleFormView):
    """Record who on the panel speaks for a group, and how many respondents came from it."""

    template_name = "web/duty/coverage_record.html"
    form_class = CoverageRecordForm
    submit_label = "Save"
    success_url_name = "web:coverage"

    @cached_property
    def group(self) -> CoverageGroup:
        found = CoverageGroup.objects.filter(cycle=self.cycle, pk=self.kwargs["group_id"]).first()
        if found is None:
            raise Http404("No such group")
        return found

    def get_form_kwargs(self) -> dict[str, Any]:
        panel = (
            PanelMembership.objects.active()
            .filter(cycle=self.cycle)
            .select_related("member")
            .order_by("member__first_name", "member__last_name", "id")
        )
        consultations = Consultation.objects.filter(cycle=self.cycle).order_by("opens_on", "id")
        return {**super().get_form_kwargs(), "panel": panel, "consultations": consultations}

    def get_initial(self) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "members": [str(pk) for pk in self.group.members.values_list("member_id", flat=True)]
        }
        for consultation_id, count in self.group.responses.values_list(
            "consultation_id", "respondents"
        ):
            initial[f"respondents-{consultation_id}"] = count
        return initial

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(group=self.group, **kwargs)

    def perform(self, form: CoverageRecordForm) -> Any:
        return duty_services.coverage_record(
            actor=self.request.user,
            cycle_id=self.cycle.pk,
            group_id=self.group.pk,
            **form.answers(),
        )

    def confirmation(self, result: Any) -> str:
        return f"You recorded who speaks for “{result.name}”."

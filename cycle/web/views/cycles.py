"""Home, the list of cycles, a cycle's own page (stage timeline and gate checklist), starting a
cycle, and moving it on: advance through the gate, or reopen an earlier stage with a reason."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cycle import duty_selectors
from cycle import selectors as cycle_selectors
from cycle.gates import evaluate
from cycle.models import CommissioningCycle, Organisation
from cycle.stages import TEMPLATES, get_template
from processes import commissioning
from roles.models import PanelMembership
from roles.permissions import CREATE_PERM, Action, allowed, on_panel

from .. import selectors
from ..forms import PageForm
from ..templatetags.web import cycle_url
from . import representative
from .base import CycleMixin, Page, ServiceFormView


class HomeView(Page):
    """Each person's starting point: what is asked of them first, then their cycles."""

    template_name = "web/home/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        rows = selectors.cycle_rows(selectors.visible_cycles(user))
        asked = selectors.asks(user)
        panels = set(
            PanelMembership.objects.active()
            .filter(member_id=user.pk)
            .values_list("cycle_id", flat=True)
        )
        rows_on_panel = [row for row in rows if row.cycle.pk in panels]
        rows = [row for row in rows if row.cycle.pk not in panels]
        return super().get_context_data(
            asked=asked,
            coming=selectors.upcoming_meetings(panels) if panels else [],
            on_a_panel=bool(panels),
            panels=rows_on_panel,
            leading=[row for row in rows if row.cycle.lead_commissioner_id == user.pk],
            involving=[row for row in rows if row.cycle.involvement_lead_id == user.pk],
            other=[
                row
                for row in rows
                if user.pk not in (row.cycle.lead_commissioner_id, row.cycle.involvement_lead_id)
            ],
            can_create=user.has_perm(CREATE_PERM),
            **kwargs,
        )


def fix_links(cycle: CommissioningCycle) -> dict[str, str]:
    """Each gate code to the page of this cycle that fixes it."""
    links = {code: cycle_url(url_name, cycle) for code, url_name in selectors.fix_pages().items()}
    return {code: href for code, href in links.items() if href}


class AdvanceForm(PageForm):
    """No fields: the button says it all."""


class CycleView(CycleMixin, ServiceFormView):
    """A cycle's page: the stages so far, and the current gate as a checklist.

    Its one form is the lead commissioner's "move on": a closed gate comes back as the error
    summary, each unmet condition linked to the page that fixes it.
    """

    template_name = "web/cycles/cycle.html"
    form_class = AdvanceForm

    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        if on_panel(request.user, self.cycle):
            return representative.CycleView.as_view()(request, *args, **kwargs)
        return super().get(request, *args, **kwargs)

    def fix_links(self) -> dict[str, str]:
        return fix_links(self.cycle)

    def perform(self, form: Any) -> Any:
        return commissioning.advance(actor=self.request.user, cycle_id=self.cycle.pk)

    def confirmation(self, result: Any) -> str:
        template = get_template(self.cycle.template_key)
        left = template.get(self.cycle.current_stage).name
        if result is None:
            return f"You moved the cycle on from “{left}”. That was the last stage: it is complete."
        return f"You moved the cycle on from “{left}” to “{template.get(result.stage_key).name}”."

    def get_success_url(self) -> str:
        return reverse("web:cycle", args=[self.cycle.pk])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        cycle = self.cycle
        snapshot = cycle_selectors.gate_snapshots([cycle])[cycle.pk]
        result = evaluate(snapshot)
        template = get_template(cycle.template_key)
        user = self.request.user
        return super().get_context_data(
            stage=template.get(cycle.current_stage),
            stage_number=template.position(cycle.current_stage),
            stage_count=len(template.stages),
            timeline=selectors.timeline(cycle),
            coming=selectors.upcoming_meetings([cycle.pk]),
            gate=result,
            checklist=selectors.checklist(snapshot, result),
            completed=cycle.status == CommissioningCycle.Status.COMPLETED,
            is_lead=allowed(user, Action.LEAD, cycle),
            manages_panel=allowed(user, Action.MANAGE_PANEL, cycle),
            decides=allowed(user, Action.DECIDE, cycle),
            on_panel=on_panel(user, cycle),
            missing_groups=duty_selectors.missing_groups(cycle),
            **kwargs,
        )


class CycleCreateForm(PageForm):
    title = forms.CharField(
        label=_("Name of the cycle"),
        max_length=200,
        help_text=_("For example, “Day services re-commissioning 2026”."),
        error_messages={"required": _("Enter a name for the cycle")},
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.none(),
        empty_label=None,
        error_messages={"required": _("Choose the organisation")},
    )
    service_area = forms.CharField(
        label=_("Service area (optional)"), max_length=200, required=False
    )
    template_key = forms.ChoiceField(
        label=_("Stages"),
        choices=[(key, template.name) for key, template in TEMPLATES.items()],
        initial="default",
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the stages the cycle goes through")},
    )
    service_fields = {"invalid.title": "title", "invalid.template": "template_key"}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisation = self.fields["organisation"]
        assert isinstance(organisation, forms.ModelChoiceField)
        organisation.queryset = Organisation.objects.filter(staff=user).order_by("name")


class CycleCreateView(ServiceFormView):
    template_name = "web/cycles/create.html"
    form_class = CycleCreateForm
    submit_label = "Start the cycle"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, form: CycleCreateForm) -> CommissioningCycle:
        data = form.cleaned_data
        user = self.request.user
        return commissioning.start_cycle(
            actor=user,
            title=data["title"],
            organisation=data["organisation"],
            lead=user,
            template_key=data["template_key"],
            service_area=data["service_area"],
        )

    def confirmation(self, result: CommissioningCycle) -> str:
        stage = get_template(result.template_key).get(result.current_stage).name
        return f"You started “{result.title}”. It is at its first stage: “{stage}”."

    def get_success_url_for(self, result: CommissioningCycle) -> str:
        return reverse("web:cycle", args=[result.pk])


def not_found(request: Any, exception: Exception | None = None) -> HttpResponse:
    from django.template.response import TemplateResponse

    return TemplateResponse(request, "web/not_found.html", status=404).render()

"""Web pages of the commissioning flow.

The two task pages collect input and call the entry points of ``processes.commissioning`` (or, to
acknowledge role boundaries, the cycle service); every refusal is shown as a form error, one per
unmet condition, in plain English. They decide nothing themselves.

The list, detail and chart pages are viewflow's, narrowed to the cycles the user may see:
viewflow's own versions only check model-level permissions (viewflow issue #505) and would list
every cycle's process to anyone who may see one.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.generic import FormView
from viewflow.workflow.flow import views as flow_views
from viewflow.workflow.flow.viewset import FlowAppViewset

from cycle import selectors, services
from cycle.errors import GateClosed, ServiceError
from cycle.models import CommissioningCycle
from cycle.stages import get_template

from .forms import SignOffTaskForm, StageTaskForm


def _show_refusal(form: Any, error: ServiceError) -> None:
    """Put a refusal on the form: each unmet condition of a closed gate, or the one message."""
    if isinstance(error, GateClosed):
        for item in error.result.unmet:
            form.add_error(None, ValidationError(item.message, code=item.code))
    else:
        form.add_error(None, ValidationError(error.message, code=error.code))


class _TaskPage(FormView):  # type: ignore[type-arg]
    request: Any

    @cached_property
    def cycle(self) -> CommissioningCycle:
        return self.request.activation.process.cycle  # type: ignore[no-any-return]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        template = get_template(self.cycle.template_key)
        return super().get_context_data(
            cycle=self.cycle,
            stage=template.get(self.cycle.current_stage),
            gate=selectors.gate_state(self.cycle),
            **kwargs,
        )

    def process_detail_url(self) -> str:
        process = self.request.activation.process
        return str(
            self.request.resolver_match.flow_viewset.reverse("process_detail", args=[process.pk])
        )


class StageTaskView(_TaskPage):
    """The lead commissioner's stage task: advance, reopen, or ask the panel for sign-off."""

    form_class = StageTaskForm
    template_name = "processes/stage_task.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        template = get_template(self.cycle.template_key)
        earlier = template.stages[: template.position(self.cycle.current_stage) - 1]
        return {
            **super().get_form_kwargs(),
            "earlier_stages": [(stage.key, stage.name) for stage in earlier],
        }

    def form_valid(self, form: StageTaskForm) -> HttpResponse:
        action = form.cleaned_data["action"]
        actor, cycle_id = self.request.user, self.cycle.pk
        try:
            if action == StageTaskForm.ADVANCE:
                services.stage_advance(actor=actor, cycle_id=cycle_id)
            elif action == StageTaskForm.REOPEN:
                services.stage_reopen(
                    actor=actor,
                    cycle_id=cycle_id,
                    stage_key=form.cleaned_data["stage"],
                    reason=form.cleaned_data["reason"],
                )
            else:
                asked = services.signoff_request(actor=actor, cycle_id=cycle_id)
                messages.success(
                    self.request,
                    _("%(count)d panel member(s) asked for sign-off.") % {"count": len(asked)},
                )
                return HttpResponseRedirect(self.request.get_full_path())
        except ServiceError as error:
            _show_refusal(form, error)
            return self.form_invalid(form)
        self.cycle.refresh_from_db()
        messages.success(
            self.request,
            _("The cycle is now at stage: %(stage)s.")
            % {"stage": get_template(self.cycle.template_key).get(self.cycle.current_stage).name}
            if self.cycle.status == CommissioningCycle.Status.ACTIVE
            else _("The cycle is completed."),
        )
        return HttpResponseRedirect(self.process_detail_url())


class SignOffTaskView(_TaskPage):
    """A representative's sign-off task: attest that involvement happened as agreed, or dissent."""

    form_class = SignOffTaskForm
    template_name = "processes/signoff_task.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        boundaries = selectors.current_boundaries(self.cycle, self.cycle.current_stage)
        return super().get_context_data(
            boundaries=boundaries,
            acknowledged=boundaries is not None
            and boundaries.acknowledgements.filter(member=self.request.user).exists(),
            budget=selectors.current_budget(self.cycle),
            **kwargs,
        )

    def form_valid(self, form: SignOffTaskForm) -> HttpResponse:
        actor, cycle_id = self.request.user, self.cycle.pk
        dissent = (
            form.cleaned_data["reasons"]
            if form.cleaned_data["position"] == SignOffTaskForm.DISSENT
            else None
        )
        try:
            if form.cleaned_data["acknowledge"]:
                services.boundaries_acknowledge(actor=actor, cycle_id=cycle_id)
            services.signoff_record(actor=actor, cycle_id=cycle_id, dissent=dissent)
        except ServiceError as error:
            _show_refusal(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Your sign-off is on the record. Thank you."))
        return HttpResponseRedirect(self.process_detail_url())


# Viewflow's pages, narrowed to the cycles the user may see.


class _VisibleTasks:
    """Narrow the list's base queryset, before its filters build their choices from it."""

    request: Any

    @property
    def queryset(self) -> Any:
        return super().queryset.visible_to(self.request.user)  # type: ignore[misc]


class ProcessListView(flow_views.DashboardProcessListView):  # type: ignore[misc]
    @property
    def queryset(self) -> Any:
        return self.model._default_manager.visible_to(self.request.user).order_by("-created", "-pk")


class TaskListView(_VisibleTasks, flow_views.DashboardTaskListView):  # type: ignore[misc]
    pass


class InboxView(_VisibleTasks, flow_views.FlowInboxListView):  # type: ignore[misc]
    pass


class ProcessDetailView(flow_views.DetailProcessView):  # type: ignore[misc]
    """A process with its cycle's stage and gate; no "cancel": the process ends with its cycle."""

    template_name = "processes/process_detail.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # A process the user may not see is "not found", as one that does not exist.
        if not self.flow_class.instance.has_view_permission(request.user, obj=self.get_object()):
            raise Http404("No such process")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[no-any-return]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        cycle = self.object.cycle
        return super().get_context_data(  # type: ignore[no-any-return]
            cycle=cycle,
            stage=get_template(cycle.template_key).get(cycle.current_stage),
            gate=selectors.gate_state(cycle),
            **kwargs,
        )


class ChartView(flow_views.FlowChartView):  # type: ignore[misc]
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        process_pk = kwargs.get("process_pk")
        if process_pk is not None:
            process = self.flow_class.process_class._default_manager.filter(pk=process_pk).first()
            if process is None or not self.flow_class.instance.has_view_permission(
                request.user, process
            ):
                raise Http404("No such process")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[no-any-return]


class CommissioningViewset(FlowAppViewset):  # type: ignore[misc]
    """The flow's pages: dashboard, inbox, queue, archive, process and task lists, charts.

    No page can cancel a process or assign tasks in bulk: tasks are assigned when created, and a
    process ends only with its cycle.
    """

    process_list_view_class = ProcessListView
    process_detail_view_class = ProcessDetailView
    task_list_view_class = TaskListView
    inbox_view_class = InboxView
    chart_view_class = ChartView
    process_cancel_path = None
    tasks_assign_path = None
    tasks_unassign_path = None

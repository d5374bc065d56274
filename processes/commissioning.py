"""The commissioning process: the cycle as a BPMN-like flow, and the entry points callers use.

``CommissioningFlow`` runs once per cycle (see ``docs/flow.md``). Each time a stage opens, a
parallel split gives the lead commissioner a *stage* task ("record the evidence, then advance or
reopen") and every active panel member a *sign-off* task. The stage task ends only through
:func:`advance` or :func:`reopen`, which call ``cycle.services.stage_advance`` and
``stage_reopen``: the gate is enforced there, whatever the path. When the stage task ends, the
sign-off tasks nobody answered are closed, and the flow either opens the next stage or ends
because the cycle is completed.

Callers (the command line, the web pages, the admin, celery tasks) use the entry points below.
Each runs in one transaction with the cycle's row locked, the same lock the services and the
flow itself take (``processes.nodes.CycleRowLock``). A refused request (``GateClosed``,
``Forbidden`` and the other ``ServiceError``) changes nothing, leaves the task open, and keeps
the refusal the service wrote to the ledger. A cycle that has no process (one made directly
through ``cycle.services``) is moved by the plain service call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.status import STATUS
from viewflow.workflow.token import Token

from cycle import notifications, selectors, services
from cycle.errors import Conflict, ServiceError
from cycle.models import CommissioningCycle, SignOff, StageVisit
from cycle.service_support import lock_cycle
from roles.permissions import Action, require

from . import nodes, views
from .models import CommissioningProcess, CommissioningTask
from .stages import get_template

R = TypeVar("R")

OPEN_STATUSES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


class CommissioningFlow(flow.Flow):  # type: ignore[misc]
    """Commissioning cycle

    One run per cycle. When a stage opens, the lead commissioner gets a stage task (record the
    evidence, then advance through the involvement gate or reopen an earlier stage) and each
    active panel member a sign-off task (attest that involvement happened as agreed, or record
    dissent). Advancing is refused while the gate is closed. When the stage task ends, unanswered
    sign-off requests are closed, and the flow opens the next stage or ends with the cycle.
    """

    process_class = CommissioningProcess
    task_class = CommissioningTask
    lock_impl = nodes.CycleRowLock()
    process_summary_template = "{{ process.artifact }}"

    start = (
        nodes.StartHandle(this.start_process)
        .Annotation(title=_("Cycle created"))
        .Next(this.open_stage)
    )

    open_stage = (
        nodes.Split()
        .Annotation(title=_("Open the stage"))
        .Next(this.stage, task_data=this.stage_task_data)
        .Next(this.signoff, data_source=this.signoff_requests)
    )

    stage = (
        nodes.View(views.StageTaskView.as_view())
        .Annotation(
            title=_("Record the evidence, then advance or reopen"),
            description=_(
                "Record the role boundaries and the budget, ask the panel for sign-off, then "
                "advance through the involvement gate or reopen an earlier stage."
            ),
            summary_template=_("Stage: {{ task.data.stage_name }}"),
        )
        .Assign(this.lead_commissioner)
        .Next(this.close_signoffs)
    )

    signoff = (
        nodes.View(views.SignoffTaskView.as_view())
        .Annotation(
            title=_("Sign off the stage"),
            description=_(
                "Say whether you were involved on the agreed terms and told the budget as "
                "recorded. This is not approval of any decision."
            ),
            summary_template=_("Sign-off on: {{ task.data.stage_name }}"),
        )
        .Assign(this.panel_member)
        .Next(this.signoff_given)
    )

    signoff_given = nodes.End().Annotation(title=_("Sign-off given"))

    close_signoffs = (
        nodes.Function(this.close_unanswered_signoffs)
        .Annotation(title=_("Close unanswered sign-off requests"))
        .Next(this.last_stage_passed)
    )

    last_stage_passed = (
        nodes.If(this.cycle_completed)
        .Annotation(title=_("Cycle completed?"))
        .Then(this.end)
        .Else(this.open_stage)
    )

    end = nodes.End().Annotation(title=_("Cycle completed"))

    # Node callbacks. Each receives the activation of the node that calls it.

    def start_process(self, activation: Any, cycle: CommissioningCycle) -> CommissioningProcess:
        activation.process.artifact = cycle
        return activation.process  # type: ignore[no-any-return]

    def stage_task_data(self, activation: Any) -> dict[str, Any]:
        cycle = activation.process.cycle
        return _visit_data(cycle)

    def signoff_requests(self, activation: Any) -> list[dict[str, Any]]:
        cycle = activation.process.cycle
        visit = _visit_data(cycle)
        members = sorted(selectors.active_member_ids(cycle))
        notifications.signoff_requested(cycle=cycle, member_ids=members, visit_id=visit["visit_id"])
        return [{**visit, "member_id": member_id} for member_id in members]

    def lead_commissioner(self, activation: Any) -> Any:
        return activation.process.cycle.lead_commissioner

    def panel_member(self, activation: Any) -> Any:
        return get_user_model()._default_manager.get(pk=activation.task.data["member_id"])

    def close_unanswered_signoffs(self, activation: Any) -> None:
        for task in _open_tasks(activation.process, self.signoff):
            task.flow_task.activation_class(task).cancel()

    def cycle_completed(self, activation: Any) -> bool:
        return bool(activation.process.cycle.status == CommissioningCycle.Status.COMPLETED)

    # Visibility: viewflow's own checks stop at model permissions (viewflow issue #505).

    def has_view_permission(self, user: Any, obj: Any = None) -> bool:
        """Any signed-in user may open the flow's pages; a process only if its cycle is theirs.

        The lists are narrowed to visible cycles by the querysets of ``processes.models``. A
        guardian object permission on a process also lets a user see it.
        """
        if not user.is_authenticated:
            return False
        if obj is None:
            return True
        if CommissioningProcess.objects.visible_to(user).filter(pk=obj.pk).exists():
            return True
        opts = self.process_class._meta
        permission = f"{opts.app_label}.view_{opts.model_name}"
        return bool(user.has_perm(permission, obj))


def _visit_data(cycle: CommissioningCycle) -> dict[str, Any]:
    visit = selectors.open_visit(cycle)
    return {
        "stage": cycle.current_stage,
        "stage_name": get_template(cycle.template_key).get(cycle.current_stage).name,
        "visit_id": visit.pk if visit is not None else None,
    }


def _open_tasks(process: Any, node: Any) -> Any:
    return CommissioningTask.objects.filter(
        process=process, flow_task=node, status__in=OPEN_STATUSES
    ).order_by("pk")


def process_for(cycle_id: int) -> CommissioningProcess | None:
    """The cycle's running process, if it has one."""
    process: CommissioningProcess | None = (
        CommissioningProcess.objects.for_cycle(cycle_id)
        .filter(flow_class=CommissioningFlow)
        .running()
        .order_by("-pk")
        .first()
    )
    return process


def _attempt(call: Callable[[], R]) -> tuple[R | None, ServiceError | None]:
    """Run a service call, returning its result or the error that refused it.

    The service has already undone its own changes and, for a refusal, written the refusal to
    the ledger; the caller re-raises the error after its transaction commits, so that record
    is kept.
    """
    try:
        return call(), None
    except ServiceError as error:
        return None, error


def _raise_or_return(result: R | None, refusal: ServiceError | None) -> R:
    if refusal is not None:
        raise refusal
    return result  # type: ignore[return-value]


def start_cycle(*, actor: Any, **kwargs: Any) -> CommissioningCycle:
    """Create a cycle (``cycle.services.cycle_create``) and start its process."""
    with transaction.atomic():
        cycle, refusal = _attempt(lambda: services.cycle_create(actor=actor, **kwargs))
        if cycle is not None:
            CommissioningFlow.start.run(cycle=cycle)
    return _raise_or_return(cycle, refusal)


def _finish_stage_task(
    *,
    actor: Any,
    cycle_id: int,
    call: Callable[[], R],
    outcome: Callable[[R], dict[str, Any]],
    restart_finished: bool = False,
) -> R:
    """Run ``call`` (a stage service) as the completion of the cycle's open stage task."""
    with transaction.atomic():
        lock_cycle(cycle_id)
        process = process_for(cycle_id)
        task = _open_tasks(process, CommissioningFlow.stage).first() if process else None
        if process is not None and task is None:
            raise Conflict(
                "The cycle's process has no open stage task, so the stage cannot be moved. "
                "Ask an administrator to check the process.",
                code="process.no_stage_task",
            )
        if task is None:
            result, refusal = _attempt(call)
            if (
                refusal is None
                and restart_finished
                and CommissioningProcess.objects.for_cycle(cycle_id).exists()
            ):
                # A completed cycle was reopened: its process had ended, so a new run follows
                # the cycle from the reopened stage.
                CommissioningFlow.start.run(cycle=CommissioningCycle.objects.get(pk=cycle_id))
        else:
            with task.activation() as activation:
                activation.start(None)
                result, refusal = _attempt(call)
                if refusal is None:
                    task.owner = actor
                    task.data = {**task.data, **outcome(result)}  # type: ignore[arg-type]
                    activation.execute()
    # Raised only now, after the commit, so that the refusal the service recorded is kept.
    return _raise_or_return(result, refusal)


def advance(*, actor: Any, cycle_id: int) -> StageVisit | None:
    """Leave the current stage through its gate; completes the lead's stage task.

    Raises ``GateClosed`` with every unmet condition while the gate is closed; the stage task
    then stays open and nothing changes.
    """

    def outcome(visit: StageVisit | None) -> dict[str, Any]:
        return {"outcome": "advanced", "to": visit.stage_key if visit is not None else None}

    return _finish_stage_task(
        actor=actor,
        cycle_id=cycle_id,
        call=lambda: services.stage_advance(actor=actor, cycle_id=cycle_id),
        outcome=outcome,
    )


def reopen(*, actor: Any, cycle_id: int, stage_key: str, reason: str) -> StageVisit:
    """Go back to an earlier stage; the flow loops back and opens it with fresh tasks."""

    def outcome(visit: StageVisit) -> dict[str, Any]:
        return {"outcome": "reopened", "to": visit.stage_key, "reason": visit.opened_reason}

    return _finish_stage_task(
        actor=actor,
        cycle_id=cycle_id,
        call=lambda: services.stage_reopen(
            actor=actor, cycle_id=cycle_id, stage_key=stage_key, reason=reason
        ),
        outcome=outcome,
        restart_finished=True,
    )


def signoff(*, actor: Any, cycle_id: int, dissent: str | None = None) -> SignOff:
    """Record a representative's sign-off or dissent; completes their sign-off task if open.

    Without an open task (a re-attestation after the budget changed, say) it is the plain
    service call.
    """
    call = lambda: services.signoff_record(  # noqa: E731
        actor=actor, cycle_id=cycle_id, dissent=dissent
    )
    with transaction.atomic():
        lock_cycle(cycle_id)
        process = process_for(cycle_id)
        task = (
            _open_tasks(process, CommissioningFlow.signoff).filter(owner=actor).first()
            if process is not None
            else None
        )
        if task is None:
            result, refusal = _attempt(call)
        else:
            with task.activation() as activation:
                activation.start(None)
                result, refusal = _attempt(call)
                if result is not None:
                    task.data = {**task.data, "signoff_id": result.pk, "kind": result.kind}
                    activation.execute()
    return _raise_or_return(result, refusal)


def request_signoff(*, actor: Any, cycle_id: int) -> list[CommissioningTask]:
    """Bring the open stage's sign-off tasks in line with the panel as it is now.

    Members who joined since the stage opened (for the first stage: everyone, since the panel
    is formed after the cycle is created) get a sign-off task; tasks of members who have left
    are closed. Only the lead commissioner may ask. Returns the new tasks.
    """
    with transaction.atomic():
        cycle = lock_cycle(cycle_id)
        require(actor, Action.LEAD, cycle)
        process = process_for(cycle_id)
        stage_task = (
            _open_tasks(process, CommissioningFlow.stage).first() if process is not None else None
        )
        if process is None or stage_task is None:
            raise Conflict(
                "This cycle has no running process with an open stage, so there is nobody to "
                "ask for sign-off through it.",
                code="process.not_running",
            )
        members = selectors.active_member_ids(cycle)
        asked: set[int] = set()
        with stage_task.activation():
            for task in _open_tasks(process, CommissioningFlow.signoff):
                if task.data.get("member_id") in members:
                    asked.add(task.data["member_id"])
                else:
                    task.flow_task.activation_class(task).cancel()
            split_task = stage_task.previous.get()
            split = split_task.flow_task.activation_class(split_task)
            taken = split_task.leading.count()
            root = str(split_task.token).split("/", 1)[0]
            visit = _visit_data(cycle)
            created = []
            for number, member_id in enumerate(sorted(members - asked), start=taken + 1):
                activation = CommissioningFlow.signoff._create(
                    prev_activation=split,
                    token=Token(f"{root}/{split_task.pk}_{number}"),
                    data={**visit, "member_id": member_id},
                )
                created.append(activation.task)
        notifications.signoff_requested(
            cycle=cycle, member_ids=sorted(members - asked), visit_id=visit["visit_id"]
        )
    return created

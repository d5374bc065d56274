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

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.status import PROCESS, STATUS

from cycle import i18n, notifications, selectors, services
from cycle.errors import Conflict, ServiceError
from cycle.models import CommissioningCycle, SignOff, StageVisit
from cycle.stages import get_template

from . import nodes, views
from .models import (
    CommissioningProcess,
    CommissioningTask,
    PreparedInstances,
    cycle_in_hand,
    held_cycle,
)

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
        nodes.View(views.SignOffTaskView.as_view())
        .Annotation(
            title=_("Sign off the stage"),
            description=_(
                "Say whether you were involved on the agreed terms and told the budget as "
                "recorded. This is not approval of any decision."
            ),
            summary_template=_("Sign-off on: {{ task.data.stage_name }}"),
        )
        .AssignId(this.panel_member_id)
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
        return _visit_data(activation.process)

    def signoff_requests(self, activation: Any) -> list[dict[str, Any]]:
        cycle = activation.process.cycle
        visit = _visit_data(activation.process)
        hand = held_cycle(activation.process.pk)
        if hand is not None and hand.members is not None:
            members = sorted(hand.members)
        else:
            members = sorted(selectors.active_member_ids(cycle))
        notifications.signoff_requested(
            cycle=cycle,
            member_ids=members,
            visit_id=visit["visit_id"],
            visit_just_opened=hand is not None and hand.visit_just_opened,
        )
        return [{**visit, "member_id": member_id} for member_id in members]

    def lead_commissioner(self, activation: Any) -> Any:
        cycle = activation.process.cycle
        hand = held_cycle(activation.process.pk)
        if hand is not None and cycle.lead_commissioner_id in hand.users:
            return hand.users[cycle.lead_commissioner_id]
        return cycle.lead_commissioner

    def panel_member_id(self, activation: Any) -> int:
        return int(activation.task.data["member_id"])

    def close_unanswered_signoffs(self, activation: Any) -> None:
        nodes.cancel_waiting_of(activation.process, self.signoff)

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


def _visit_data(process: CommissioningProcess) -> dict[str, Any]:
    hand = held_cycle(process.pk)
    if hand is not None and hand.visit is not None:
        return hand.visit
    cycle = process.cycle
    data = _visit_payload(cycle, selectors.open_visit(cycle))
    if hand is not None:
        hand.visit = data
    return data


def _visit_payload(cycle: CommissioningCycle, visit: StageVisit | None) -> dict[str, Any]:
    """What the tasks of a stage visit carry in ``task.data``."""
    return {
        "stage": cycle.current_stage,
        "stage_name": get_template(cycle.template_key).get(cycle.current_stage).name,
        "visit_id": visit.pk if visit is not None else None,
    }


def _open_tasks(process: Any, node: Any) -> Any:
    return CommissioningTask.objects.filter(
        process=process, flow_task=node, status__in=OPEN_STATUSES
    ).order_by("pk")


def _open_tasks_of_running_processes(
    cycle_id: int, content_type_id: int, node: Any, **filters: Any
) -> Any:
    return (
        CommissioningTask.objects.filter(
            process__artifact_content_type_id=content_type_id,
            process__artifact_object_id=cycle_id,
            process__flow_class=CommissioningFlow,
            process__status=PROCESS.NEW,
            flow_task=node,
            status__in=OPEN_STATUSES,
            **filters,
        )
        .select_related("process")
        .order_by("-process_id", "pk")[:1]
    )


_OPEN_STAGE_TASK = PreparedInstances(
    lambda cycle_id, content_type_id: _open_tasks_of_running_processes(
        cycle_id, content_type_id, CommissioningFlow.stage
    ),
    cycle_id=int,
    content_type_id=int,
)
_OPEN_SIGNOFF_TASK_OF = PreparedInstances(
    lambda cycle_id, content_type_id, owner_id: _open_tasks_of_running_processes(
        cycle_id, content_type_id, CommissioningFlow.signoff, owner_id=owner_id
    ),
    cycle_id=int,
    content_type_id=int,
    owner_id=int,
)


def _open_stage_task(cycle_id: int) -> Any:
    """The open stage task of the cycle's running process, read with its process in one query
    (the process a service moves, and the task it ends)."""
    content_type = ContentType.objects.get_for_model(CommissioningCycle)
    tasks = _OPEN_STAGE_TASK.instances(cycle_id=cycle_id, content_type_id=content_type.pk)
    return tasks[0] if tasks else None


def _open_signoff_task(cycle_id: int, owner: Any) -> Any:
    """``owner``'s open sign-off task in the cycle's running process, with its process."""
    content_type = ContentType.objects.get_for_model(CommissioningCycle)
    tasks = _OPEN_SIGNOFF_TASK_OF.instances(
        cycle_id=cycle_id, content_type_id=content_type.pk, owner_id=owner.pk
    )
    return tasks[0] if tasks else None


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
    """Run a service call, returning its result or the error that refused it."""
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
        cycle, refusal = _attempt(
            lambda: services.cycle_create(actor=actor, followed_by_process=True, **kwargs)
        )
        if cycle is not None:
            CommissioningFlow.start.run(cycle=cycle)
    return _raise_or_return(cycle, refusal)


class FlowWorkflow:
    """The commissioning flow, told by the services of every change it follows
    (``cycle.workflow``). Each method runs inside the service's transaction, the cycle's row
    locked."""

    def stage_moved(
        self,
        *,
        actor: Any,
        cycle: CommissioningCycle,
        outcome: dict[str, Any],
        visit: StageVisit | None = None,
        members: frozenset[int] | None = None,
    ) -> None:
        """End the open stage task: the flow closes the unanswered sign-off requests, then opens
        the next stage (the service has already opened its visit) or ends with the cycle."""
        task = _open_stage_task(cycle.pk)
        if task is None:
            if process_for(cycle.pk) is not None:
                raise Conflict(
                    i18n.gettext_lazy(
                        "The cycle's process has no open stage task, so the stage cannot be "
                        "moved. Ask an administrator to check the process.",
                    ),
                    code="process.no_stage_task",
                )
            if outcome.get("outcome") == "reopened":
                # A completed cycle was reopened: its process had ended, so a new run follows
                # the cycle from the reopened stage.
                CommissioningFlow.start.run(cycle=CommissioningCycle.objects.get(pk=cycle.pk))
            return
        opened = _visit_payload(cycle, visit) if visit is not None else None
        with cycle_in_hand(cycle, task.process_id, actor=actor, visit=opened, members=members):
            activation = nodes.activation_of(task)
            activation.start(None)
            task.owner = actor
            task.data = {**task.data, **outcome}
            activation.execute()

    def panel_changed(
        self, *, cycle: CommissioningCycle, ask: Iterable[int] | None = None, required: bool = False
    ) -> list[int]:
        """Bring the open stage's sign-off tasks in line with the panel as it is now: members
        without one get theirs, tasks of members who have left are closed. Returns the members
        newly asked."""
        process = process_for(cycle.pk)
        stage_task = (
            _open_tasks(process, CommissioningFlow.stage).first() if process is not None else None
        )
        if process is None or stage_task is None:
            if required:
                raise Conflict(
                    i18n.gettext_lazy(
                        "This cycle has no running process with an open stage, so there is "
                        "nobody to ask for sign-off through it.",
                    ),
                    code="process.not_running",
                )
            return []
        members = selectors.active_member_ids(cycle)
        asked: set[int] = set()
        with cycle_in_hand(cycle, process.pk), stage_task.activation():
            leavers = []
            for task in _open_tasks(process, CommissioningFlow.signoff):
                if task.data.get("member_id") in members:
                    asked.add(task.data["member_id"])
                else:
                    leavers.append(task.pk)
            if leavers:
                nodes.cancel_waiting(CommissioningTask.objects.filter(pk__in=leavers))
            split_task = stage_task.previous.get()
            taken = split_task.leading.count()
            visit = _visit_data(process)
            wanted = members - asked if ask is None else (members & set(ask)) - asked
            for number, member_id in enumerate(sorted(wanted), start=taken + 1):
                nodes.add_branch_task(
                    CommissioningFlow.signoff,
                    split_task=split_task,
                    number=number,
                    data={**visit, "member_id": member_id},
                )
        return sorted(wanted)

    def signoff_recorded(self, *, actor: Any, cycle: CommissioningCycle, signoff: SignOff) -> None:
        """Complete the member's open sign-off task, if they have one (a re-attestation after
        the budget changed has none)."""
        task = _open_signoff_task(cycle.pk, actor)
        if task is None:
            return
        with cycle_in_hand(cycle, task.process_id, actor=actor):
            activation = nodes.activation_of(task)
            activation.start(None)
            task.data = {**task.data, "signoff_id": signoff.pk, "kind": signoff.kind}
            activation.execute()


FLOW_WORKFLOW = FlowWorkflow()


# The entry points faces used before the services told the flow themselves; each is now the
# plain service call, kept so that callers read as the flow's vocabulary.


def advance(*, actor: Any, cycle_id: int) -> StageVisit | None:
    """Leave the current stage through its gate (``cycle.services.stage_advance``)."""
    return services.stage_advance(actor=actor, cycle_id=cycle_id)


def reopen(*, actor: Any, cycle_id: int, stage_key: str, reason: str) -> StageVisit:
    """Go back to an earlier stage (``cycle.services.stage_reopen``)."""
    return services.stage_reopen(actor=actor, cycle_id=cycle_id, stage_key=stage_key, reason=reason)


def signoff(*, actor: Any, cycle_id: int, dissent: str | None = None) -> SignOff:
    """Record a representative's sign-off or dissent (``cycle.services.signoff_record``)."""
    return services.signoff_record(actor=actor, cycle_id=cycle_id, dissent=dissent)


def request_signoff(*, actor: Any, cycle_id: int) -> list[CommissioningTask]:
    """Ask the panel for sign-off (``cycle.services.signoff_request``); returns the new tasks."""
    before = set(
        CommissioningTask.objects.filter(process__in=_processes(cycle_id)).values_list(
            "pk", flat=True
        )
    )
    services.signoff_request(actor=actor, cycle_id=cycle_id)
    return list(
        CommissioningTask.objects.filter(
            process__in=_processes(cycle_id), flow_task=CommissioningFlow.signoff
        )
        .exclude(pk__in=before)
        .order_by("pk")
    )


def _processes(cycle_id: int) -> Any:
    return CommissioningProcess.objects.for_cycle(cycle_id)

"""How viewflow stores the commissioning process: one run of the flow per cycle.

``CommissioningProcess`` and ``CommissioningTask`` are proxies of viewflow's own tables. A process
points at its cycle through viewflow's ``artifact`` reference; a cycle that is reopened after it was
completed gets a new run, so the cycle's process is always its latest run. Both querysets can narrow
themselves to the cycles a user may see (``cycle.selectors.cycles_visible_to``), which viewflow's
own list views do not do: they only check model-level permissions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Self, cast

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.managers import ProcessQuerySet, TaskQuerySet
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS

from cycle.models import CommissioningCycle
from cycle.selectors import cycles_visible_to


def _cycle_content_type() -> ContentType:
    return ContentType.objects.get_for_model(CommissioningCycle)


class CommissioningProcessQuerySet(ProcessQuerySet):  # type: ignore[misc]
    def for_cycle(self, cycle_id: int) -> Self:
        return cast(
            Self,
            self.filter(artifact_content_type=_cycle_content_type(), artifact_object_id=cycle_id),
        )

    def running(self) -> Self:
        return cast(Self, self.filter(status=PROCESS.NEW))

    def visible_to(self, user: Any) -> Self:
        """Runs of the cycles ``user`` may see, and none other."""
        return cast(
            Self,
            self.filter(
                artifact_content_type=_cycle_content_type(),
                artifact_object_id__in=cycles_visible_to(user).values("pk"),
            ),
        )

    def filter_available(self, flow_classes: Any, user: Any) -> Self:
        return cast(Self, super().filter_available(flow_classes, user).visible_to(user))


class CommissioningProcess(Process):  # type: ignore[misc]
    """A run of the commissioning flow for one cycle."""

    objects = CommissioningProcessQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = _("commissioning process")
        verbose_name_plural = _("commissioning processes")
        # viewflow adds "manage" when the flow class is defined; declared here so that the
        # migration state does not depend on whether the flow module has been imported.
        default_permissions = ("add", "change", "delete", "view", "manage")

    @property
    def cycle(self) -> CommissioningCycle:
        """The cycle: the one a service holds locked while it moves this process
        (:func:`cycle_in_hand`), or else read afresh from the database."""
        hand = _in_hand.get()
        if hand is not None and hand.cycle.pk == self.artifact_object_id:
            return hand.cycle
        return CommissioningCycle.objects.get(pk=self.artifact_object_id)


@dataclass
class CycleInHand:
    """A cycle a service has locked and changed, and what the flow reads of it while the service
    moves the cycle's process, so that the flow does not read them again: the open visit (as the
    tasks' data), the active panel, and the users the flow assigns tasks to (the actor first).
    The tasks of the flow's function and gateway nodes, done as soon as made, wait here until a
    task needs their ids (:meth:`write_tasks`, one insert), and the links between the tasks the
    flow creates until the service's move ends (:meth:`link`, one insert)."""

    cycle: CommissioningCycle
    process_pk: int
    visit: dict[str, Any] | None = None
    visit_just_opened: bool = False
    """Whether ``visit`` is the one the service opened in this transaction."""
    members: frozenset[int] | None = None
    users: dict[int, Any] = field(default_factory=dict)
    unwritten: list[Any] = field(default_factory=list)
    links: list[tuple[Any, Any]] = field(default_factory=list)

    def keep(self, task: Any) -> None:
        """Write ``task`` later, with the others kept, when one of them is needed."""
        self.unwritten.append(task)

    def write_tasks(self) -> None:
        if self.unwritten:
            for task in self.unwritten:
                task.flow_task_type = task.flow_task.task_type
            CommissioningTask._default_manager.bulk_create(self.unwritten)
            self.unwritten = []

    def link(self, task: Any, previous: Any) -> None:
        """Record that ``previous`` led to ``task`` (``task.previous``), written at the end."""
        self.links.append((task, previous))

    def write_links(self) -> None:
        self.write_tasks()
        link = CommissioningTask.previous.through
        if self.links:
            link._default_manager.bulk_create(
                [
                    link(from_task_id=task.pk, to_task_id=previous.pk)
                    for task, previous in self.links
                ]
            )
            self.links = []


_in_hand: ContextVar[CycleInHand | None] = ContextVar("cycle_in_hand", default=None)


@contextmanager
def cycle_in_hand(
    cycle: CommissioningCycle,
    process_pk: int,
    *,
    actor: Any = None,
    visit: dict[str, Any] | None = None,
    members: frozenset[int] | None = None,
) -> Iterator[CycleInHand]:
    """While the service that locked ``cycle`` moves its process ``process_pk``, the flow takes
    the cycle as the service holds it: locked already, and current. What the service has read
    or written already (its ``actor``, the ``visit`` it opened, the active ``members``) is handed
    on too."""
    hand = CycleInHand(
        cycle=cycle,
        process_pk=process_pk,
        visit=visit,
        visit_just_opened=visit is not None,
        members=members,
    )
    if actor is not None and actor.pk is not None:
        hand.users[actor.pk] = actor
    token = _in_hand.set(hand)
    try:
        yield hand
        hand.write_links()
    finally:
        _in_hand.reset(token)


def held_cycle(process_pk: int) -> CycleInHand | None:
    """The cycle in hand, if it belongs to the process ``process_pk``."""
    hand = _in_hand.get()
    return hand if hand is not None and hand.process_pk == process_pk else None


class CommissioningTaskQuerySet(TaskQuerySet):  # type: ignore[misc]
    def visible_to(self, user: Any) -> Self:
        """Tasks of the cycles ``user`` may see, and none other."""
        return cast(
            Self,
            self.filter(
                process__artifact_content_type=_cycle_content_type(),
                process__artifact_object_id__in=cycles_visible_to(user).values("pk"),
            ),
        )

    def filter_available(self, flow_classes: Any, user: Any) -> Self:
        return cast(Self, super().filter_available(flow_classes, user).visible_to(user))

    def user_queue(self, user: Any, flow_class: Any = None) -> Self:
        return cast(Self, super().user_queue(user, flow_class=flow_class).visible_to(user))

    def user_archive(self, user: Any, flow_class: Any = None) -> Self:
        return cast(Self, super().user_archive(user, flow_class=flow_class).visible_to(user))


class CommissioningTask(Task):  # type: ignore[misc]
    """A task of the commissioning flow: a stage task for the lead, or a member's sign-off."""

    objects = CommissioningTaskQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = _("commissioning task")
        verbose_name_plural = _("commissioning tasks")

"""Building blocks for the commissioning flows: nodes, a per-item split and the flow lock.

The cycle's own records (stage visits, gate evidence, the ledger) are the truth; a flow follows
them. So the nodes here offer no hand-operated undo, revive, cancel, assign or unassign views:
nobody can rewind, reassign or re-run a step of the process from the web pages. The only way a
stage task ends is through ``processes.commissioning``, which calls the cycle services.

``Split`` supports ``.Next(node, data_source=callable)``: viewflow 2.4's split accepts the
argument in its documentation but ignores it. Here a data source returns a list of dicts and the
split creates one task of ``node`` per dict, with ``task.data`` set to it.

This is also the one module that touches viewflow's private API, so an upgrade that changes it
fails here first, in ``tests/processes/test_viewflow_contract.py`` (one test per use):

- ``Node._create(prev_activation=, token=, data=)``, to create a task of a node from an activation
  (:func:`add_branch_task` and :meth:`PerItemSplitActivation.create_next`);
- the token format ``root/splitpk_n`` of split branches (:func:`branch_token`);
- ``Split._activate_next``, the list of ``(node, case, data_source)`` branches, and the hooks
  ``_resolve`` and ``_ready`` that :class:`Split` extends;
- ``Node._multi_instance``, which draws the multi-instance marker;
- ``Activation.create(flow_task, prev_activation, token, data=, seed=)`` and the bodies of
  ``FunctionActivation.activate`` and ``IfActivation.activate``, which the activations of
  :class:`Function`, :class:`If` and :class:`Split` write without the early insert and the
  savepoint (:class:`_WrittenWhenDone`), and ``context.propagate_exception``;
- what ``ViewActivation.cancel`` does to a task, which :func:`cancel_waiting` does to many at
  once, and what ``Task.activation()`` does, which :func:`activation_of` does without reading the
  task again;
- what ``ViewActivation.complete`` does (``Activation.complete``: finished now, saved, the
  ``task_finished`` signal), which :class:`FinishedWithTheMoveViewActivation` does with its
  save put off to the next update of tasks.

The rows themselves are written by ``processes.models`` (``insert_tasks``, ``insert_links``,
``finish_tasks``) as the ORM writes them, with the SQL built once per database.

``CycleRowLock`` makes the flow lock the cycle's row, the same lock every cycle service takes,
so the web pages, the command line and the services queue in one line and never deadlock on each
other (the process row and the cycle row are never locked in opposite orders).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.context import context
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.end import EndActivation
from viewflow.workflow.nodes.func import FunctionActivation
from viewflow.workflow.nodes.if_gate import IfActivation
from viewflow.workflow.nodes.split import SplitActivation
from viewflow.workflow.nodes.view import ViewActivation
from viewflow.workflow.signals import task_finished, task_started
from viewflow.workflow.status import STATUS
from viewflow.workflow.token import Token

from cycle.models import CommissioningCycle

from .models import held_cycle, insert_links, insert_tasks

DataSource = Callable[[Activation], list[dict[str, Any]]]


class CycleRowLock:
    """Lock the row of the cycle a process belongs to, in a transaction."""

    @contextmanager
    def __call__(self, flow_class: Any, process_pk: int) -> Iterator[None]:
        if held_cycle(process_pk) is not None:
            # The service moving this process holds its cycle's row already, in its own
            # transaction: whatever fails here rolls that back.
            yield
            return
        with transaction.atomic():
            cycle_ids = flow_class.process_class._default_manager.filter(pk=process_pk).values(
                "artifact_object_id"
            )
            list(CommissioningCycle.objects.select_for_update().filter(pk__in=cycle_ids))
            yield


class _NoManualChanges:
    """No web page may undo, revive, cancel, assign or unassign this node's tasks."""

    undo_view_class = None
    revive_view_class = None
    cancel_view_class = None
    assign_view_class = None
    unassign_view_class = None


class StartHandle(_NoManualChanges, flow.StartHandle):  # type: ignore[misc]
    pass


class FinishedWithTheMoveViewActivation(ViewActivation):  # type: ignore[misc]
    """A human task's activation whose task, when a service that holds the cycle completes it,
    is written done with the next update of tasks (``CycleInHand.finish``): in the statement
    that cancels the sign-off tasks nobody answered, or on its own before the next task is
    written. Its row ends as viewflow's ``Activation.complete`` (``task.save()``) leaves it: only
    the columns completing a human task changes are written, the others are as it was read."""

    @ViewActivation.status.super()  # type: ignore[untyped-decorator]
    def complete(self) -> None:
        hand = held_cycle(self.process.pk)
        if hand is None:
            super().complete.original()
            return
        self.task.finished = timezone.now()
        if self.task.flow_task and not self.task.flow_task_type:
            self.task.flow_task_type = self.task.flow_task.task_type
        hand.finish(self.task)
        task_finished.send(sender=self.flow_class, process=self.process, task=self.task)


class View(_NoManualChanges, flow.View):  # type: ignore[misc]
    """A human task. ``.AssignId(owner_id)`` assigns each task on creation, as ``.Assign`` does,
    to the user whose id ``owner_id(activation)`` gives: the tasks a split writes together take
    the id without reading the user."""

    activation_class = FinishedWithTheMoveViewActivation

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._owner_id: Any = None

    def AssignId(self, owner_id: Any) -> View:
        self._owner_id = owner_id
        return self

    def _resolve(self, instance: Any) -> None:
        super()._resolve(instance)
        if self._owner_id is not None:
            self._owner_id = this.resolve(instance, self._owner_id)

    def calc_owner_id(self, activation: Activation) -> Any:
        return self._owner_id(activation) if self._owner_id is not None else None

    def calc_owner(self, activation: Activation) -> Any:
        if self._owner_id is None:
            return super().calc_owner(activation)
        owner_id = self.calc_owner_id(activation)
        if owner_id is None:
            return None
        return get_user_model()._default_manager.get(pk=owner_id)


class _WrittenWhenDone:
    """The activation of a node that runs at once (a function, a gateway): its task is written
    once, done, when the node completes (an insert, then its link to the task before), rather
    than inserted new on creation and updated when done a moment later; and its callback runs
    in the caller's transaction, without a savepoint of its own. While a service holds the cycle
    and moves its process, the task is kept until a task needs its id, and written then with
    the others kept (one insert for the function, the gateway and the split of an advance).

    Only while errors propagate (``context.propagate_exception``, viewflow's default, and how
    this project runs every flow): a failure then rolls the whole transaction back, so neither
    the early insert nor the savepoint has anything left to keep. When a caller asks viewflow to
    keep the error on the task instead, the node runs as viewflow runs it.
    """

    task: Any
    process: Any
    flow_class: Any
    flow_task: Any
    _previous: Any = None

    @classmethod
    def create(
        cls,
        flow_task: Any,
        prev_activation: Activation,
        token: Any,
        data: Any = None,
        seed: Any = None,
    ) -> Activation:
        if not context.propagate_exception:
            return super().create(  # type: ignore[misc]
                flow_task, prev_activation, token, data=data, seed=seed
            )
        task = flow_task.flow_class.task_class(
            process=prev_activation.process, flow_task=flow_task, token=token
        )
        task.data = data if data is not None else {}
        task.seed = seed
        activation = cls(task)  # type: ignore[call-arg]
        activation._previous = prev_activation.task
        return activation

    # viewflow keeps activations in sets and hashes them by their task, which cannot be hashed
    # before it is written: these hash as themselves (one activation per task in a run).
    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def _kept(self) -> bool:
        """Done, and kept to be written with the next (:meth:`CycleInHand.keep`) if the service
        holds the cycle and every node this one can lead to writes what is kept first."""
        hand = held_cycle(self.process.pk)
        if hand is None or self._previous is None or not self._followers_write_kept():
            return False
        self.task.finished = timezone.now()
        hand.keep(self.task)
        hand.link(self.task, self._previous)
        self._previous = None
        task_finished.send(sender=self.flow_class, process=self.process, task=self.task)
        return True

    def _followers_write_kept(self) -> bool:
        return all(
            issubclass(edge.dst.activation_class, (_WrittenWhenDone, EndActivation))
            for edge in self.flow_task._outgoing()
        )

    def _link_previous(self) -> None:
        """After the task is written: link it to the task that created it (at the end of the
        service's move, when the service holds the cycle)."""
        if self._previous is not None:
            hand = held_cycle(self.task.process_id)
            if hand is not None:
                hand.link(self.task, self._previous)
            else:
                self.task.previous.add(self._previous)
            self._previous = None


class WrittenWhenDoneFunctionActivation(_WrittenWhenDone, FunctionActivation):  # type: ignore[misc]
    @FunctionActivation.status.super()  # type: ignore[untyped-decorator]
    def activate(self) -> None:
        if not context.propagate_exception:
            super().activate.original()
            return
        self.task.started = timezone.now()
        task_started.send(sender=self.flow_class, process=self.process, task=self.task)
        self.flow_task._func(self)

    @FunctionActivation.status.super()  # type: ignore[untyped-decorator]
    def complete(self) -> None:
        if not self._kept():
            super().complete.original()
            self._link_previous()


class WrittenWhenDoneIfActivation(_WrittenWhenDone, IfActivation):  # type: ignore[misc]
    @IfActivation.status.super()  # type: ignore[untyped-decorator]
    def activate(self) -> None:
        if not context.propagate_exception:
            super().activate.original()
            return
        self._condition_result = self.flow_task._condition(self)

    @IfActivation.status.super()  # type: ignore[untyped-decorator]
    def complete(self) -> None:
        if not self._kept():
            super().complete.original()
            self._link_previous()


class Function(_NoManualChanges, flow.Function):  # type: ignore[misc]
    activation_class = WrittenWhenDoneFunctionActivation


class If(_NoManualChanges, flow.If):  # type: ignore[misc]
    activation_class = WrittenWhenDoneIfActivation


class WritingKeptEndActivation(EndActivation):  # type: ignore[misc]
    """An end that first writes the tasks kept to be written (it links to the one before)."""

    @classmethod
    def create(
        cls,
        flow_task: Any,
        prev_activation: Activation,
        token: Any,
        data: Any = None,
        seed: Any = None,
    ) -> Activation:
        hand = held_cycle(prev_activation.process.pk)
        if hand is not None:
            hand.write_tasks()
        return super().create(flow_task, prev_activation, token, data=data, seed=seed)


class End(_NoManualChanges, flow.End):  # type: ignore[misc]
    activation_class = WritingKeptEndActivation


class PerItemSplitActivation(_WrittenWhenDone, SplitActivation):  # type: ignore[misc]
    """Create the split's tasks: one per branch, or one per item of a branch's data source.
    Human tasks are written together (:meth:`_create_many`), the split's own task once, done."""

    @SplitActivation.status.super()  # type: ignore[untyped-decorator]
    def complete(self) -> None:
        if not self._kept():
            super().complete.original()
            self._link_previous()

    def _followers_write_kept(self) -> bool:
        return True  # create_next writes what is kept before it creates a task

    @Activation.status.super()  # type: ignore[untyped-decorator]
    def activate(self) -> None:
        for (node, case, data_source), task_data in zip(
            self.flow_task._activate_next, self.flow_task._task_data, strict=True
        ):
            if case and not case(self):
                continue
            if data_source is None:
                self.next_tasks.append((node, task_data(self) if task_data else None))
            else:
                self.next_tasks.extend((node, item) for item in data_source(self))
        if not self.next_tasks:
            raise FlowRuntimeError(f"No next task available for {self.flow_task.name}")

    @Activation.status.super()  # type: ignore[untyped-decorator]
    def create_next(self) -> Iterator[Activation]:
        # Tokens are rooted at the start token rather than nested under the previous split:
        # a flow that loops through this split once per stage visit would otherwise grow its
        # tokens without bound. Nothing joins these branches, so nesting carries no meaning.
        hand = held_cycle(self.process.pk)
        if hand is not None:  # the branches' tokens and links need this split's id
            hand.write_tasks()
        together = self._together()
        numbered = list(enumerate(self.next_tasks, start=1))
        for number, (node, data) in numbered:
            if node not in together:
                yield node._create(
                    prev_activation=self, token=branch_token(self.task, number), data=data
                )
        yield from self._create_many(
            [(number, node, data) for number, (node, data) in numbered if node in together]
        )

    def _together(self) -> set[Any]:
        """The branches whose tasks can be written together: human tasks with no creation hook
        and no boundary event."""
        return {
            node
            for node, _case, _data_source in self.flow_task._activate_next
            if isinstance(node, flow.View) and node._on_create is None and not node._boundary_events
        }

    def _create_many(self, items: list[tuple[int, Any, Any]]) -> Iterator[Any]:
        """The human tasks of the split's branches, in one insert (and one for their links to
        this split), set up as viewflow's ``ViewActivation.create`` sets up each task."""
        if not items:
            return
        task_class = self.flow_class.task_class
        activations = []
        for number, node, data in items:
            task = task_class(
                process=self.process, flow_task=node, token=branch_token(self.task, number)
            )
            task.flow_task_type = node.task_type
            task.data = data if data is not None else {}
            task.seed = None
            activation = node.activation_class(task)
            permission = node.calc_owner_permission(activation)
            if permission:
                task.owner_permission = permission
                task.owner_permission_obj = node.calc_owner_permission_obj(activation)
            by_id = getattr(node, "_owner_id", None) is not None
            owner_id = node.calc_owner_id(activation) if by_id else None
            owner = None if by_id else node.calc_owner(activation)
            if owner_id is not None:
                task.owner_id = owner_id
                task.status = STATUS.ASSIGNED
            elif owner:
                task.owner = owner
                task.status = STATUS.ASSIGNED
            activations.append(activation)
        insert_tasks([activation.task for activation in activations])
        hand = held_cycle(self.process.pk)
        if hand is not None:
            for activation in activations:
                hand.link(activation.task, self.task)
        else:
            insert_links([(activation.task.pk, self.task.pk) for activation in activations])
        yield from activations


def activation_of(task: Any) -> Activation:
    """The task's activation, as ``task.activation()`` gives it, but without reading the task
    (and its process) again: the caller read it in this transaction, with the cycle's row locked
    by the service that moves it, which is the flow's own lock (:class:`CycleRowLock`)."""
    return task.flow_task.activation_class(task)


def cancel_waiting(tasks: Any) -> int:
    """Cancel the human tasks among ``tasks`` still waiting for someone, in one statement, as
    viewflow's ``ViewActivation.cancel`` cancels each one (new or assigned → canceled, finished
    now). A started task is never left waiting: it is started and done in one transaction."""
    return int(
        tasks.filter(status__in=(STATUS.NEW, STATUS.ASSIGNED))
        .order_by()
        .update(status=STATUS.CANCELED, finished=timezone.now())
    )


def cancel_waiting_of(process: Any, node: Any) -> None:
    """Cancel the human tasks of ``node`` in ``process`` still waiting for someone, as
    :func:`cancel_waiting` does; while a service holds the cycle, in the statement that writes
    the task the move completed (``CycleInHand.cancel_waiting``)."""
    hand = held_cycle(process.pk)
    if hand is not None:
        hand.cancel_waiting(process.pk, node)
        return
    cancel_waiting(
        process.flow_class.task_class._default_manager.filter(process=process, flow_task=node)
    )


def branch_token(split_task: Any, number: int) -> Token:
    """The token of the ``number``-th branch of a split: rooted at the start token."""
    root = str(split_task.token).split("/", 1)[0]
    return Token(f"{root}/{split_task.pk}_{number}")


def add_branch_task(node: Any, *, split_task: Any, number: int, data: dict[str, Any]) -> Activation:
    """Create one more task of ``node`` as the ``number``-th branch of ``split_task``'s split (a
    member who joins the panel after the split ran gets their sign-off task this way)."""
    split = split_task.flow_task.activation_class(split_task)
    return node._create(prev_activation=split, token=branch_token(split_task, number), data=data)


class Split(flow.Split):  # type: ignore[misc]
    """A parallel split whose branches may create one task per item of a data source."""

    activation_class = PerItemSplitActivation
    undo_view_class = None
    revive_view_class = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._task_data: list[Any] = []

    def Next(
        self,
        node: Any,
        case: Any = None,
        data_source: Any = None,
        task_data: Any = None,
    ) -> Split:
        """Add a branch to ``node``.

        ``data_source(activation)`` returns a list of dicts: one task per dict, ``task.data``
        set to it (none when the list is empty). Without it, one task, with ``task.data`` from
        ``task_data(activation)`` when given.
        """
        if data_source is not None and task_data is not None:
            raise ValueError("give a branch either a data source or task data, not both")
        self._activate_next.append((node, case, data_source))
        self._task_data.append(task_data)
        return self

    def Always(self, node: Any) -> Split:
        return self.Next(node)

    def _resolve(self, instance: Any) -> None:
        super()._resolve(instance)
        self._task_data = [this.resolve(instance, item) for item in self._task_data]

    def _ready(self) -> None:
        super()._ready()
        # Draw the parallel multi-instance marker on the targets of data-source branches.
        for node, _case, data_source in self._activate_next:
            if data_source is not None:
                node._multi_instance = True
